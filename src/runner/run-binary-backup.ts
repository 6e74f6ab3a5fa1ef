/**
 * A binary backup: pg_basebackup of the primary, streamed to every store, with a replication
 * slot holding the WAL it fetches at the end. The rest of the run is the shared path.
 */
import {
  ARCHIVE_NAMES,
  type BinaryCompressionSettings,
  type Credentials,
  createReplicationSlot,
  discoverPrimary,
  dropReplicationSlot,
  formatEndpoint,
  listUserTablespaces,
  locatePgTool,
  type Primary,
  replicationSlotNameOf,
  toolVersion,
  totalDatabaseSizeBytes,
} from '../postgres/index.js';
import { partSizeFor } from '../storage/index.js';
import { binaryCompressionRefusal, compressionSettingsOf } from './compression-support.js';
import { RunError } from './errors.js';
import { type BackupKind, type BackupTarget, runBackup, type TakenBackup } from './run-backup.js';
import type { RunInput, RunResult } from './run-types.js';
import { storedNameOf, streamBaseBackup } from './stream-backup.js';

/** Everything a binary run needs: a run's input and the replication login. */
export interface BinaryRunInput extends RunInput {
  readonly replicationCredentials: Credentials;
}

async function checkTablespaces(primary: Primary): Promise<void> {
  const tablespaces = await listUserTablespaces(primary.client);
  if (tablespaces.length > 0) {
    const names = tablespaces.map((space) => `${space.name} (${space.location})`).join(', ');
    throw new RunError(
      `the primary ${formatEndpoint(primary.endpoint)} has tablespaces besides pg_default: ${names}. A streamed tar backup holds one tablespace only; move those tables to pg_default, or back this server up another way`,
    );
  }
}

interface Prepared {
  readonly binary: string;
  readonly toolMajor: number;
  readonly compression: BinaryCompressionSettings;
  readonly partSizeBytes: number;
  readonly tools: Record<string, string>;
}

/** What is checked and looked up before the slot is created. */
async function prepare(input: BinaryRunInput, primary: Primary): Promise<Prepared> {
  await checkTablespaces(primary);
  const binary = await locatePgTool({
    tool: 'pg_basebackup',
    major: primary.major,
    root: input.pgRoot,
  });
  const { compression, compressionLevel, compressionWorkers } = input.spec.binary;
  const settings = { algorithm: compression, level: compressionLevel, workers: compressionWorkers };
  // pg_basebackup must match the server, so the server's major is the tool's.
  const refusal = binaryCompressionRefusal(settings, primary.major);
  if (refusal !== undefined) throw new RunError(refusal);
  return {
    binary,
    toolMajor: primary.major,
    compression: settings,
    partSizeBytes: partSizeFor(await totalDatabaseSizeBytes(primary.client)),
    tools: { pg_basebackup: await toolVersion(binary), pgbackup: 'pgbackup-operator' },
  };
}

async function streamFromPrimary(
  input: BinaryRunInput,
  primary: Primary,
  prepared: Prepared,
  target: BackupTarget,
): Promise<TakenBackup> {
  const { binary, partSizeBytes, tools, compression, toolMajor } = prepared;
  const archive = storedNameOf(ARCHIVE_NAMES[compression.algorithm], target.recipients);
  input.logger.info(
    { primary: formatEndpoint(primary.endpoint), key: target.key, partSizeBytes },
    'streaming pg_basebackup',
  );
  const streamed = await streamBaseBackup({
    backup: {
      binary,
      endpoint: primary.endpoint,
      credentials: input.replicationCredentials,
      compression,
      toolMajor,
      checkpoint: input.spec.binary.checkpoint,
      label: `pgbackup ${input.namespace}/${input.policy} ${input.line ?? 'on-demand'} ${target.id}`,
    },
    targets: target.stores.map((store) => ({ store, key: `${target.key}${archive}` })),
    partSizeBytes,
    signal: target.signal,
    recipients: target.recipients,
  });
  return {
    objects: [{ name: archive, ...streamed.digest }],
    compression: compression.algorithm,
    ...compressionSettingsOf(compression),
    tools,
    startLsn: streamed.startLsn,
    stopLsn: streamed.stopLsn,
    startTimeline: streamed.startTimeline,
  };
}

/** The binary kind: the primary, its replication slot, pg_basebackup. */
function binaryKind(input: BinaryRunInput): BackupKind {
  const slotName = replicationSlotNameOf(input.namespace, input.policy);
  return {
    type: 'binary',
    findSource: async () => ({
      session: await discoverPrimary({
        endpoints: input.endpoints,
        credentials: input.credentials,
        selection: input.selection,
      }),
      role: 'primary',
    }),
    cleanUpServer: async ({ session }) => {
      if (await dropReplicationSlot(session.client, slotName)) {
        input.logger.warn(
          { slot: slotName },
          'dropped the replication slot a previous run left behind',
        );
      }
    },
    take: async ({ session }, target) => {
      const prepared = await prepare(input, session);
      await createReplicationSlot(session.client, slotName);
      try {
        return await streamFromPrimary(input, session, prepared, target);
      } finally {
        // A failure here must not hide the run's own error; the next run drops a leftover slot.
        await dropReplicationSlot(session.client, slotName).catch((error: unknown) =>
          input.logger.error(
            { err: error, slot: slotName },
            'could not drop the replication slot; the next run of this policy drops it',
          ),
        );
      }
    },
  };
}

/**
 * Runs one binary backup of a line (or on demand): see {@link runBackup}.
 *
 * @throws RunError, PostgresError or StorageError with a message a person can act on; nothing
 *   is deleted then.
 */
export function runBinaryBackup(input: BinaryRunInput): Promise<RunResult> {
  return runBackup(input, binaryKind(input));
}
