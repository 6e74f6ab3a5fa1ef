/**
 * The steps of the whole chain on one machine, shared by the e2e test and `npm run demo`:
 * PostgreSQL pods that stand for the environment's servers, a Job from each of a policy's
 * CronJobs (as `kubectl create job --from=cronjob/NAME`), and waiting for those Jobs to finish.
 */
import { isNotFound, type KubeClient, type KubeObject } from '../../src/kube/index.js';
import { LABELS } from '../../src/render/index.js';
import { createPostgresPod } from '../harness/cluster-objects.js';
import { waitUntil } from '../harness/env/processes.js';
import { jobFromCronJob, manualJobName } from '../harness/executor/job-from-cron-job.js';
import { requireEnv } from '../harness/variables.js';

/**
 * Pods that stand for the environment's primary and replica, labelled as CloudNativePG
 * labels the pods of `cluster` (plus `labels`), reported Running at the servers' addresses.
 */
export async function createStandInPostgresPods(
  namespace: string,
  cluster: string,
  labels: Readonly<Record<string, string>> = {},
): Promise<void> {
  const servers = [
    { address: requireEnv('PGBACKUP_PRIMARY'), role: 'primary' },
    { address: requireEnv('PGBACKUP_REPLICA'), role: 'replica' },
  ];
  for (const server of servers) {
    await createPostgresPod(namespace, {
      fixture: 'controller/postgres-pod.yaml',
      address: server.address,
      labels: {
        'cnpg.io/cluster': cluster,
        'cnpg.io/instanceRole': server.role,
        'cnpg.io/podRole': 'instance',
        ...labels,
      },
    });
  }
}

/** The CronJobs of a policy, by name. */
export async function policyCronJobs(
  client: KubeClient,
  namespace: string,
  policy: string,
): Promise<KubeObject[]> {
  const list = await client.request<{ items: KubeObject[] }>({
    verb: 'list',
    path: `/apis/batch/v1/namespaces/${namespace}/cronjobs`,
    query: { labelSelector: `${LABELS.policy}=${policy}` },
    what: `list the CronJobs of ${namespace}/${policy}`,
  });
  return list.items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

/**
 * Creates a Job from each CronJob, named as the CronJob controller names its Jobs; a Job of
 * that name made earlier in the same minute is kept. Returns the Jobs' names.
 */
export async function createJobsFromCronJobs(
  client: KubeClient,
  cronJobs: readonly KubeObject[],
  atMs: number,
): Promise<string[]> {
  const names: string[] = [];
  for (const cronJob of cronJobs) {
    const name = manualJobName(cronJob.metadata.name, atMs);
    const namespace = cronJob.metadata.namespace ?? '';
    await client
      .request({
        verb: 'create',
        path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
        body: jobFromCronJob(cronJob as Parameters<typeof jobFromCronJob>[0], name),
        what: `create Job ${name} from CronJob ${cronJob.metadata.name}`,
      })
      .catch((error: unknown) => {
        if ((error as { statusCode?: number }).statusCode !== 409) throw error;
      });
    names.push(name);
  }
  return names;
}

/** How a Job ended: its Complete or Failed condition. */
export type JobOutcome = 'Complete' | 'Failed';

async function jobOutcome(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<JobOutcome | undefined> {
  const job = await client
    .request<KubeObject>({
      verb: 'get',
      path: `/apis/batch/v1/namespaces/${namespace}/jobs/${name}`,
      what: `get Job ${name}`,
    })
    .catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
  const conditions = (job?.status as { conditions?: { type: string; status: string }[] })
    ?.conditions;
  const ended = conditions?.find(
    (condition) =>
      (condition.type === 'Complete' || condition.type === 'Failed') && condition.status === 'True',
  );
  return ended?.type as JobOutcome | undefined;
}

/** Waits until every Job has ended; returns how each ended, by name. */
export async function waitForJobs(
  client: KubeClient,
  namespace: string,
  names: readonly string[],
  timeoutMs = 300_000,
): Promise<Map<string, JobOutcome>> {
  const outcomes = new Map<string, JobOutcome>();
  for (const name of names) {
    outcomes.set(
      name,
      await waitUntil(
        `Job ${namespace}/${name} to finish`,
        () => jobOutcome(client, namespace, name),
        { timeoutMs },
      ),
    );
  }
  return outcomes;
}
