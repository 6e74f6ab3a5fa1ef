import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBackupPolicy } from '../../../src/api/index.js';
import {
  loadExamples,
  loadFixture,
  loadInvalidFixtures,
} from '../../fixtures/policies/load-fixtures.js';
import { parseManifest } from '../../fixtures/policies/parse-manifest.js';
import { adminKubeConfig, createTestNamespace, runKubectl } from '../../harness/kube.js';
import { installCrds } from './install-crds.js';

const examples = loadExamples();
const invalid = loadInvalidFixtures();

let namespace = '';

beforeAll(async () => {
  await installCrds();
  namespace = await createTestNamespace(adminKubeConfig());
});

afterAll(async () => {
  if (namespace !== '') {
    await runKubectl(['delete', 'namespace', namespace, '--wait=false']);
  }
});

/** `kubectl create` with the API server's full validation (strict fields, OpenAPI, CEL). */
function create(text: string, ...extra: string[]) {
  return runKubectl(['create', '--namespace', namespace, '--filename', '-', ...extra], {
    input: text,
  });
}

async function eventually<T>(attempt: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`gave up after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe('the API server with the generated CRDs', () => {
  it.each(examples.map((example) => [example.file, example] as const))(
    'accepts %s',
    async (_file, example) => {
      const result = await create(example.text);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    },
  );

  it.each(
    invalid
      .filter((fixture) => fixture.apiServer === 'rejects')
      .map((fixture) => [fixture.file, fixture] as const),
  )('rejects %s, naming the field', async (_file, fixture) => {
    const result = await create(fixture.text, '--dry-run=server');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(fixture.expectPath);
  });

  it.each(
    invalid
      .filter((fixture) => fixture.apiServer === 'accepts')
      .map((fixture) => [fixture.file, fixture] as const),
  )('accepts %s, which only zod can reject', async (_file, fixture) => {
    const result = await create(fixture.text, '--dry-run=server');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('fills in the same defaults as zod for the minimal policy', async () => {
    const minimal = loadFixture('test/fixtures/policies/minimal.yaml');
    const result = await create(minimal.text, '--dry-run=server', '--output=json');
    expect(result.code).toBe(0);
    const stored = JSON.parse(result.stdout) as { spec: unknown };
    const parsed = parseBackupPolicy(minimal.doc);
    expect(parsed.ok).toBe(true);
    expect(stored.spec).toEqual(parsed.value?.spec);
    expect(stored.spec).toEqual(loadFixture('test/fixtures/policies/minimal-defaulted.yaml').doc);
  });

  it('keeps a Backup spec immutable', async () => {
    const created = await create(
      'apiVersion: pgbackup.dev/v1alpha1\nkind: Backup\nmetadata: {name: immutable}\nspec: {policy: orders, type: binary}\n',
    );
    expect(created.code).toBe(0);
    const patched = await runKubectl([
      'patch',
      'backups.pgbackup.dev',
      'immutable',
      '--namespace',
      namespace,
      '--type=merge',
      '--patch',
      '{"spec":{"type":"logical"}}',
    ]);
    expect(patched.code).not.toBe(0);
    expect(patched.stderr).toContain('spec: Invalid value');
    expect(patched.stderr).toContain('is immutable');
  });

  it('explains spec.binary.lines with the descriptions from the schemas', async () => {
    // The OpenAPI document is published a moment after the CRD is established.
    const explained = await eventually(async () => {
      const result = await runKubectl(['explain', 'backuppolicy.spec.binary.lines']);
      return result.code === 0 ? result.stdout : undefined;
    }, 30_000);
    expect(explained).toContain('Retention lines to take, each with the number of slots it keeps');
    expect(explained).toMatch(/daily\s+<integer>/);
    expect(explained).toContain('A whole number from 1 to 100.');
  });

  it('lists policies with the printer columns and under the pgbackup category', async () => {
    const policies = await runKubectl(['get', 'bp', '--namespace', namespace]);
    expect(policies.code).toBe(0);
    expect(policies.stdout.split('\n')[0]).toMatch(
      /^NAME\s+READY\s+WAL\s+LAST BACKUP\s+NEXT BACKUP\s+AGE$/,
    );
    const everything = await runKubectl(['get', 'pgbackup', '--namespace', namespace]);
    expect(everything.code).toBe(0);
    expect(everything.stdout).toContain('backuppolicy.pgbackup.dev/orders');
    expect(everything.stdout).toMatch(/TYPE\s+LINE\s+SLOT\s+PHASE\s+SIZE\s+STARTED\s+AGE/);
  });
});

describe('zod and the API server', () => {
  it('word the same rule the same way', async () => {
    const sameWords: string[] = [];
    for (const fixture of invalid.filter((candidate) => candidate.apiServer === 'rejects')) {
      const issue = parseManifest(fixture).issues?.[0];
      const server = await create(fixture.text, '--dry-run=server');
      if (issue !== undefined && server.stderr.includes(`${issue.path}: ${issue.message}`)) {
        sameWords.push(fixture.file.replace(/^.*\//, ''));
      }
    }
    // Rules written once for both (CEL and zod), enums, duplicates and required fields;
    // OpenAPI's own type and pattern messages are worded differently but name the field.
    expect(sameWords).toEqual(
      expect.arrayContaining([
        'target-two-kinds.yaml',
        'target-no-kind.yaml',
        'storage-missing.yaml',
        'kms-key-without-kms.yaml',
        'hosts-duplicate.yaml',
        'compression-brotli.yaml',
        'lateness-zero.yaml',
        'local-without-daily.yaml',
        'lines-empty.yaml',
        'selector-in-without-values.yaml',
        'toleration-exists-with-value.yaml',
        'credentials-missing.yaml',
        'backup-logical-daily.yaml',
      ]),
    );
  });
});
