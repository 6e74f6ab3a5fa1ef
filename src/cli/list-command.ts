/**
 * `pgbackup list`: the catalog of a policy's committed backups, read from its bucket (or a
 * runner's local volume) alone, newest first. A backup exists iff its manifest.json does, so
 * what a dead run left behind is not listed.
 */
import type { BackupType } from '../api/index.js';
import { lineOf, sortNewestFirst } from '../runner/backup-choice.js';
import { type CatalogEntry, policyKeyPrefix } from '../storage/index.js';
import { type BackupSource, openBackupSource } from './backup-source.js';
import type { Command } from './command.js';
import { LIST_USAGE, type ListArguments, parseListArguments } from './list-arguments.js';
import { renderListJson, renderListText } from './list-output.js';

/** Every committed backup of the listed types (and line), newest first. */
async function readCatalog(args: ListArguments, source: BackupSource): Promise<CatalogEntry[]> {
  const { prefix, namespace, policy, store } = source;
  const perType = await Promise.all(
    args.types.map((type) =>
      store.listBackups(policyKeyPrefix({ prefix, namespace, policy, type })),
    ),
  );
  return sortNewestFirst(
    perType.flat().filter((entry) => args.line === undefined || lineOf(entry) === args.line),
  );
}

/** Where the listed backups would be: the type's key prefix, or the policy's for both types. */
function listedPrefix(types: readonly BackupType[], source: BackupSource): string {
  const [first] = types;
  const typePrefix = policyKeyPrefix({ ...source, type: first ?? 'binary' });
  return types.length === 1 ? typePrefix : typePrefix.slice(0, -`${first}/`.length);
}

function emptyMessage(args: ListArguments, source: BackupSource): string {
  const what = [
    ...(args.types.length === 1 ? [args.types[0]] : []),
    'backups',
    ...(args.line === undefined ? [] : [`of line ${args.line}`]),
  ].join(' ');
  const where = `${source.store.description} under ${listedPrefix(args.types, source)}`;
  return `no committed ${what} of BackupPolicy ${source.namespace}/${source.policy} in ${where}\n`;
}

/** Runs `pgbackup list ...`; see {@link LIST_USAGE}. */
export const runListCommand: Command = async (argv, io) => {
  const args = parseListArguments(argv);
  if (args === 'help') {
    io.stdout.write(LIST_USAGE);
    return 0;
  }
  const source = await openBackupSource(args.source, args.localDir);
  const entries = await readCatalog(args, source);
  if (args.format === 'json') {
    io.stdout.write(renderListJson(entries));
  } else {
    io.stdout.write(entries.length === 0 ? emptyMessage(args, source) : renderListText(entries));
  }
  return 0;
};
