/**
 * The objects of a logical backup: the globals (`pg_dumpall --globals-only`) as `globals.sql`,
 * beside one `pg_dump -Fc` per database as `<name>.dump` (the databases one after the other),
 * each streamed to its own object with its SHA-256. A dump a replica cancels for a recovery
 * conflict is retried once; a second cancellation fails the run with the settings that
 * prevent it.
 */
import {
  canReadRolePasswords,
  type DatabaseEntry,
  type DumpCompressionSettings,
  type DumpConnection,
  type DumpProcess,
  formatEndpoint,
  listDumpableDatabases,
  locatePgTool,
  RecoveryConflictError,
  readStandbySettings,
  type ServerSession,
  startDatabaseDump,
  startGlobalsDump,
  toolVersion,
} from '../postgres/index.js';
import { type BackupManifest, partSizeFor } from '../storage/index.js';
import { dumpCompressionRefusal, majorOfToolVersion } from './compression-support.js';
import { RunError } from './errors.js';
import type { BackupTarget } from './run-backup.js';
import type { RunInput } from './run-types.js';
import { storedNameOf, streamToStores } from './stream-backup.js';

/** The object of the globals. */
export const GLOBALS_OBJECT = 'globals.sql';

/**
 * The object of a database's dump: its name with every byte outside `A-Z a-z 0-9 _ . -`
 * percent-encoded (UTF-8), so any name is one safe key segment (`café` → `caf%C3%A9.dump`).
 */
export function dumpObjectNameOf(database: string): string {
  const encoded = encodeURIComponent(database).replace(
    /[!'()*~]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${encoded}.dump`;
}

/** The databases to dump: every one the server lists, or those the policy names. */
function selectDatabases(
  input: RunInput,
  available: readonly DatabaseEntry[],
  where: string,
): DatabaseEntry[] {
  const listed = input.spec.logical.databases;
  if (listed.length === 0) return [...available];
  const missing = listed.filter((name) => !available.some((entry) => entry.name === name));
  if (missing.length > 0) {
    throw new RunError(
      `spec.logical.databases of BackupPolicy ${input.namespace}/${input.policy} lists ${missing.map((name) => `"${name}"`).join(', ')}, which ${where} does not have (or which accept no connections, or are templates); it has ${available.map((entry) => `"${entry.name}"`).join(', ')}. Correct the list, or empty it to dump every database`,
    );
  }
  return available.filter((entry) => listed.includes(entry.name));
}

/** One object to write: its name, the dump that writes it, and its expected size. */
interface DumpJob {
  readonly name: string;
  readonly what: string;
  readonly sizeBytes: number;
  start(): DumpProcess;
}

type StoredObject = BackupManifest['objects'][number];

async function conflictMessage(session: ServerSession, error: RecoveryConflictError) {
  const settings = await readStandbySettings(session.client, session.endpoint).catch(() => ({
    hotStandbyFeedback: 'unknown',
    maxStandbyStreamingDelay: 'unknown',
  }));
  return `${error.message}\nIt was retried once and cancelled again. To keep the replica from cancelling dumps, set hot_standby_feedback = on on it (now ${settings.hotStandbyFeedback}; the primary then keeps the rows the dump may still read), or raise max_standby_streaming_delay (now ${settings.maxStandbyStreamingDelay}) above the longest dump (replay then waits for the dump, and the replica falls behind meanwhile)`;
}

/** Tries of a dump the replica cancels for a recovery conflict: the first and one retry. */
const CONFLICT_ATTEMPTS = 2;

async function writeObject(
  input: RunInput,
  session: ServerSession,
  job: DumpJob,
  target: BackupTarget,
): Promise<StoredObject> {
  const name = storedNameOf(job.name, target.recipients);
  const key = `${target.key}${name}`;
  input.logger.info({ object: name, key }, `dumping ${job.what}`);
  for (let attempt = 1; ; attempt += 1) {
    try {
      const streamed = await streamToStores(job.start(), {
        targets: target.stores.map((store) => ({ store, key })),
        partSizeBytes: partSizeFor(job.sizeBytes),
        signal: target.signal,
        recipients: target.recipients,
      });
      return { name, ...streamed.digest };
    } catch (error) {
      if (!(error instanceof RecoveryConflictError)) throw error;
      if (attempt === CONFLICT_ATTEMPTS) {
        throw new RecoveryConflictError(await conflictMessage(session, error), { cause: error });
      }
      input.logger.warn({ object: name, err: error }, 'recovery conflict; retrying the dump once');
    }
  }
}

interface Tools {
  readonly pgDump: string;
  readonly pgDumpall: string;
  /** `--version` of each, for the manifest. */
  readonly versions: { readonly pgDump: string; readonly pgDumpall: string };
  readonly compression: DumpCompressionSettings;
  readonly pgDumpMajor: number;
}

/** Finds the tools and checks that this pg_dump writes the policy's compression. */
async function locateTools(input: RunInput, session: ServerSession): Promise<Tools> {
  const root = input.pgRoot;
  const locate = (tool: 'pg_dump' | 'pg_dumpall') =>
    locatePgTool({ tool, major: session.major, orNewer: true, root });
  const [pgDump, pgDumpall] = [await locate('pg_dump'), await locate('pg_dumpall')];
  const [pgDumpVersion, pgDumpallVersion] = await Promise.all([
    toolVersion(pgDump),
    toolVersion(pgDumpall),
  ]);
  const pgDumpMajor = majorOfToolVersion(pgDumpVersion) ?? session.major;
  const { compression: algorithm, compressionLevel: level } = input.spec.logical;
  const compression = { algorithm, level };
  const refusal = dumpCompressionRefusal(compression, pgDumpMajor, session.major);
  if (refusal !== undefined) throw new RunError(refusal);
  return {
    pgDump,
    pgDumpall,
    versions: { pgDump: pgDumpVersion, pgDumpall: pgDumpallVersion },
    compression,
    pgDumpMajor,
  };
}

function jobsOf(
  databases: readonly DatabaseEntry[],
  connection: Omit<DumpConnection, 'binary'>,
  tools: Tools,
  withoutRolePasswords: boolean,
): { globals: DumpJob; databases: DumpJob[] } {
  const globals: DumpJob = {
    name: GLOBALS_OBJECT,
    what: 'the globals (roles, tablespaces)',
    sizeBytes: 0,
    start: () => startGlobalsDump({ ...connection, binary: tools.pgDumpall, withoutRolePasswords }),
  };
  return {
    globals,
    databases: databases.map((database) => ({
      name: dumpObjectNameOf(database.name),
      what: `database "${database.name}"`,
      sizeBytes: database.sizeBytes,
      start: () =>
        startDatabaseDump({
          ...connection,
          binary: tools.pgDump,
          database: database.name,
          compression: tools.compression,
          toolMajor: tools.pgDumpMajor,
        }),
    })),
  };
}

/** What a logical backup wrote, as the manifest records it. */
export interface DumpedBackup {
  readonly objects: StoredObject[];
  readonly tools: Record<string, string>;
}

/** Dumps the globals and the databases of the server into the target's stores. */
export async function dumpDatabases(
  input: RunInput,
  session: ServerSession,
  target: BackupTarget,
): Promise<DumpedBackup> {
  const where = formatEndpoint(session.endpoint);
  const available = await listDumpableDatabases(session.client, session.endpoint);
  const databases = selectDatabases(input, available, where);
  const tools = await locateTools(input, session);
  const withoutRolePasswords = !(await canReadRolePasswords(session.client, session.endpoint));
  if (withoutRolePasswords) {
    input.logger.warn(
      { role: input.credentials.username },
      'the role cannot read pg_authid: the globals are dumped without role passwords',
    );
  }
  const connection = {
    endpoint: session.endpoint,
    credentials: input.credentials,
    // Marks every session of this run on the server (pg_stat_activity, log_connections).
    applicationName: `pgbackup-logical-${target.id}`,
  };
  const jobs = jobsOf(databases, connection, tools, withoutRolePasswords);
  // The globals are small: they go beside the databases' dumps instead of before them.
  const [globals, perDatabase] = await settleAll([
    writeObject(input, session, jobs.globals, target),
    dumpInTurn(input, session, jobs.databases, target),
  ] as const);
  return {
    objects: [globals, ...perDatabase],
    tools: {
      pg_dump: tools.versions.pgDump,
      pg_dumpall: tools.versions.pgDumpall,
      pgbackup: 'pgbackup-operator',
    },
  };
}

/**
 * Waits for every part, then returns their values or throws the first failure: nothing is
 * left writing behind a failed run.
 */
async function settleAll<T extends readonly unknown[]>(
  parts: { readonly [K in keyof T]: Promise<T[K]> },
): Promise<T> {
  const settled = await Promise.allSettled(parts);
  const failed = settled.find((part) => part.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return settled.map((part) => (part as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** The databases' dumps, one after the other (one dump's load on the server at a time). */
async function dumpInTurn(
  input: RunInput,
  session: ServerSession,
  jobs: readonly DumpJob[],
  target: BackupTarget,
): Promise<StoredObject[]> {
  const objects: StoredObject[] = [];
  for (const job of jobs) objects.push(await writeObject(input, session, job, target));
  return objects;
}
