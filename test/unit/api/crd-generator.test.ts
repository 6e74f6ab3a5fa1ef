import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toStructuralSchema } from '../../../src/api/crd/structural-schema.js';
import {
  buildBackupCrd,
  buildBackupPolicyCrd,
  type CustomResourceDefinition,
  DEFAULT_KEEP,
  renderCrdFiles,
} from '../../../src/api/index.js';
import { loadFixture, REPO_ROOT } from '../../fixtures/policies/load-fixtures.js';

type Node = { [key: string]: unknown };

function schemaOf(crd: CustomResourceDefinition): Node {
  const version = crd.spec.versions[0];
  if (version === undefined) {
    throw new Error('the CRD has no version');
  }
  return version.schema.openAPIV3Schema;
}

function field(node: Node, path: string): Node {
  let current = node;
  for (const name of path.split('.')) {
    current = (current.properties as Record<string, Node>)[name] as Node;
  }
  return current;
}

/** Every schema node under `node`, with its path. */
function* walk(node: Node, path: string): Generator<[string, Node]> {
  yield [path, node];
  for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, Node>)) {
    yield* walk(child, `${path}.${name}`);
  }
  if (node.items !== undefined) {
    yield* walk(node.items as Node, `${path}[*]`);
  }
  if (typeof node.additionalProperties === 'object') {
    yield* walk(node.additionalProperties as Node, `${path}[*]`);
  }
}

/** The API server's defaulting, as in apiextensions-apiserver's structural defaulting. */
function applyDefaults(value: unknown, node: Node): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return Array.isArray(value) && node.items !== undefined
      ? value.map((item) => applyDefaults(item, node.items as Node))
      : value;
  }
  const result: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, Node>)) {
    if (result[name] === undefined && child.default !== undefined) {
      result[name] = structuredClone(child.default);
    }
    if (result[name] !== undefined) {
      result[name] = applyDefaults(result[name], child);
    }
  }
  return result;
}

const crds = [buildBackupPolicyCrd(), buildBackupCrd()];

describe('CRD generator', () => {
  it.each(renderCrdFiles().map((file) => [file.path, file] as const))(
    'wrote %s as the schemas say (run `npm run gen:crds` after changing src/api)',
    (path, file) => {
      expect(readFileSync(`${REPO_ROOT}${path}`, 'utf8')).toBe(file.content);
    },
  );

  it.each(crds.map((crd) => [crd.metadata.name, crd] as const))(
    '%s is structural: a type everywhere, no references or unions but int-or-string',
    (_name, crd) => {
      for (const [path, node] of walk(schemaOf(crd), '')) {
        const intOrString = node['x-kubernetes-int-or-string'] === true;
        expect(typeof node.type === 'string' || intOrString, `${path} has no type`).toBe(true);
        for (const keyword of ['$ref', 'allOf', 'oneOf', 'not', 'const', '$schema']) {
          expect(node, `${path} has ${keyword}`).not.toHaveProperty(keyword);
        }
        expect(intOrString || node.anyOf === undefined, `${path} has anyOf`).toBe(true);
        expect(node.additionalProperties, `${path} forbids additional properties`).not.toBe(false);
      }
    },
  );

  it.each(crds.map((crd) => [crd.metadata.name, crd] as const))(
    '%s describes every field',
    (_name, crd) => {
      const undocumented = [...walk(schemaOf(crd), '')]
        .filter(([path]) => path !== '.metadata' && !path.endsWith('[*]'))
        .filter(([, node]) => typeof node.description !== 'string' || node.description === '')
        .map(([path]) => path);
      expect(undocumented).toEqual([]);
    },
  );

  it('fills the minimal policy with the same defaults as zod', () => {
    const minimal = loadFixture('test/fixtures/policies/minimal.yaml').doc as { spec: unknown };
    const spec = field(schemaOf(buildBackupPolicyCrd()), 'spec');
    expect(applyDefaults(minimal.spec, spec)).toEqual(
      loadFixture('test/fixtures/policies/minimal-defaulted.yaml').doc,
    );
  });

  it('documents lines with their defaults and the allowed range of keep', () => {
    const lines = field(schemaOf(buildBackupPolicyCrd()), 'spec.binary.lines');
    expect(lines.default).toEqual(DEFAULT_KEEP);
    const daily = field(lines, 'daily');
    expect(daily).toMatchObject({ type: 'integer', minimum: 1, maximum: 100 });
    expect(daily.description).toMatch(/from 1 to 100/);
    expect(Object.keys(lines.properties as Node)).toEqual(Object.keys(DEFAULT_KEEP));
    const logical = field(schemaOf(buildBackupPolicyCrd()), 'spec.logical.lines');
    expect(Object.keys(logical.properties as Node)).not.toContain('daily');
  });

  it('carries the cross-field rules as CEL with the field they are about', () => {
    const spec = field(schemaOf(buildBackupPolicyCrd()), 'spec');
    expect(spec['x-kubernetes-validations']).toEqual([
      expect.objectContaining({ fieldPath: '.storage', reason: 'FieldValueRequired' }),
      expect.objectContaining({ fieldPath: '.storage', reason: 'FieldValueRequired' }),
      expect.objectContaining({ fieldPath: '.continuous.enabled' }),
      expect.objectContaining({ fieldPath: '.storage.encryption.identity.secretKeyRef.name' }),
      expect.objectContaining({
        fieldPath: '.storage.encryption.identity',
        reason: 'FieldValueRequired',
      }),
    ]);
    expect(field(spec, 'target')['x-kubernetes-validations']).toEqual([
      {
        rule: '[has(self.selector), has(self.preset), has(self.hosts)].filter(set, set).size() == 1',
        message: 'exactly one of selector, preset or hosts must be set',
      },
    ]);
    expect(field(spec, 'binary')['x-kubernetes-validations']).toContainEqual(
      expect.objectContaining({ fieldPath: '.local' }),
    );
    expect(field(spec, 'target.hosts')['x-kubernetes-list-type']).toBe('set');
  });

  it('types quantities as int-or-string with the Kubernetes pattern', () => {
    const limits = field(schemaOf(buildBackupPolicyCrd()), 'spec.jobTemplate.resources.limits');
    expect(limits.additionalProperties).toMatchObject({
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      'x-kubernetes-int-or-string': true,
    });
  });

  it('gives both resources a status subresource, short names and the pgbackup category', () => {
    const [policy, backup] = crds;
    expect(policy?.spec.names).toMatchObject({ shortNames: ['bp'], categories: ['pgbackup'] });
    expect(backup?.spec.names).toMatchObject({ shortNames: ['pgb'], categories: ['pgbackup'] });
    for (const crd of crds) {
      expect(crd.spec.versions[0]?.subresources).toEqual({ status: {} });
      expect(crd.spec.scope).toBe('Namespaced');
    }
  });

  it('prints the columns people look for', () => {
    const columns = (crd: CustomResourceDefinition | undefined) =>
      crd?.spec.versions[0]?.additionalPrinterColumns.map((column) => column.name);
    expect(columns(crds[0])).toEqual(['Ready', 'WAL', 'Last Backup', 'Next Backup', 'Age']);
    expect(columns(crds[1])).toEqual(['Type', 'Line', 'Slot', 'Phase', 'Size', 'Started', 'Age']);
  });

  it('refuses schemas a structural schema cannot express', () => {
    expect(() => toStructuralSchema(z.union([z.string(), z.boolean()]), 'x')).toThrow(/anyOf/);
    expect(() => toStructuralSchema(z.unknown(), 'x')).toThrow(/needs a type/);
  });
});
