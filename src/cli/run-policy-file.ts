/**
 * One backup of a policy file, outside a cluster: a line's (`pgbackup run -f`) or an on-demand
 * one (`pgbackup backup -f`, no line: it fills no slot and is never pruned). Both take the
 * runner's one path; only the line differs.
 */
import { pino } from 'pino';
import type { BackupPolicy, BackupType, LineName } from '../api/index.js';
import {
  isOnDemand,
  type RunResult,
  resolveRecipients,
  runBinaryBackup,
  runLogicalBackup,
} from '../runner/index.js';
import { createLocalStore } from '../storage/index.js';
import { UsageError } from './command.js';
import { readPolicyFile } from './plan-policy-file.js';
import { fileModeS3Store, fileModeTarget } from './run-file-mode.js';

/** What {@link runPolicyFile} runs. */
export interface PolicyFileRun {
  /** The command that runs it (`run` or `backup`), for its logs. */
  readonly command: string;
  readonly file: string;
  readonly type: BackupType;
  /** The line; undefined for an on-demand backup. */
  readonly line: LineName | undefined;
  /** `--at`: the trigger time; undefined, the start. */
  readonly atMs: number | undefined;
  /** Where the local copy's volume is mounted; only a binary daily run writes one. */
  readonly localDir?: string | undefined;
  readonly pgRoot: string | undefined;
}

/** The command a person runs to take a backup of the file's policy now, for messages. */
export function onDemandCommandOf(file: string, type: BackupType): string {
  return `pgbackup backup -f ${file} --type ${type}`;
}

/** What a run did, as `pgbackup run` and `pgbackup backup -f` print it. */
export function describeRunResult(result: RunResult): string {
  if (result.outcome === 'skipped') {
    return `skipped (${result.reason}): ${result.message}\n`;
  }
  const pruned = result.pruned.map((key) => `\n  deleted ${key}`).join('');
  const { line, slot, slotLabel } = result.manifest;
  const place = isOnDemand(result.manifest) ? 'on demand' : `${line} slot ${slot}, ${slotLabel}`;
  const note = result.note === undefined ? '' : `\nnote: ${result.note}`;
  return `committed ${result.key} (${place})${pruned}${note}\n`;
}

function loggerFor(command: string, policy: string) {
  return pino({ base: { command, policy } }, pino.destination(2));
}

/**
 * Takes the backup, commits it, and (for a line's) rotates the line.
 *
 * @throws UsageError when the file lacks what a run outside a cluster needs
 */
export async function runPolicyFile(run: PolicyFileRun): Promise<RunResult> {
  const policy: BackupPolicy = await readPolicyFile(run.file);
  const { spec } = policy;
  const s3 = spec.storage?.s3;
  if (s3 === undefined) {
    throw new UsageError(`${run.file}: spec.storage.s3 is required to take backups`);
  }
  if (run.line === undefined && !spec[run.type].enabled) {
    const other = run.type === 'binary' ? 'logical' : 'binary';
    throw new Error(
      `${run.file}: the policy does not take ${run.type} backups (spec.${run.type}.enabled is false); no backup was taken. Enable ${run.type} backups in the policy or use --type ${other}`,
    );
  }
  const target = fileModeTarget(policy, process.env);
  // Inline keys only: a Secret or ConfigMap named as a recipient is refused, naming the field.
  const { encryption } = spec.storage ?? {};
  const recipients =
    encryption === undefined ? undefined : await resolveRecipients(encryption, undefined);
  // Only a line's run of the binary daily line writes the local copy (DESIGN §1).
  const local =
    run.type === 'binary' &&
    spec.binary.local !== undefined &&
    run.line === 'daily' &&
    run.localDir !== undefined
      ? { store: createLocalStore(run.localDir), keep: spec.binary.local.keep }
      : undefined;
  const name = policy.metadata.name ?? 'unnamed';
  const input = {
    namespace: policy.metadata.namespace ?? 'default',
    policy: name,
    spec,
    line: run.line,
    // Outside a cluster the trigger is `--at`, or the start: never the end of a wait.
    triggeredAtMs: run.atMs ?? Date.now(),
    onDemandCommand: onDemandCommandOf(run.file, run.type),
    ...target,
    remote: fileModeS3Store(s3, process.env),
    encryption: recipients,
    local,
    pgRoot: run.pgRoot,
    logger: loggerFor(run.command, name),
    clock: Date.now,
  };
  return run.type === 'binary' ? runBinaryBackup(input) : runLogicalBackup(input);
}
