/**
 * The fault matrix's file-mode runs: the policy fixture (test/fixtures/faults/policy.yaml)
 * written with a row's hosts, bucket, endpoint (MinIO directly, or a fault proxy in front of
 * it) and prefix, and `pgbackup run` started on it as a CronJob would run it.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { fixtureYaml } from '../harness/fixtures.js';
import { runEnvironment, type StartedRun, startPgbackupRun } from '../harness/pgbackup-run.js';
import { testPrefix } from '../harness/s3.js';
import { requireEnv } from '../harness/variables.js';

/** The namespace and name every row's policy has: only the prefix differs between rows. */
export const POLICY = { namespace: 'faults', name: 'orders' } as const;

/** A row's policy file. */
export interface FaultPolicy {
  readonly file: string;
  readonly bucket: string;
  /** The policy's s3 prefix (no trailing slash). */
  readonly prefix: string;
  /** `<prefix>/<namespace>/<name>/binary/`: where its binary backups live. */
  readonly binaryPrefix: string;
  readonly localDir: string;
}

interface PolicyDocument {
  metadata: { name: string; namespace: string };
  spec: {
    target: { hosts: string[] };
    storage: { s3: Record<string, unknown> };
    binary: Record<string, unknown>;
    schedule: Record<string, unknown>;
    [field: string]: unknown;
  };
}

/** What a row's policy needs. */
export interface FaultPolicyInput {
  /** `host:port` of the servers, as spec.target.hosts lists them. */
  readonly hosts: readonly string[];
  readonly bucket: string;
  /** The S3 endpoint runs use: MinIO's, or a fault proxy's. */
  readonly endpoint: string;
  /** The prefix; a fresh one by default. */
  readonly prefix?: string;
  /** Further changes (a local copy, lateness). */
  readonly edit?: (policy: PolicyDocument) => void;
}

/** Writes the fixture with the row's values. */
export async function writeFaultPolicy(input: FaultPolicyInput): Promise<FaultPolicy> {
  const policy = fixtureYaml<PolicyDocument>('faults/policy.yaml');
  const prefix = input.prefix ?? testPrefix();
  policy.metadata.namespace = POLICY.namespace;
  policy.spec.target.hosts = [...input.hosts];
  Object.assign(policy.spec.storage.s3, {
    bucket: input.bucket,
    prefix,
    endpoint: input.endpoint,
    region: requireEnv('AWS_REGION'),
    forcePathStyle: true,
  });
  input.edit?.(policy);
  const dir = await mkdtemp(join(tmpdir(), 'pgbackup-faults-'));
  const file = join(dir, 'policy.yaml');
  await writeFile(file, stringify(policy));
  return {
    file,
    bucket: input.bucket,
    prefix,
    binaryPrefix: `${prefix}/${POLICY.namespace}/${POLICY.name}/binary/`,
    localDir: join(dir, 'local'),
  };
}

/** Starts `pgbackup run --type TYPE --line LINE -f FILE --at AT --local-dir DIR`. */
export function startFaultRun(
  policy: FaultPolicy,
  run: { readonly line: string; readonly at: string; readonly type?: 'binary' | 'logical' },
  env: Readonly<Record<string, string | undefined>> = {},
): StartedRun {
  const { line, at, type = 'binary' } = run;
  const args = ['--type', type, '--line', line, '-f', policy.file, '--at', at];
  const local = type === 'binary' ? ['--local-dir', policy.localDir] : [];
  return startPgbackupRun([...args, ...local], runEnvironment(env));
}
