/**
 * The tools bench/binary and bench/logical run, each a command measured by ./measure.ts into
 * its own prefix of the one bucket; what it stored is summed from the bucket, then deleted.
 * Secrets reach every tool through its environment (PGPASSWORD, AWS_ACCESS_KEY_ID, …), never
 * its arguments.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { RUNNER_NODE_OPTIONS } from '../../src/render/runner-pod.js';
import { repoRoot } from '../../test/harness/env/layout.js';
import { pgBinDir } from '../../test/harness/env/postgres.js';
import { type CommandSpec, measureCommand, type ToolRun } from './measure.js';
import {
  BUCKET,
  benchPolicy,
  deletePrefix,
  expirePgbackrest,
  listObjects,
  type PeerServers,
  PG_HOST,
  REGION,
} from './servers.js';

/** A run of a tool, and what it stored. */
export interface PeerRun extends ToolRun {
  readonly storedBytes: number;
}

/** A tool of a bench. */
export interface PeerTool {
  readonly name: string;
  /** The tool of ours this one is compared with (ours/this ratios); none for ours. */
  readonly comparedWith?: string;
  /** A variant of ours (encrypted): runs whatever BENCH_TOOLS selects, like ours. */
  readonly variantOfOurs?: boolean;
  /** One measured run, in round `round`. */
  run(round: number): Promise<PeerRun>;
}

/**
 * The compression every tool uses: zstd at `level`; `workers` zstd threads beside the reading
 * one where it applies (pg_basebackup's client-zstd:workers=N), 0 for compression on the
 * reading thread (pg_basebackup's default, and what pgBackRest's process-max 1 does).
 */
export interface Compression {
  readonly level: number;
  readonly workers: number;
}

function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'LANG', 'TZ', 'TMPDIR']) {
    if (process.env[key] !== undefined) env[key] = process.env[key];
  }
  return env;
}

/** The environment of a tool that logs in to the server and writes to the bucket. */
function toolEnv(servers: PeerServers, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...baseEnv(),
    HOME: servers.dir,
    PGUSER: process.env.PGUSER,
    PGPASSWORD: process.env.PGPASSWORD,
    AWS_ACCESS_KEY_ID: servers.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: servers.credentials.secretAccessKey,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    ...extra,
  };
}

/** Measures `spec`; the bytes under `prefix` afterwards are what it stored, then deleted. */
async function measureInto(
  servers: PeerServers,
  spec: CommandSpec,
  prefix: string,
  check: (keys: readonly string[]) => void = () => undefined,
): Promise<PeerRun> {
  try {
    const run = await measureCommand(spec, servers.accounting);
    const stored = await listObjects(servers, prefix);
    check(stored.map((object) => object.key));
    return { ...run, storedBytes: stored.reduce((sum, object) => sum + object.size, 0) };
  } finally {
    await deletePrefix(servers, prefix);
  }
}

// ---------------------------------------------------------------------------------------------
// Ours: `pgbackup run -f POLICY`, in file mode, as a CronJob runs it.

/** How ours is run. */
export interface OursOptions {
  /** The runner's entry point (the bundle the image runs). */
  readonly runner: string;
  readonly type: 'binary' | 'logical';
  /** spec.binary's zstd level and workers; none: the fixture's compression. */
  readonly compression?: Compression | undefined;
  /** More fields of spec.binary or spec.logical, set last (bench/compression's settings). */
  readonly fields?: Readonly<Record<string, unknown>> | undefined;
  /** Where `node --cpu-prof` writes the runner's profiles; none when undefined. */
  readonly cpuProfileDir?: string | undefined;
  /** More environment of the runner (an experiment's V8 or malloc settings). */
  readonly runnerEnv?: NodeJS.ProcessEnv | undefined;
  /** An age public key (age1…): the policy encrypts for it (spec.storage.encryption). */
  readonly encryptFor?: string | undefined;
}

/** spec.binary's compression fields: zstd at the level, `workers` threads when above 0. */
function binaryCompression(compression: Compression): Record<string, unknown> {
  return {
    compression: 'zstd',
    compressionLevel: compression.level,
    ...(compression.workers > 0 ? { compressionWorkers: compression.workers } : {}),
  };
}

async function writeOursPolicy(
  servers: PeerServers,
  options: OursOptions,
  file: string,
  prefix: string,
): Promise<void> {
  const fixture = options.type === 'binary' ? 'binary-policy.yaml' : 'logical-policy.yaml';
  const policy = await benchPolicy(fixture, {
    host: `${PG_HOST}:${servers.server.port}`,
    bucket: BUCKET,
    prefix,
    endpoint: servers.minio.endpoint,
  });
  if (options.encryptFor !== undefined) {
    policy.spec.storage.encryption = { recipients: [{ publicKey: options.encryptFor }] };
  }
  if (options.type === 'binary') {
    Object.assign(
      policy.spec.binary,
      options.compression === undefined ? {} : binaryCompression(options.compression),
      options.fields,
    );
  } else {
    // The bench's server is a primary alone; a cluster's runner would dump a replica.
    Object.assign(
      policy.spec.logical,
      { databases: ['bench'], fallbackToPrimary: true },
      options.fields,
    );
  }
  await writeFile(file, stringify(policy));
}

/**
 * NODE_OPTIONS of the runner: the runner Job's (RUNNER_NODE_OPTIONS), or BENCH_NODE_OPTIONS
 * (V8 settings to try; empty for Node's defaults), and with
 * BENCH_MEMORY_PROBE=DIR the probe that writes its memory peaks there (./memory-probe.ts).
 */
function runnerNodeOptions(): NodeJS.ProcessEnv {
  const probeDir = process.env.BENCH_MEMORY_PROBE;
  const options = [
    process.env.BENCH_NODE_OPTIONS ?? RUNNER_NODE_OPTIONS,
    probeDir === undefined ? '' : `--import ${join(repoRoot, 'bench', 'peers', 'memory-probe.ts')}`,
  ].filter((option) => option !== '');
  return {
    ...(options.length > 0 ? { NODE_OPTIONS: options.join(' ') } : {}),
    ...(probeDir === undefined ? {} : { BENCH_MEMORY_PROBE: probeDir }),
  };
}

/**
 * Refuses a run of ours that committed no backup (one manifest.json), and one that was to
 * encrypt but stored no age object (`.age`): before the runner encrypts, the encrypted variant
 * would measure a plain backup twice.
 */
function requireBackup(name: string, encrypted: boolean): (keys: readonly string[]) => void {
  return (keys) => {
    if (keys.filter((key) => key.endsWith('manifest.json')).length !== 1) {
      throw new Error(`${name}: the run committed no backup (${keys.join(', ')})`);
    }
    if (encrypted && !keys.some((key) => key.endsWith('.age'))) {
      throw new Error(
        `${name}: the policy encrypts (spec.storage.encryption), but the runner stored no .age object (${keys.join(', ')}): this runner does not encrypt yet`,
      );
    }
  };
}

export function oursTool(servers: PeerServers, name: string, options: OursOptions): PeerTool {
  return {
    name,
    ...(options.encryptFor === undefined ? {} : { variantOfOurs: true }),
    run: async (round) => {
      const prefix = `${name.replace(/\W+/g, '-')}/r${round}`;
      const policy = join(servers.dir, `${name.replace(/\W+/g, '-')}-policy.yaml`);
      await writeOursPolicy(servers, options, policy, prefix);
      const profile =
        options.cpuProfileDir === undefined
          ? []
          : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`];
      const [line, at] =
        options.type === 'binary'
          ? ['daily', '2026-03-02T01:30:00Z']
          : ['weekly', '2026-03-01T02:30:00Z'];
      const args = [...profile, options.runner, 'run', '--type', options.type, '--line', line];
      return measureInto(
        servers,
        {
          command: process.execPath,
          args: [...args, '-f', policy, '--at', at],
          cwd: repoRoot,
          env: toolEnv(servers, {
            NODE_EXTRA_CA_CERTS: servers.caFile,
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            ...runnerNodeOptions(),
            ...options.runnerEnv,
          }),
        },
        `${prefix}/`,
        requireBackup(name, options.encryptFor !== undefined),
      );
    },
  };
}

/**
 * `ours`' encrypted variant (`<ours> age`), compared with it, when there is a recipient
 * (BENCH_ENCRYPTION=1); none otherwise.
 */
export function encryptedVariants(
  servers: PeerServers,
  ours: string,
  options: OursOptions,
  recipient: string | undefined,
): PeerTool[] {
  if (recipient === undefined) return [];
  const tool = oursTool(servers, `${ours} age`, { ...options, encryptFor: recipient });
  return [{ ...tool, comparedWith: ours }];
}

// ---------------------------------------------------------------------------------------------
// The stock pipes: a PostgreSQL tool's stdout into `aws s3 cp -` (Debian's AWS CLI v2, as
// .ci/debian-packages.txt installs it; another `aws` earlier on PATH may be another version).

const AWS_CLI = '/usr/bin/aws';

/** A stock pipe: its name, what it is compared with, the producer's command line, the object. */
interface PipeSpec {
  readonly name: string;
  readonly comparedWith: string;
  readonly producer: readonly string[];
  readonly objectName: string;
}

function pipeTool(servers: PeerServers, spec: PipeSpec): PeerTool {
  const { name, comparedWith, objectName, producer: producerArgs } = spec;
  return {
    name,
    comparedWith,
    run: async (round) => {
      const prefix = `pipe-${name.replace(/\W+/g, '-')}/r${round}`;
      // bash: its pipefail makes a failing producer fail the run.
      const script = `set -o pipefail; "\${@:2:${producerArgs.length}}" | ${AWS_CLI} s3 cp - "$1" --endpoint-url "${servers.minio.endpoint}" --only-show-errors`;
      return measureInto(
        servers,
        {
          command: 'bash',
          args: ['-c', script, 'bash', `s3://${BUCKET}/${prefix}/${objectName}`, ...producerArgs],
          env: toolEnv(servers, { AWS_CA_BUNDLE: servers.caFile }),
        },
        `${prefix}/`,
      );
    },
  };
}

/** `pg_basebackup -D - -Ft -X fetch --compress=client-zstd:level=N[,workers=W] | aws s3 cp -`. */
export function basebackupPipeTool(
  servers: PeerServers,
  name: string,
  comparedWith: string,
  compression: Compression,
): PeerTool {
  const workers = compression.workers > 0 ? `,workers=${compression.workers}` : '';
  return pipeTool(servers, {
    name,
    comparedWith,
    producer: [
      join(pgBinDir(), 'pg_basebackup'),
      '--no-password',
      `--host=${PG_HOST}`,
      `--port=${servers.server.port}`,
      '-D',
      '-',
      '-Ft',
      '-X',
      'fetch',
      '--checkpoint=fast',
      `--compress=client-zstd:level=${compression.level}${workers}`,
    ],
    objectName: 'base.tar.zst',
  });
}

/** `pg_dump -Fc bench | aws s3 cp -`. */
export function dumpPipeTool(servers: PeerServers, comparedWith: string): PeerTool {
  return pipeTool(servers, {
    name: 'pg_dump -Fc | aws s3 cp',
    comparedWith,
    producer: [
      join(pgBinDir(), 'pg_dump'),
      '--no-password',
      `--host=${PG_HOST}`,
      `--port=${servers.server.port}`,
      '-Fc',
      'bench',
    ],
    objectName: 'bench.dump',
  });
}

// ---------------------------------------------------------------------------------------------
// pgBackRest: a full backup into its S3 repository, as the server's account.

export function pgbackrestTool(
  servers: PeerServers,
  processMax: number,
  comparedWith: string,
  compression: Compression,
): PeerTool {
  const backups = 'pgbackrest/backup/bench/';
  return {
    name: `pgBackRest process-max ${processMax}`,
    comparedWith,
    run: async () => {
      const before = new Set((await listObjects(servers, backups)).map((object) => object.key));
      const run = await measureCommand(
        {
          command: 'pgbackrest',
          args: [
            `--config=${servers.pgbackrest.configFile}`,
            `--stanza=${servers.pgbackrest.stanza}`,
            `--process-max=${processMax}`,
            '--compress-type=zst',
            `--compress-level=${compression.level}`,
            '--start-fast',
            '--type=full',
            'backup',
          ],
          env: { ...baseEnv(), HOME: servers.dir },
          runAs: servers.runAs,
        },
        servers.accounting,
      );
      const added = (await listObjects(servers, backups)).filter((o) => !before.has(o.key));
      await expirePgbackrest(servers);
      return { ...run, storedBytes: added.reduce((sum, object) => sum + object.size, 0) };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// barman-cloud-backup (Debian's barman-cli-cloud): gzip, its only algorithm of the three it
// has (gzip, bzip2, snappy) that is not far slower or far weaker; no zstd in 3.4.

export function barmanTool(servers: PeerServers, comparedWith: string): PeerTool {
  return {
    name: 'barman-cloud-backup gzip',
    comparedWith,
    run: async (round) => {
      const prefix = `barman/r${round}`;
      return measureInto(
        servers,
        {
          command: 'barman-cloud-backup',
          args: [
            '--cloud-provider=aws-s3',
            `--endpoint-url=${servers.minio.endpoint}`,
            '--gzip',
            '--immediate-checkpoint',
            '--jobs=1',
            `--host=${servers.socketDir}`,
            `--port=${servers.server.port}`,
            '--user=postgres',
            `s3://${BUCKET}/${prefix}`,
            'bench',
          ],
          env: toolEnv(servers, { AWS_CA_BUNDLE: servers.caFile }),
          runAs: servers.runAs,
        },
        `${prefix}/`,
      );
    },
  };
}
