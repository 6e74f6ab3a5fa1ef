/**
 * A Restore's Job pod, played by the test as the local executor plays one: the container's own
 * arguments with the claim's mount path mapped to a local directory standing for the claim,
 * run as the policy's runner service account, as the `postgres` OS user when the tests run as
 * root (the image's user 65532 is not root either; PostgreSQL refuses root).
 */
import { chown, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { API_VERSION, RESTORE_PLURAL } from '../../../src/api/index.js';
import type { KubeObject } from '../../../src/kube/index.js';
import { RESTORE_MOUNT_PATH } from '../../../src/render/index.js';
import { writeKubeConfigFile } from '../../harness/controller-process.js';
import { postgresRunAs } from '../../harness/env/postgres.js';
import { serviceAccountKubeConfig } from '../../harness/kube.js';
import { type RunOutcome, runEnvironment, runPgbackupAs } from '../../harness/pgbackup-run.js';
import { type ControllerTestEnv, pgbackupPath } from '../controller/controller-setup.js';

interface JobSpec {
  template: {
    spec: {
      containers: { args: string[]; volumeMounts: { name: string; mountPath: string }[] }[];
      volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[];
    };
  };
}

async function giveToRestoreUser(path: string): Promise<void> {
  const runAs = postgresRunAs();
  if (runAs !== undefined) await chown(path, runAs.uid, runAs.gid);
}

/** A local directory standing for a claim: empty, owned by the restore's user (as fsGroup makes it). */
export async function claimDir(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'pgbackup-claim-'));
  const dir = join(root, 'claim');
  await mkdir(dir);
  await giveToRestoreUser(root);
  await giveToRestoreUser(dir);
  return dir;
}

/** The claim the Job mounts at /restore. */
export function claimNameOf(jobSpec: unknown): string | undefined {
  const spec = (jobSpec as JobSpec).template.spec;
  return spec.volumes.find((volume) => volume.name === 'restore')?.persistentVolumeClaim?.claimName;
}

/**
 * Runs the Job's `pgbackup restore` container with `/restore` standing at `claim`, and each
 * of `mounts` (container directory → local directory, e.g. the identity Secret's volume) too.
 */
export async function runRestorePod(
  env: ControllerTestEnv,
  jobSpec: unknown,
  claim: string,
  mounts: Readonly<Record<string, string>> = {},
): Promise<RunOutcome> {
  const container = (jobSpec as JobSpec).template.spec.containers[0];
  if (container === undefined) throw new Error('the Job has no container');
  if (container.args[0] !== 'restore') throw new Error(`the Job runs "${container.args[0]}"`);
  const mapped = Object.entries({ ...mounts, [RESTORE_MOUNT_PATH]: claim });
  const args = container.args.map((arg) => {
    const mount = mapped.find(([path]) => arg.startsWith(`${path}/`));
    return mount === undefined ? arg : `${mount[1]}${arg.slice(mount[0].length)}`;
  });
  const runner = await serviceAccountKubeConfig(env.admin, {
    namespace: env.namespace,
    name: 'orders-runner',
  });
  const kubeconfig = writeKubeConfigFile(runner);
  await giveToRestoreUser(dirname(kubeconfig));
  await giveToRestoreUser(kubeconfig);
  const home = await mkdtemp(join(tmpdir(), 'pgbackup-restore-home-'));
  await giveToRestoreUser(home);
  return runPgbackupAs(
    args,
    runEnvironment({ KUBECONFIG: kubeconfig, HOME: home, TMPDIR: home }),
    postgresRunAs(),
  );
}

/** A Restore as the tests read it. */
export interface RestoreObject extends KubeObject {
  status?: {
    phase?: string;
    message?: string;
    backup?: string;
    restoreSeconds?: number;
    startedAt?: string;
    completedAt?: string;
    jobName?: string;
    reached?: { lsn?: string };
  };
}

/** The Restore `name` as stored. */
export function getRestore(env: ControllerTestEnv, name: string): Promise<RestoreObject> {
  return env.client.request<RestoreObject>({
    verb: 'get',
    path: pgbackupPath(env.namespace, RESTORE_PLURAL, name),
    what: `get Restore ${name}`,
  });
}

/** Creates a Restore as a user would. */
export function createRestore(env: ControllerTestEnv, name: string, spec: Record<string, unknown>) {
  return env.client.request<KubeObject>({
    verb: 'create',
    path: pgbackupPath(env.namespace, RESTORE_PLURAL),
    body: { apiVersion: API_VERSION, kind: 'Restore', metadata: { name }, spec },
    what: `create Restore ${name}`,
  });
}
