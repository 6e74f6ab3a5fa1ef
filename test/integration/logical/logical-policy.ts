/**
 * Policy files for the logical tests: test/fixtures/logical/weekly.yaml with the test's own
 * namespace, bucket prefix, hosts, databases and endpoint (the binary tests' writer, reused).
 */
import { type TestPolicy, writeTestPolicy } from '../binary/policy-file.js';

/** A logical policy written for one test. */
export interface LogicalPolicy extends TestPolicy {
  /** `<prefix>/<namespace>/<name>/logical/`. */
  readonly logicalPrefix: string;
}

type Edit = Parameters<typeof writeTestPolicy>[1];

/** Writes the weekly logical policy dumping `databases` (empty: every database). */
export async function writeLogicalPolicy(
  databases: readonly string[],
  edit: Edit = () => undefined,
): Promise<LogicalPolicy> {
  const policy = await writeTestPolicy('../logical/weekly.yaml', (document) => {
    (document.spec.logical as { databases: string[] }).databases = [...databases];
    edit?.(document);
  });
  return {
    ...policy,
    logicalPrefix: `${policy.prefix}/${policy.namespace}/${policy.name}/logical/`,
  };
}

/** The arguments of a logical run of a line of the policy at an instant. */
export function logicalRunArgs(policy: TestPolicy, line: string, at: string): string[] {
  return ['--type', 'logical', '--line', line, '-f', policy.file, '--at', at];
}
