/**
 * The logical restore drill (`pgbackup verify --type logical`): every database of the policy's
 * newest committed logical backup is downloaded (checked against the manifest), restored with
 * `pg_restore` into an empty throwaway server (initdb, Unix socket only), and compared with the
 * dump's own table of contents (`pg_restore -l`): each schema, table, view, materialized view,
 * sequence, index, constraint, foreign key, trigger, function, procedure and aggregate it lists
 * must exist afterwards, and each table must hold as many rows as the dump's COPY data. The dumps
 * are restored without owners, grants and tablespaces (the throwaway server has none of the
 * source's roles or directories). Everything the drill wrote is removed afterwards.
 */
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { locatePgTool } from '../postgres/index.js';
import {
  initThrowawayCluster,
  startThrowawayServer,
  THROWAWAY_SUPERUSER,
  type ThrowawayServer,
} from '../postgres/throwaway-server.js';
import { describeExit, lastLines, toolEnvironment } from '../postgres/tool-process.js';
import type { CatalogEntry } from '../storage/index.js';
import { type DumpedDatabase, dumpedDatabasesOf } from './logical-databases.js';
import {
  checkPreconditions,
  chooseNewestBackup,
  drillOutcome,
  type VerifyInput,
  type VerifyOutcome,
} from './verify-backup.js';
import { VerificationError } from './verify-errors.js';
import { runProgram } from './verify-programs.js';
import { majorOf } from './verify-restore.js';
import {
  type CatalogObject,
  CopyRowCounter,
  compareWithCatalog,
  describeKinds,
  describeShortfall,
  isQualifiedName,
  isShort,
  parseTocLine,
  type RowCounts,
  type TocEntry,
} from './verify-toc.js';

/** An empty cluster starts in seconds; this bounds a stuck one. */
const DEFAULT_START_TIMEOUT_MS = 5 * 60_000;
/** How many of pg_restore's error lines a message quotes. */
const ERROR_LINES = 10;

/** What {@link verifyNewestLogicalBackup} needs: the binary drill's, but no roles (the drill's server is empty). */
export type LogicalVerifyInput = Omit<VerifyInput, 'roles'>;

/** What the drill found for one database. */
interface DatabaseResult {
  readonly name: string;
  readonly problems: readonly string[];
  readonly summary: string;
  /** How long pg_restore took. */
  readonly restoreMs: number;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

/** The catalog's objects of the kinds the drill checks, named as the table of contents names them. */
const CATALOG_QUERY = `
WITH user_namespaces AS (
  SELECT oid, nspname FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    AND nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
),
extension_members AS (
  SELECT classid, objid FROM pg_depend WHERE deptype = 'e'
)
SELECT 'SCHEMA' AS kind, '- ' || n.nspname || ' ' AS prefix
  FROM user_namespaces n
  WHERE NOT EXISTS (SELECT 1 FROM extension_members e WHERE e.classid = 'pg_namespace'::regclass AND e.objid = n.oid)
UNION ALL
SELECT CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'TABLE' WHEN 'v' THEN 'VIEW'
         WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'INDEX' END,
       n.nspname || ' ' || c.relname || ' '
  FROM pg_class c JOIN user_namespaces n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'i', 'I')
    AND NOT EXISTS (SELECT 1 FROM extension_members e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid)
    -- An index of a constraint is the constraint's entry; a partition's index comes with its parent's.
    AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid AND k.contype IN ('p', 'u', 'x'))
    AND NOT (c.relkind IN ('i', 'I') AND c.relispartition)
UNION ALL
SELECT CASE k.contype WHEN 'f' THEN 'FK CONSTRAINT' ELSE 'CONSTRAINT' END,
       n.nspname || ' ' || c.relname || ' ' || k.conname || ' '
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN user_namespaces n ON n.oid = c.relnamespace
  WHERE k.contype IN ('p', 'u', 'x', 'f') AND k.conparentid = 0
    AND NOT EXISTS (SELECT 1 FROM extension_members e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid)
UNION ALL
SELECT 'TRIGGER', n.nspname || ' ' || c.relname || ' ' || t.tgname || ' '
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN user_namespaces n ON n.oid = c.relnamespace
  WHERE NOT t.tgisinternal AND t.tgparentid = 0
    AND NOT EXISTS (SELECT 1 FROM extension_members e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid)
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
       n.nspname || ' ' || p.proname || '('
  FROM pg_proc p JOIN user_namespaces n ON n.oid = p.pronamespace
  WHERE p.prokind IN ('f', 'p', 'a')
    AND NOT EXISTS (SELECT 1 FROM extension_members e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid)
`;

/** Connection options of the throwaway server: a conninfo wins over libpq's environment. */
function conninfoOf(server: ThrowawayServer, database: string): string {
  const quote = (value: string) => `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  return [
    `host=${quote(server.socketDir)}`,
    `port=${server.port}`,
    `user=${THROWAWAY_SUPERUSER}`,
    `dbname=${quote(database)}`,
    'sslmode=disable',
  ].join(' ');
}

/**
 * Runs pg_restore reading a dump, each line of its standard output given to `onLine` as it
 * comes (a listing or the data can be larger than memory should hold).
 *
 * @throws VerificationError with pg_restore's last lines when it fails
 */
function readDump(
  pgRestore: string,
  args: readonly string[],
  what: string,
  onLine: (line: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(pgRestore, [...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: toolEnvironment(process.env, undefined),
    });
    const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', onLine);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-16 * 1024);
    });
    child.on('error', (error) => reject(new Error(`cannot run ${pgRestore}: ${error.message}`)));
    // 'close' comes after stdout ended, so every line was seen.
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else {
        reject(
          new VerificationError(
            `pg_restore cannot read ${what} (${describeExit(code, signal)}):\n${lastLines(stderr, ERROR_LINES)}`,
          ),
        );
      }
    });
  });
}

/** The dump's table of contents (`pg_restore --list`). */
async function listToc(pgRestore: string, dumpFile: string, database: string) {
  const entries: TocEntry[] = [];
  await readDump(
    pgRestore,
    ['--list', dumpFile],
    `the table of contents of database "${database}"'s dump`,
    (line) => {
      const entry = parseTocLine(line);
      if (entry !== undefined) entries.push(entry);
    },
  );
  return entries;
}

/** The rows of each table's COPY data, read from the dump as a stream (never held whole). */
async function countDumpRows(pgRestore: string, dumpFile: string, database: string) {
  const counter = new CopyRowCounter();
  await readDump(
    pgRestore,
    ['--data-only', '--file=-', dumpFile],
    `the data of database "${database}"'s dump`,
    (line) => counter.line(line),
  );
  return counter.counts;
}

/** pg_restore's arguments: every entry tried (no --exit-on-error), without owners, grants, tablespaces. */
export function drillRestoreArguments(conninfo: string, dumpFile: string): string[] {
  return [
    '--no-password',
    '--no-owner',
    '--no-acl',
    '--no-tablespaces',
    '--no-subscriptions',
    '--no-publications',
    '--no-security-labels',
    `--dbname=${conninfo}`,
    dumpFile,
  ];
}

/** The error lines of pg_restore's stderr, with the statement that failed. */
function errorsOf(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter(
      (line) => /error:|ERROR:|Command was:/.test(line) && !/errors ignored on restore/.test(line),
    )
    .map((line) => line.trim());
}

async function createDatabase(server: ThrowawayServer, name: string): Promise<void> {
  const client = server.client(THROWAWAY_SUPERUSER, 'postgres');
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)} TEMPLATE template0`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The restored catalog, and the rows of each table the dump has data for. */
async function readRestored(
  server: ThrowawayServer,
  name: string,
  tables: readonly string[],
): Promise<{ catalog: CatalogObject[]; rows: Map<string, number> }> {
  const client = server.client(THROWAWAY_SUPERUSER, name);
  await client.connect();
  try {
    const catalog = (
      await client.query<{ kind: CatalogObject['kind']; prefix: string }>(CATALOG_QUERY)
    ).rows;
    const rows = new Map<string, number>();
    for (const table of tables) {
      const result = await client
        .query<{ count: string }>(`SELECT count(*) AS count FROM ONLY ${table}`)
        .catch(() => undefined);
      if (result !== undefined) rows.set(table, Number(result.rows[0]?.count ?? 0));
    }
    return { catalog, rows };
  } finally {
    await client.end().catch(() => undefined);
  }
}

function compareRows(dumped: RowCounts, restored: Map<string, number>): string[] {
  return [...dumped].flatMap(([table, count]) => {
    const found = restored.get(table);
    if (found === undefined) return [`table ${table} (${count} rows in the dump) cannot be read`];
    return found === count
      ? []
      : [`table ${table} holds ${found} rows where the dump has ${count}`];
  });
}

async function drillDatabase(
  input: LogicalVerifyInput,
  context: { entry: CatalogEntry; server: ThrowawayServer; pgRestore: string; dir: string },
  database: DumpedDatabase,
  into: string,
): Promise<DatabaseResult> {
  const { entry, server, pgRestore } = context;
  const dumpFile = join(context.dir, database.object);
  input.logger.info({ database: database.name }, 'downloading and checking the dump');
  await input.downloader.download(
    `${entry.key}${database.object}`,
    dumpFile,
    database,
    entry.manifest.encryption,
  );
  try {
    const toc = await listToc(pgRestore, dumpFile, database.name);
    const dumpedRows = await countDumpRows(pgRestore, dumpFile, database.name);
    // A name of the drill's own: the dumped one may be postgres or template1, which exist.
    await createDatabase(server, into);
    input.logger.info({ database: database.name, into }, 'running pg_restore');
    const started = input.clock();
    const restore = await runProgram(
      pgRestore,
      drillRestoreArguments(conninfoOf(server, into), dumpFile),
    );
    const restoreMs = input.clock() - started;
    const tables = [...dumpedRows.keys()].filter(isQualifiedName);
    const restored = await readRestored(server, into, tables);
    const comparisons = compareWithCatalog(toc, restored.catalog);
    const problems = [
      ...comparisons.filter(isShort).map(describeShortfall),
      ...compareRows(
        new Map([...dumpedRows].filter(([table]) => isQualifiedName(table))),
        restored.rows,
      ),
    ];
    if (restore.status !== 0) {
      const errors = errorsOf(restore.stderr);
      problems.push(
        `pg_restore ended with ${restore.exit}${errors.length === 0 ? '' : `:\n${errors.slice(0, ERROR_LINES).join('\n')}`}`,
      );
    }
    const rowTotal = [...dumpedRows.values()].reduce((sum, count) => sum + count, 0);
    const summary = `database "${database.name}": ${describeKinds(comparisons) || 'no objects'} restored as listed, ${rowTotal} rows in ${dumpedRows.size} table${dumpedRows.size === 1 ? '' : 's'} as in the dump (pg_restore ${seconds(restoreMs)} s)`;
    return { name: database.name, problems, summary, restoreMs };
  } finally {
    await rm(dumpFile, { force: true });
  }
}

async function drill(input: LogicalVerifyInput, entry: CatalogEntry, workDir: string) {
  const databases = dumpedDatabasesOf(entry.manifest);
  if (databases.length === 0) {
    throw new VerificationError(
      `the backup ${entry.key} holds no database dump: check spec.logical.databases and the run's log`,
    );
  }
  const major = majorOf(entry.manifest);
  const root = input.pgRoot;
  const initdb = await locatePgTool({ tool: 'initdb', major, orNewer: true, root });
  const postgres = await locatePgTool({ tool: 'postgres', major, orNewer: true, root });
  const pgRestore = await locatePgTool({ tool: 'pg_restore', major, orNewer: true, root });
  // initdb creates the data directory; the socket's and the dumps' are private to the drill.
  const [run, dump] = ['run', 'dump'].map((name) => join(workDir, name)) as [string, string];
  for (const dir of [run, dump]) await mkdir(dir, { mode: 0o700 });
  const dirs = { data: join(workDir, 'data'), run, dump };
  input.logger.info({ key: entry.key, initdb }, 'creating the throwaway server');
  await initThrowawayCluster(initdb, dirs.data);
  const server = await startThrowawayServer({
    postgres,
    dataDir: dirs.data,
    runDir: dirs.run,
    startTimeoutMs: input.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
  });
  try {
    const results: DatabaseResult[] = [];
    for (const [index, database] of databases.entries()) {
      const context = { entry, server, pgRestore, dir: dirs.dump };
      results.push(await drillDatabase(input, context, database, `pgbackup_drill_${index + 1}`));
    }
    return { results, restoreMs: results.reduce((sum, result) => sum + result.restoreMs, 0) };
  } finally {
    await server.stop();
  }
}

function messageOf(entry: CatalogEntry, results: readonly DatabaseResult[], restoreMs: number) {
  const took = seconds(restoreMs);
  const failed = results.filter((result) => result.problems.length > 0);
  const lines = results.map((result) =>
    result.problems.length === 0
      ? result.summary
      : `database "${result.name}" does not restore as its dump lists: ${result.problems.join('; ')}`,
  );
  const head =
    failed.length === 0
      ? `the logical backup committed at ${entry.manifest.committedAt} restores: ${results.length} database${results.length === 1 ? '' : 's'} restored with pg_restore (no owners, grants or tablespaces) in ${took} s, each object of the table of contents present and each table's rows as in the dump`
      : `${failed.length} of ${results.length} databases of the logical backup committed at ${entry.manifest.committedAt} do not restore as their dumps list (pg_restore took ${took} s): restore them by hand (pgbackup restore --type logical) to see the errors, and fix the source (e.g. a function that depends on search_path)`;
  return { passed: failed.length === 0, message: `${head}\n${lines.join('\n')}`, restoreMs };
}

/**
 * Runs the logical drill on the policy's newest committed logical backup.
 *
 * @returns Passed, or Failed naming each database and what did not restore (a damaged dump,
 *   an object of the table of contents missing, a table short of rows, pg_restore's errors)
 * @throws RunError when the drill cannot start: running as root, no work directory, no logical
 *   backup yet; StorageError when the bucket cannot be listed
 */
export async function verifyNewestLogicalBackup(input: LogicalVerifyInput): Promise<VerifyOutcome> {
  await checkPreconditions(input);
  const entry = await chooseNewestBackup(input, 'logical');
  return drillOutcome(input, entry, async (workDir) => {
    // Failed, not an error: a drill that cannot read the backup has found what it is for.
    input.downloader.requireIdentity(entry);
    const { results, restoreMs } = await drill(input, entry, workDir);
    return messageOf(entry, results, restoreMs);
  });
}
