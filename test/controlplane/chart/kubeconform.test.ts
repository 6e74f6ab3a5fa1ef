/**
 * The kubeconform harness: schemas made from the running API server's OpenAPI and from
 * crds/ judge manifests as the pinned Kubernetes version and our CRDs would.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../../harness/env/layout.js';
import { fixtureText } from '../../harness/fixtures.js';
import {
  kubeconformKubernetesVersion,
  kubeconformSchemaLocations,
  repoFileText,
  runKubeconform,
} from '../../harness/kubeconform.js';

interface Case {
  metadata: { name: string; annotations: Record<string, string> };
}

describe('kubeconform with schemas made here', () => {
  it("writes standalone strict schemas of the pinned version: built-in kinds, ours, the Prometheus Operator's", async () => {
    const [builtIn = '', crds = '', monitoring = ''] = await kubeconformSchemaLocations();
    const dir = `v${kubeconformKubernetesVersion()}-standalone-strict`;
    expect(readdirSync(join(builtIn, dir))).toEqual(
      expect.arrayContaining([
        'deployment-apps-v1.json',
        'service-v1.json',
        'clusterrole-rbac-v1.json',
      ]),
    );
    expect(readdirSync(join(crds, dir)).sort()).toEqual([
      'backup-pgbackup-v1alpha1.json',
      'backuppolicy-pgbackup-v1alpha1.json',
      'restore-pgbackup-v1alpha1.json',
    ]);
    expect(readdirSync(join(monitoring, dir))).toEqual(
      expect.arrayContaining([
        'servicemonitor-monitoring-v1.json',
        'prometheusrule-monitoring-v1.json',
      ]),
    );
  });

  it('accepts what the API server accepts and names the field it refuses', async () => {
    const text = fixtureText('chart/kubeconform-cases.yaml');
    const cases = parseAllDocuments(text).map((document) => document.toJS() as Case);
    const results = await runKubeconform(text);
    expect(results).toHaveLength(cases.length);
    for (const { metadata } of cases) {
      const expected = metadata.annotations['pgbackup.dev/expect'] ?? '';
      const result = results.find((entry) => entry.name === metadata.name);
      if (expected === 'valid') {
        expect(result?.status, metadata.name).toBe('statusValid');
      } else {
        expect(result?.status, metadata.name).not.toBe('statusValid');
        expect(result?.msg, metadata.name).toContain(expected);
      }
    }
  });

  it('accepts every committed example policy and Backup', async () => {
    const examples = readdirSync(join(repoRoot, 'examples')).filter((file) =>
      file.endsWith('.yaml'),
    );
    const text = examples.map((file) => repoFileText(`examples/${file}`)).join('\n---\n');
    const results = await runKubeconform(text);
    expect(results.length).toBeGreaterThanOrEqual(examples.length);
    expect(results.filter((result) => result.status !== 'statusValid')).toEqual([]);
  });
});
