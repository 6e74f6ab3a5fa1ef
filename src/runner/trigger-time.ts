/**
 * When an in-cluster run was triggered, which decides its period and lateness (DESIGN.md §1):
 * `--at` when given; else the run's own Job, found from its pod (the pod's name is the
 * container's hostname): the CronJob controller's scheduled time on a Job it made, or the
 * creation time of a Job made by hand; else, outside a Job, the run's start.
 */
import type { Logger } from 'pino';
import type { KubeClient } from '../kube/kube-client.js';
import { isNotFound, KubeApiError } from '../kube/kube-errors.js';
import { RESOURCES, resourcePath } from '../kube/resource.js';
import { RunError } from './errors.js';

/** The annotation the CronJob controller records its scheduled time in (RFC 3339). */
export const CRONJOB_SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** The label the Job controller gives a Job's pods. */
const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';

/** A run's trigger time and where it came from, for the log. */
export interface TriggerTime {
  readonly triggeredAtMs: number;
  readonly source: string;
  /** The Job's `activeDeadlineSeconds`; undefined without a Job or when it sets none. */
  readonly runDeadlineSeconds?: number | undefined;
}

/** What {@link triggerTimeOf} needs. */
export interface TriggerTimeInput {
  readonly client: KubeClient;
  readonly namespace: string;
  /** `--at`, when the command line gave it. */
  readonly atMs: number | undefined;
  /** The run's pod, if it runs in one (`HOSTNAME`). */
  readonly podName: string | undefined;
  /** When the run started, before it waited for anything. */
  readonly startedAtMs: number;
  readonly logger: Logger;
}

interface ObjectMeta {
  metadata?: {
    name?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind?: string; name?: string; controller?: boolean }[];
  };
  spec?: { activeDeadlineSeconds?: number };
}

/** Reads an object, or undefined when it does not exist or the run may not read it. */
async function readIfAllowed(
  input: TriggerTimeInput,
  path: string,
  what: string,
): Promise<ObjectMeta | undefined> {
  try {
    return await input.client.request<ObjectMeta>({ verb: 'get', path, what });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    if (error instanceof KubeApiError && error.statusCode === 403) {
      // A Role rendered by an older controller: run as before rather than fail the backup.
      input.logger.warn({ err: error }, `cannot ${what}; the run's start stands for its trigger`);
      return undefined;
    }
    throw error;
  }
}

/** The Job that owns a pod, by its controller reference or the Job controller's label. */
function jobNameOf(pod: ObjectMeta): string | undefined {
  const owner = pod.metadata?.ownerReferences?.find(
    (reference) => reference.kind === 'Job' && reference.controller === true,
  );
  return owner?.name ?? pod.metadata?.labels?.[JOB_NAME_LABEL];
}

function parseTime(text: string, what: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) {
    throw new RunError(`${what} is "${text}", not an RFC 3339 time: recreate the Job`);
  }
  return ms;
}

/** The trigger time of the Job a pod belongs to, or undefined when it belongs to none. */
async function jobTriggerOf(
  input: TriggerTimeInput,
  podName: string,
): Promise<TriggerTime | undefined> {
  const { namespace } = input;
  const pod = await readIfAllowed(
    input,
    resourcePath(RESOURCES.pod, { namespace, name: podName }),
    `get Pod ${namespace}/${podName}`,
  );
  const jobName = pod === undefined ? undefined : jobNameOf(pod);
  if (jobName === undefined) return undefined;
  const job = await readIfAllowed(
    input,
    resourcePath(RESOURCES.job, { namespace, name: jobName }),
    `get Job ${namespace}/${jobName}`,
  );
  const scheduled = job?.metadata?.annotations?.[CRONJOB_SCHEDULED_TIMESTAMP];
  const runDeadlineSeconds = job?.spec?.activeDeadlineSeconds;
  if (scheduled !== undefined) {
    return {
      runDeadlineSeconds,
      triggeredAtMs: parseTime(
        scheduled,
        `Job ${namespace}/${jobName}'s ${CRONJOB_SCHEDULED_TIMESTAMP}`,
      ),
      source: `the time CronJob scheduled Job ${namespace}/${jobName} for`,
    };
  }
  const created = job?.metadata?.creationTimestamp;
  if (created === undefined) return undefined;
  return {
    runDeadlineSeconds,
    triggeredAtMs: parseTime(created, `Job ${namespace}/${jobName}'s creationTimestamp`),
    source: `the creation time of Job ${namespace}/${jobName} (made by hand)`,
  };
}

/**
 * The run's trigger time: `--at`, else its Job's, else its start.
 *
 * @throws KubeApiError when the API server fails other than 403 or 404
 */
export async function triggerTimeOf(input: TriggerTimeInput): Promise<TriggerTime> {
  if (input.atMs !== undefined) return { triggeredAtMs: input.atMs, source: '--at' };
  const fromJob =
    input.podName === undefined || input.podName === ''
      ? undefined
      : await jobTriggerOf(input, input.podName);
  return fromJob ?? { triggeredAtMs: input.startedAtMs, source: 'the start of the run (no Job)' };
}
