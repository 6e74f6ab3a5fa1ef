/**
 * `pgbackup restore --policy NS/NAME --to-pvc CLAIM`: creates a `Restore` (as `kubectl apply`
 * of one would) after checking that its policy exists, then, unless `--no-wait`, polls it
 * until its Job has ended (as `pgbackup backup --wait` polls a Backup) and prints the outcome
 * and how to start each preset's PostgreSQL from the claim.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { API_VERSION, isRestoreEnded, RESTORE_KIND, type RestoreStatus } from '../api/index.js';
import type { KubeClient } from '../kube/kube-client.js';
import { isConflict, isNotFound } from '../kube/kube-errors.js';
import { RESOURCES, resourcePath } from '../kube/resource.js';
import { formatWait } from './backup-outcome.js';
import { withClusterClient } from './cluster-client.js';
import type { CommandIo } from './command.js';
import { defaultRestoreName, type PvcRestoreArguments } from './restore-pvc-arguments.js';
import {
  describeRestoreOutcome,
  describeStartFromClaim,
  type RestoreOutcome,
} from './restore-pvc-report.js';

/** How often the wait reads the Restore. */
const POLL_INTERVAL_MS = 2000;

/** A refusal or an unfinished wait: printed as `pgbackup restore: MESSAGE`, exit status 1. */
class PvcRestoreError extends Error {
  override readonly name = 'PvcRestoreError';
}

async function checkPolicy(client: KubeClient, args: PvcRestoreArguments): Promise<void> {
  const { namespace, policy } = args;
  try {
    await client.request({
      verb: 'get',
      path: resourcePath(RESOURCES.backupPolicy, { namespace, name: policy }),
      what: `get BackupPolicy ${namespace}/${policy}`,
    });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    throw new PvcRestoreError(
      `BackupPolicy ${namespace}/${policy} does not exist; no Restore was created. Check the name with "kubectl get backuppolicies -n ${namespace}"`,
    );
  }
}

async function createRestore(client: KubeClient, args: PvcRestoreArguments, name: string) {
  const { namespace } = args;
  try {
    await client.request({
      verb: 'create',
      path: resourcePath(RESOURCES.restore, { namespace }),
      body: { apiVersion: API_VERSION, kind: RESTORE_KIND, metadata: { name }, spec: args.spec },
      what: `create Restore ${namespace}/${name}`,
    });
  } catch (error) {
    if (!isConflict(error)) throw error;
    throw new PvcRestoreError(
      `Restore ${namespace}/${name} already exists; choose another --name (or omit it for a new timestamped one)`,
    );
  }
}

type WaitResult = RestoreOutcome | { readonly phase: string | undefined; readonly timedOut: true };

async function waitForEnd(
  client: KubeClient,
  namespace: string,
  name: string,
  waitSeconds: number,
): Promise<WaitResult> {
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    let restore: { status?: RestoreStatus };
    try {
      restore = await client.request<{ status?: RestoreStatus }>({
        verb: 'get',
        path: resourcePath(RESOURCES.restore, { namespace, name }),
        what: `get Restore ${namespace}/${name}`,
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      throw new PvcRestoreError(
        `Restore ${namespace}/${name} was deleted while waiting for it; its outcome is unknown`,
      );
    }
    const status = restore.status ?? {};
    if (isRestoreEnded(status.phase)) return { ...status, phase: status.phase };
    if (Date.now() >= deadline) return { phase: status.phase, timedOut: true };
    await sleep(Math.min(POLL_INTERVAL_MS, Math.max(0, deadline - Date.now())));
  }
}

function report(io: CommandIo, args: PvcRestoreArguments, name: string, result: WaitResult) {
  const look = `kubectl describe restore ${name} -n ${args.namespace}`;
  if ('timedOut' in result) {
    throw new PvcRestoreError(
      `Restore ${args.namespace}/${name} is still ${result.phase ?? 'waiting for the controller'} after ${formatWait(args.waitSeconds ?? 0)}; stopped waiting. The Restore and its Job go on; see "${look}"`,
    );
  }
  io.stdout.write(describeRestoreOutcome(name, result));
  if (result.phase === 'Succeeded') {
    io.stdout.write(describeStartFromClaim(args.spec.pvc.name));
    return 0;
  }
  io.stdout.write(`The Restore is left as it is; see "${look}"\n`);
  return 1;
}

/** Creates the Restore and (by default) waits for its end; returns the exit status. */
export async function runPvcRestore(args: PvcRestoreArguments, io: CommandIo): Promise<number> {
  const name = args.name ?? defaultRestoreName(args.policy, Date.now());
  return withClusterClient(async (client) => {
    try {
      await checkPolicy(client, args);
      await createRestore(client, args, name);
      io.stdout.write(`restore.pgbackup.dev/${name} created\n`);
      if (args.waitSeconds === undefined) {
        io.stdout.write(`Follow it with "kubectl get restore ${name} -n ${args.namespace} -w"\n`);
        return 0;
      }
      return report(
        io,
        args,
        name,
        await waitForEnd(client, args.namespace, name, args.waitSeconds),
      );
    } catch (error) {
      if (!(error instanceof PvcRestoreError)) throw error;
      io.stderr.write(`pgbackup restore: ${error.message}\n`);
      return 1;
    }
  });
}
