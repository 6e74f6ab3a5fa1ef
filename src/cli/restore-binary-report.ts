/**
 * What `pgbackup restore` prints once a binary backup is restored: what was restored, the
 * checks it passed, and what to do next to start a server on it. Pure: the caller found the
 * files and the tools.
 */

import { lineOf } from '../runner/backup-choice.js';
import type { BinaryRestoreOutcome } from '../runner/restore-binary.js';
import { majorOf } from '../runner/verify-restore.js';
import { formatInstant, formatSize, shortVersion, sizeOf } from './list-output.js';

/** Where the restored backup's major version's server tools are, if this host has them. */
export interface ServerTools {
  /** e.g. `/usr/lib/postgresql/15/bin`, or `undefined` when that major's server is not installed. */
  readonly binDir: string | undefined;
}

function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}

function describeTarget(outcome: BinaryRestoreOutcome): string {
  if (outcome.created) return `${outcome.targetDir} (created, mode 0700)`;
  const mode =
    outcome.previousMode === undefined
      ? ''
      : `; its mode was ${octal(outcome.previousMode)}, now 0700, as PostgreSQL requires`;
  return `${outcome.targetDir} (the empty directory given${mode})`;
}

function configurationStep(outcome: BinaryRestoreOutcome, major: number): string[] {
  const { missingFiles, autoSettings } = outcome.configuration;
  const dir = outcome.targetDir;
  const lines =
    missingFiles.length === 0
      ? [
          `  1. The source's postgresql.conf and pg_hba.conf came with it (they lived in its data directory).`,
          '     Review them, above all port and listen_addresses when this host runs the source too.',
        ]
      : [
          `  1. The backup holds no ${missingFiles.join(' and ')}: the source kept its configuration outside its`,
          `     data directory (Debian: /etc/postgresql/${major}/<cluster>/), and PostgreSQL will not start`,
          `     without them. Copy the source's into ${dir}, or write them there.`,
        ];
  if (autoSettings.length > 0) {
    lines.push(
      `     postgresql.auto.conf (ALTER SYSTEM on the source) sets ${autoSettings.join(', ')}: review it`,
      `     before starting beside the source (an archive_command would write into the source's archive).`,
    );
  }
  return lines;
}

function startStep(outcome: BinaryRestoreOutcome, major: number, tools: ServerTools): string[] {
  const dir = outcome.targetDir;
  const pgCtl = tools.binDir === undefined ? 'pg_ctl' : `${tools.binDir}/pg_ctl`;
  const install =
    tools.binDir === undefined
      ? [
          `     (PostgreSQL ${major}'s server is not installed here: install it first, e.g. postgresql-${major}.)`,
        ]
      : [];
  return [
    `  2. Start PostgreSQL ${major} on it, as the user that ran this restore (who owns it):`,
    `       ${pgCtl} -D ${dir} -l ${dir}.log start`,
    ...install,
    '     It first replays the WAL the backup holds (crash recovery from backup_label), then',
    '     accepts connections; the log says when ("database system is ready to accept connections").',
    "     A long replay may outlast pg_ctl's 60-second wait: the server carries on; watch the log.",
    '  3. Connect and check your data; with the server stopped, the directory can be moved where',
    '     it is needed (keep its owner and mode 0700).',
  ];
}

/** The text printed after a successful binary restore. */
export function describeBinaryRestore(outcome: BinaryRestoreOutcome, tools: ServerTools): string {
  const { entry } = outcome;
  const { manifest } = entry;
  const major = majorOf(manifest);
  const bytes = sizeOf(manifest);
  const objects = manifest.objects.length === 1 ? 'object' : 'objects';
  return [
    `Restored ${entry.key}`,
    `  from        ${outcome.storeDescription}`,
    `  line        ${lineOf(entry)}`,
    `  PostgreSQL  ${shortVersion(manifest.server)}`,
    `  committed   ${formatInstant(manifest.committedAt)}`,
    `  size        ${formatSize(bytes)} (${bytes} bytes, ${manifest.objects.length} ${objects}, ${manifest.compression})`,
    `  into        ${describeTarget(outcome)}`,
    `Every object matched the manifest (size and SHA-256), and pg_verifybackup passed.`,
    '',
    'Next:',
    ...configurationStep(outcome, major),
    ...startStep(outcome, major, tools),
    '',
  ].join('\n');
}
