/**
 * Restores into a claim (`Restore` objects): a new one is checked against what exists
 * (restore-plan.ts: the policy, its bucket, the claim and who uses it) and either refused in
 * its status, touching nothing, or given its claim (when it asked for one) and one Job,
 * deterministic by name so a retry never starts a second. The Job's runner records Running,
 * then Succeeded or Failed with what it restored; a Job that ends without recording its end
 * (deadline, image pull, admission, a killed pod) marks the Restore Failed here.
 */
import { API_VERSION, isRestoreEnded, RESTORE_KIND, type RestoreStatus } from '../api/index.js';
import {
  applyManifest,
  applyStatus,
  getObject,
  isConflict,
  type KubeClient,
  type KubeObject,
  type ObjectCache,
  RESOURCES,
  resourcePath,
  splitObjectKey,
} from '../kube/index.js';
import {
  type PodUse,
  planRestore,
  RESTORE_LABEL,
  type RunSettings,
  renderRestoreClaim,
  renderRestoreJob,
  restoreJobNameOf,
} from '../render/index.js';

/** What reconciling a Restore needs. */
export interface RestoreReconcilerDeps {
  readonly client: KubeClient;
  readonly restores: ObjectCache;
  readonly policies: ObjectCache;
  readonly jobs: ObjectCache;
  readonly settings: RunSettings;
  readonly now: () => Date;
}

/** The prefix that marks a Restore's key in the controller's work queue. */
export const RESTORE_KEY_PREFIX = 'restore:';

interface JobCondition {
  readonly type?: string;
  readonly status?: string;
  readonly reason?: string;
  readonly message?: string;
}

function endedConditionOf(job: KubeObject | undefined): JobCondition | undefined {
  const status = job?.status as { conditions?: JobCondition[] } | undefined;
  return status?.conditions?.find(
    (condition) =>
      (condition.type === 'Failed' || condition.type === 'Complete') && condition.status === 'True',
  );
}

async function writeStatus(
  deps: RestoreReconcilerDeps,
  object: KubeObject,
  status: RestoreStatus,
): Promise<void> {
  await applyStatus(deps.client, {
    apiVersion: API_VERSION,
    kind: RESTORE_KIND,
    metadata: { name: object.metadata.name, namespace: object.metadata.namespace ?? '' },
    status,
  });
}

function failedStatus(
  deps: RestoreReconcilerDeps,
  message: string,
  reason: 'Refused' | 'JobFailed',
): RestoreStatus {
  const now = deps
    .now()
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z');
  return {
    phase: 'Failed',
    message,
    completedAt: now,
    conditions: [{ type: 'Restored', status: 'False', reason, message, lastTransitionTime: now }],
  };
}

/** The Restore's status once its Job ended without the runner recording the end. */
function jobEndStatus(
  deps: RestoreReconcilerDeps,
  jobName: string,
  ended: JobCondition,
): RestoreStatus {
  const why = [ended.reason, ended.message].filter(Boolean).join(': ');
  const how =
    ended.type === 'Complete'
      ? 'ended without recording an outcome'
      : `failed before the restore recorded its outcome (${why || 'no reason given'})`;
  return failedStatus(
    deps,
    `The Job "${jobName}" ${how}; see "kubectl describe job ${jobName}" and its pod's logs. Look at the claim before using it, then create a new Restore.`,
    'JobFailed',
  );
}

async function podsOf(client: KubeClient, namespace: string): Promise<PodUse[]> {
  const list = await client.request<{ items: PodUse[] }>({
    verb: 'list',
    path: resourcePath(RESOURCES.pod, { namespace }),
    what: `list pods in ${namespace}`,
  });
  return list.items;
}

async function createClaim(client: KubeClient, manifest: KubeObject): Promise<void> {
  const namespace = manifest.metadata.namespace ?? '';
  try {
    await client.request({
      verb: 'create',
      path: resourcePath(RESOURCES.persistentVolumeClaim, { namespace }),
      body: manifest,
      what: `create PersistentVolumeClaim ${namespace}/${manifest.metadata.name}`,
    });
  } catch (error) {
    // Created by an earlier reconcile whose status write was lost: it is ours to use.
    if (!isConflict(error)) throw error;
  }
}

/**
 * The key names of the identity Secret the Restore's Job will mount, or undefined when the
 * policy names none or it does not exist. Only the names leave here: the controller has no
 * use for the identity and keeps none of it.
 */
async function identitySecretKeysOf(
  client: KubeClient,
  namespace: string,
  policyObject: KubeObject | undefined,
): Promise<string[] | undefined> {
  const spec = policyObject?.spec as
    | { storage?: { encryption?: { identity?: { secretKeyRef?: { name?: string } } } } }
    | undefined;
  const name = spec?.storage?.encryption?.identity?.secretKeyRef?.name;
  if (name === undefined) return undefined;
  const secret = await getObject(client, RESOURCES.secret, { namespace, name });
  return secret === undefined ? undefined : Object.keys((secret.data ?? {}) as object);
}

/** Starts a new Restore's Job, or refuses it. */
async function startRestore(deps: RestoreReconcilerDeps, object: KubeObject): Promise<void> {
  const namespace = object.metadata.namespace ?? '';
  const restoreName = object.metadata.name;
  const spec = object.spec as { policy?: string; pvc?: { name?: string } } | undefined;
  const claimName = spec?.pvc?.name ?? '';
  const claim =
    claimName === ''
      ? undefined
      : await getObject(deps.client, RESOURCES.persistentVolumeClaim, {
          namespace,
          name: claimName,
        });
  const policyObject = deps.policies.get(`${namespace}/${spec?.policy ?? ''}`);
  const plan = planRestore({
    restoreObject: object,
    restoreName,
    namespace,
    policyObject,
    claimExists: claim !== undefined,
    pods: claim === undefined ? [] : await podsOf(deps.client, namespace),
    restoreLabel: RESTORE_LABEL,
    identitySecretKeys: await identitySecretKeysOf(deps.client, namespace, policyObject),
  });
  if (plan.kind === 'refuse') {
    await writeStatus(deps, object, failedStatus(deps, plan.message, 'Refused'));
    return;
  }
  if (plan.createClaim) {
    await createClaim(deps.client, renderRestoreClaim(plan.restore) as unknown as KubeObject);
  }
  const job = renderRestoreJob({
    restore: plan.restore,
    restoreUid: object.metadata.uid ?? '',
    policy: plan.policy,
    settings: deps.settings,
  });
  await applyManifest(deps.client, job);
  await writeStatus(deps, object, {
    phase: 'Pending',
    jobName: job.metadata.name,
    message: `Waiting for the Job "${job.metadata.name}" to run.`,
  });
}

/** Brings one Restore (key `namespace/name`) along: start, refuse, or record a dead Job. */
export async function reconcileRestore(deps: RestoreReconcilerDeps, key: string): Promise<void> {
  const object = deps.restores.get(key);
  if (object === undefined || object.metadata.deletionTimestamp !== undefined) return;
  const status = (object.status ?? {}) as RestoreStatus;
  if (isRestoreEnded(status.phase)) return;
  const { namespace } = splitObjectKey(key);
  const jobName = restoreJobNameOf(object.metadata.name);
  const job = deps.jobs.get(`${namespace}/${jobName}`);
  if (job === undefined) {
    // A Restore whose Job is gone after it started is left to its runner's record.
    if (status.phase === undefined) await startRestore(deps, object);
    return;
  }
  const ended = endedConditionOf(job);
  if (ended !== undefined) {
    // The runner records its end before it exits; read the Restore again before judging.
    const fresh = await getObject(deps.client, RESOURCES.restore, {
      namespace,
      name: object.metadata.name,
    });
    if (isRestoreEnded((fresh?.status as RestoreStatus | undefined)?.phase)) return;
    await writeStatus(deps, object, jobEndStatus(deps, jobName, ended));
    return;
  }
  if (status.phase === undefined) {
    await writeStatus(deps, object, {
      phase: 'Pending',
      jobName,
      message: `Waiting for the Job "${jobName}" to run.`,
    });
  }
}
