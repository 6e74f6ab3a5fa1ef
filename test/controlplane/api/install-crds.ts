import { renderCrdFiles } from '../../../src/api/index.js';
import { REPO_ROOT } from '../../fixtures/policies/load-fixtures.js';
import { runKubectl } from '../../harness/kube.js';

const FIELD_MANAGER = 'pgbackup-tests';

async function kubectlOrThrow(args: string[]): Promise<string> {
  const result = await runKubectl(args);
  if (result.code !== 0) {
    throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  }
  return result.stdout;
}

/**
 * Applies the committed CRDs and waits until the API server serves them. CRDs are cluster
 * scoped and shared by every test file, so this is a server-side apply: running it again, or
 * from several files at once, converges on the same objects.
 */
export async function installCrds(): Promise<void> {
  const files = renderCrdFiles().map((file) => `${REPO_ROOT}${file.path}`);
  await kubectlOrThrow([
    'apply',
    '--server-side',
    '--force-conflicts',
    `--field-manager=${FIELD_MANAGER}`,
    ...files.flatMap((file) => ['-f', file]),
  ]);
  await kubectlOrThrow([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    ...files.flatMap((file) => ['-f', file]),
  ]);
}
