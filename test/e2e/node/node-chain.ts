/**
 * The chain on the local node, as a user runs it: `helm install` of charts/ with the built
 * image, PostgreSQL pods the runner discovers, the quickstart policy with its storage and
 * schedule pointed at this machine, and the CronJob controller firing the Jobs on schedule.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { KubeObject } from '../../../src/kube/index.js';
import { CHART_DIR, runHelm } from '../../harness/chart.js';
import { createPostgresPod, kubectl, secretObject } from '../../harness/cluster-objects.js';
import { repoRoot } from '../../harness/env/layout.js';
import { waitUntil } from '../../harness/env/processes.js';
import type { OperatorImages } from '../../harness/image/operator-image.js';
import type { LocalNode } from '../../harness/node/local-node.js';
import { requireEnv } from '../../harness/variables.js';
import { onTimeSchedule } from '../on-time-schedule.js';

/** The toleration of the node's taint, for every pod the chain puts there. */
export function nodeToleration(node: LocalNode) {
  return { ...node.layout.taint, operator: 'Equal' as const };
}

/** A reference `registry/name:tag` split as the chart's image values take it. */
function imageValues(reference: string): { repository: string; tag: string } {
  const colon = reference.lastIndexOf(':');
  return { repository: reference.slice(0, colon), tag: reference.slice(colon + 1) };
}

/**
 * `helm install` (`upgrade --install`) of charts/ into `namespace`, the controller watching only that namespace
 * (the environment is shared with other tests' controllers), tolerating the node's taint,
 * and waits until the controller's Deployment is available (its probes pass).
 */
export async function installChart(
  release: string,
  namespace: string,
  images: OperatorImages,
  node: LocalNode,
): Promise<void> {
  const values = {
    image: { ...imageValues(images.runtime.reference), pullPolicy: 'Never' },
    controller: { watchNamespaces: [namespace] },
    tolerations: [nodeToleration(node)],
  };
  await runHelm(
    // upgrade --install: the demo runs again on the same release.
    [
      'upgrade',
      '--install',
      release,
      CHART_DIR,
      '--namespace',
      namespace,
      '--wait',
      '--timeout',
      '5m',
    ],
    values,
  );
}

/**
 * Removes the release's cluster-wide RBAC (by its instance label); the namespace's deletion
 * takes the rest, helm's release record included. (runHelm gives every command a values
 * file, which `helm uninstall` does not take.)
 */
export async function removeChartClusterObjects(release: string): Promise<void> {
  await kubectl([
    'delete',
    'clusterrole,clusterrolebinding',
    '-l',
    `app.kubernetes.io/instance=${release}`,
  ]);
}

/** The quickstart policy as examples/quickstart.yaml has it. */
export interface QuickstartPolicy extends KubeObject {
  spec: {
    target: {
      selector?: { matchLabels?: Record<string, string> };
      credentials: { secretName: string };
    };
    timeZone?: string;
    schedule?: Record<string, string>;
    storage: {
      s3: Record<string, unknown> & { credentials?: { secretName: string }; prefix?: string };
    };
    jobTemplate?: Record<string, unknown>;
    verify?: { schedule: string };
  };
}

/** examples/quickstart.yaml. */
export function readQuickstart(): QuickstartPolicy {
  return parse(readFileSync(join(repoRoot, 'examples', 'quickstart.yaml'), 'utf8'));
}

/** How far ahead of now the policy's time of day is set (whole minutes: cron's resolution). */
const SCHEDULE_AHEAD_MS = 2 * 60_000;

/**
 * The instant the CronJob controller will fire the policy's Jobs: the start of the minute two
 * minutes from `nowMs` (plus one when that is too close to the minute's end to apply the
 * policy in time).
 */
export function scheduledMinute(nowMs: number): number {
  const minute = Math.floor((nowMs + SCHEDULE_AHEAD_MS) / 60_000) * 60_000;
  return minute - nowMs < 90_000 ? minute + 60_000 : minute;
}

/**
 * The quickstart adapted to this machine: storage at MinIO where pods reach it, the backup
 * pods tolerating the node's taint, and the time of day (and weekday) at `fireAtMs`, so the
 * CronJob controller fires today's daily and weekly Jobs then.
 */
export function adaptQuickstart(
  policy: QuickstartPolicy,
  options: { node: LocalNode; prefix: string; bucket: string; fireAtMs: number },
): QuickstartPolicy {
  // onTimeSchedule puts the time two minutes before its argument.
  const schedule = {
    ...policy.spec.schedule,
    ...onTimeSchedule(options.fireAtMs + 2 * 60_000, policy.spec.timeZone),
  };
  const s3 = {
    ...policy.spec.storage.s3,
    bucket: options.bucket,
    ...(options.prefix === '' ? {} : { prefix: options.prefix }),
    region: requireEnv('AWS_REGION'),
    endpoint: options.node.endpoints.s3,
    forcePathStyle: true,
  };
  return {
    ...policy,
    spec: {
      ...policy.spec,
      schedule,
      storage: { ...policy.spec.storage, s3 },
      jobTemplate: { ...policy.spec.jobTemplate, tolerations: [nodeToleration(options.node)] },
      verify: { schedule: 'daily' },
    },
  };
}

/** The Secrets the quickstart names, holding the environment's credentials. */
export function quickstartSecrets(policy: QuickstartPolicy) {
  return [
    secretObject(policy.spec.target.credentials.secretName, {
      username: requireEnv('PGUSER'),
      password: requireEnv('PGPASSWORD'),
    }),
    secretObject(policy.spec.storage.s3.credentials?.secretName ?? 's3-creds', {
      accessKeyId: requireEnv('AWS_ACCESS_KEY_ID'),
      secretAccessKey: requireEnv('AWS_SECRET_ACCESS_KEY'),
    }),
  ];
}

/**
 * Pods for the primary and the replica, labelled as the quickstart selects them (and as
 * CloudNativePG labels its instances), at the addresses where pods on the node reach the
 * environment's servers. Nothing runs them: the servers are the environment's.
 */
export async function createPostgresPods(
  namespace: string,
  policy: QuickstartPolicy,
  node: LocalNode,
): Promise<void> {
  const servers = [
    { address: node.endpoints.primary, role: 'primary' },
    { address: node.endpoints.replica, role: 'replica' },
  ];
  for (const server of servers) {
    await createPostgresPod(namespace, {
      fixture: 'controller/postgres-pod.yaml',
      address: server.address,
      labels: {
        ...policy.spec.target.selector?.matchLabels,
        'cnpg.io/cluster': 'orders',
        'cnpg.io/instanceRole': server.role,
      },
    });
  }
}

/** The parts of a Job the test reads. */
export interface JobObject {
  metadata: {
    name: string;
    creationTimestamp: string;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
  status?: { conditions?: { type: string; status: string }[] };
}

/** Jobs of the namespace. */
export async function listJobs(namespace: string): Promise<JobObject[]> {
  return (
    JSON.parse(await kubectl(['get', 'jobs', '-n', namespace, '-o', 'json'])) as {
      items: JobObject[];
    }
  ).items;
}

/** Waits until every one of `count` Jobs has a Complete or Failed condition. */
export function waitForEndedJobs(namespace: string, count: number, timeoutMs: number) {
  return waitUntil(
    `${count} Jobs in ${namespace} to end`,
    async () => {
      const jobs = await listJobs(namespace);
      const ended = jobs.filter((job) =>
        job.status?.conditions?.some(
          (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
        ),
      );
      return jobs.length >= count && ended.length === jobs.length ? jobs : undefined;
    },
    { timeoutMs, intervalMs: 2_000 },
  );
}
