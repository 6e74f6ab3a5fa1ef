/**
 * The kind scenario cannot run here (no Docker), so what it applies and runs is checked
 * statically: the script parses (and passes shellcheck where installed), its manifests
 * validate for the pinned Kubernetes, and their pods meet the `restricted` level the
 * scenario's namespace enforces (the API server's own Pod Security warnings, on a dry run).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../harness/env/layout.js';
import { adminKubeConfig, createTestNamespace, runKubectl } from '../../harness/kube.js';
import { runKubeconform } from '../../harness/kubeconform.js';

const KIND_DIR = join(repoRoot, 'test', 'e2e', 'kind');
const SCRIPT = join(KIND_DIR, 'run.sh');
const MANIFESTS = readdirSync(join(KIND_DIR, 'manifests')).map((file) =>
  join(KIND_DIR, 'manifests', file),
);
const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;

describe('the kind scenario (test/e2e/kind)', () => {
  it('is a script bash can parse', () => {
    expect(() => execFileSync('bash', ['-n', SCRIPT], { stdio: 'pipe' })).not.toThrow();
  });

  it.skipIf(!hasShellcheck)('passes shellcheck', () => {
    const result = spawnSync('shellcheck', [SCRIPT], { encoding: 'utf8' });
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it('applies manifests kubeconform accepts for the pinned Kubernetes', async () => {
    const text = MANIFESTS.map((file) => readFileSync(file, 'utf8')).join('\n---\n');
    const results = await runKubeconform(text);
    expect(results.length).toBeGreaterThan(0);
    expect(results.filter((result) => result.status !== 'statusValid')).toEqual([]);
  });

  it('runs pods the restricted level admits', async () => {
    const namespace = await createTestNamespace(adminKubeConfig(), {
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/warn-version': 'latest',
    });
    for (const file of MANIFESTS) {
      const result = await runKubectl(['apply', '--dry-run=server', '-n', namespace, '-f', file]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr, file).not.toContain('PodSecurity');
    }
    await runKubectl(['delete', 'namespace', namespace, '--wait=false']);
  });
});
