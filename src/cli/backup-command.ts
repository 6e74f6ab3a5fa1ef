/**
 * `pgbackup backup`: an on-demand backup. In a cluster (`--policy`) it creates a Backup without
 * a line (as a user would with kubectl) after checking that its policy exists and takes that
 * type of backup; the controller starts its Job. With `--wait` it polls the Backup until the
 * run ends and prints the outcome. Outside a cluster (`-f`) it takes the backup itself, on the
 * runner's path (run-policy-file.ts), with no line.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type BackupStatus,
  type BackupType,
  formatIssues,
  isEndPhase,
  parseBackupPolicy,
} from '../api/index.js';
import { createBackupObject } from '../kube/backup-record.js';
import type { KubeClient } from '../kube/kube-client.js';
import { isNotFound } from '../kube/kube-errors.js';
import { RESOURCES, resourcePath } from '../kube/resource.js';
import {
  BACKUP_USAGE,
  type ClusterBackupArguments,
  defaultBackupName,
  type FileBackupArguments,
  parseBackupArguments,
} from './backup-arguments.js';
import { type BackupOutcome, describeOutcome, formatWait } from './backup-outcome.js';
import { withClusterClient } from './cluster-client.js';
import type { Command, CommandIo } from './command.js';
import { describeRunResult, runPolicyFile } from './run-policy-file.js';

/** How often `--wait` reads the Backup. */
const POLL_INTERVAL_MS = 2000;

/** A refusal or an unfinished wait: printed as `pgbackup backup: MESSAGE`, exit status 1. */
class BackupCommandError extends Error {
  override readonly name = 'BackupCommandError';
}

/** Reads the policy and refuses one that does not exist, is not valid or lacks the type. */
async function checkPolicy(client: KubeClient, args: ClusterBackupArguments): Promise<void> {
  const { namespace, policy, type } = args;
  let object: unknown;
  try {
    object = await client.request<unknown>({
      verb: 'get',
      path: resourcePath(RESOURCES.backupPolicy, { namespace, name: policy }),
      what: `get BackupPolicy ${namespace}/${policy}`,
    });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    throw new BackupCommandError(
      `BackupPolicy ${namespace}/${policy} does not exist; no Backup was created. Check the name with "kubectl get backuppolicies -n ${namespace}"`,
    );
  }
  const parsed = parseBackupPolicy(object);
  if (!parsed.ok) {
    throw new BackupCommandError(
      `BackupPolicy ${namespace}/${policy} is not valid; no Backup was created. Fix it first:\n${formatIssues('BackupPolicy', policy, parsed.issues)}`,
    );
  }
  if (!parsed.value.spec[type].enabled) {
    throw new BackupCommandError(
      `BackupPolicy ${namespace}/${policy} does not take ${type} backups (spec.${type}.enabled is false); no Backup was created. Enable ${type} backups in the policy or use --type ${otherType(type)}`,
    );
  }
}

function otherType(type: BackupType): BackupType {
  return type === 'binary' ? 'logical' : 'binary';
}

/** Creates the Backup; an existing one of that name is refused, never adopted. */
async function createBackup(client: KubeClient, args: ClusterBackupArguments, name: string) {
  const { namespace } = args;
  const spec = { policy: args.policy, type: args.type };
  if (!(await createBackupObject(client, { namespace, name, spec }))) {
    throw new BackupCommandError(
      `Backup ${namespace}/${name} already exists; choose another --name (or omit it for a new timestamped one)`,
    );
  }
}

/** Polls the Backup until its run ends or `waitSeconds` pass. */
async function waitForEnd(
  client: KubeClient,
  namespace: string,
  name: string,
  waitSeconds: number,
): Promise<BackupOutcome | { readonly phase: string | undefined; readonly timedOut: true }> {
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    let backup: { status?: BackupStatus };
    try {
      backup = await client.request<{ status?: BackupStatus }>({
        verb: 'get',
        path: resourcePath(RESOURCES.backup, { namespace, name }),
        what: `get Backup ${namespace}/${name}`,
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      throw new BackupCommandError(
        `Backup ${namespace}/${name} was deleted while waiting for its run; its outcome is unknown`,
      );
    }
    const status = backup.status ?? {};
    if (isEndPhase(status.phase)) return { ...status, phase: status.phase };
    if (Date.now() >= deadline) return { phase: status.phase, timedOut: true };
    await sleep(Math.min(POLL_INTERVAL_MS, Math.max(0, deadline - Date.now())));
  }
}

function describeCommand(namespace: string, name: string): string {
  return `kubectl describe backup ${name} -n ${namespace}`;
}

/** Takes the on-demand backup of a policy file here, and prints its key. */
async function backUpFile(args: FileBackupArguments, io: CommandIo): Promise<number> {
  const result = await runPolicyFile({
    command: 'backup',
    file: args.file,
    type: args.type,
    line: undefined,
    atMs: undefined,
    pgRoot: args.pgRoot,
  });
  io.stdout.write(describeRunResult(result));
  return 0;
}

/** Runs `pgbackup backup ...`; see {@link BACKUP_USAGE}. */
export const runBackupCommand: Command = async (argv, io) => {
  const args = parseBackupArguments(argv);
  if (args === 'help') {
    io.stdout.write(BACKUP_USAGE);
    return 0;
  }
  if (args.kind === 'file') return backUpFile(args, io);
  const name = args.name ?? defaultBackupName(args.policy, args.type, Date.now());
  return withClusterClient(async (client) => {
    await checkPolicy(client, args);
    await createBackup(client, args, name);
    io.stdout.write(`backup.pgbackup.dev/${name} created\n`);
    if (args.waitSeconds === undefined) return 0;
    return report(io, args, name, await waitForEnd(client, args.namespace, name, args.waitSeconds));
  });
};

function report(
  io: CommandIo,
  args: ClusterBackupArguments,
  name: string,
  outcome: Awaited<ReturnType<typeof waitForEnd>>,
): number {
  const look = describeCommand(args.namespace, name);
  if ('timedOut' in outcome) {
    throw new BackupCommandError(
      `Backup ${args.namespace}/${name} is still ${outcome.phase ?? 'waiting for its Job'} after ${formatWait(args.waitSeconds ?? 0)}; stopped waiting. The Backup is left as it is and its run goes on; see "${look}"`,
    );
  }
  io.stdout.write(describeOutcome(name, outcome));
  if (outcome.phase === 'Completed') return 0;
  io.stdout.write(`The Backup is left as it is; see "${look}"\n`);
  return 1;
}
