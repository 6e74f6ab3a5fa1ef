/**
 * The pod status a kubelet reports at each step, as strategic-merge patches of
 * `pods/status` (conditions merge by type, so the scheduler's PodScheduled stays).
 */
import { constants } from 'node:os';
import type { V1Pod } from '@kubernetes/client-node';

function condition(type: string, status: boolean, at: string, reason?: string) {
  return {
    type,
    status: status ? 'True' : 'False',
    lastTransitionTime: at,
    ...(reason === undefined ? {} : { reason }),
  };
}

/** The status of the pod's one container in a state (waiting, running or terminated). */
function containerStatuses(pod: V1Pod, state: Record<string, unknown>, running: boolean) {
  const container = pod.spec?.containers[0];
  return [
    {
      name: container?.name ?? '',
      image: container?.image ?? '',
      imageID: '',
      ready: running,
      restartCount: 0,
      started: running,
      state,
    },
  ];
}

/** A container that cannot start yet (kubelet: `CreateContainerConfigError`); the pod stays Pending. */
export function waitingStatus(pod: V1Pod, reason: string, message: string) {
  return {
    status: {
      phase: 'Pending',
      containerStatuses: containerStatuses(pod, { waiting: { reason, message } }, false),
    },
  };
}

/** The pod's container started at `startedAt`, as a process on the node at `hostIP`. */
export function runningStatus(pod: V1Pod, startedAt: string, hostIP: string) {
  return {
    status: {
      phase: 'Running',
      hostIP,
      hostIPs: [{ ip: hostIP }],
      podIP: hostIP,
      podIPs: [{ ip: hostIP }],
      startTime: startedAt,
      conditions: [
        condition('PodReadyToStartContainers', true, startedAt),
        condition('Initialized', true, startedAt),
        condition('ContainersReady', true, startedAt),
        condition('Ready', true, startedAt),
      ],
      containerStatuses: containerStatuses(pod, { running: { startedAt } }, true),
    },
  };
}

/** How the container's process ended. */
export interface ProcessEnd {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** The termination message (the tail of the log, for FallbackToLogsOnError). */
  readonly message?: string;
}

/** A container runtime's exit code: the process's own, or 128 + the signal that ended it. */
export function exitCodeOf(end: Pick<ProcessEnd, 'exitCode' | 'signal'>): number {
  if (end.exitCode !== null) return end.exitCode;
  return 128 + (end.signal === null ? 0 : constants.signals[end.signal]);
}

/** The container ended: Succeeded on exit code 0, Failed otherwise (restartPolicy Never). */
export function terminatedStatus(pod: V1Pod, end: ProcessEnd) {
  const exitCode = exitCodeOf(end);
  const succeeded = exitCode === 0;
  const terminated = {
    exitCode,
    ...(end.signal === null ? {} : { signal: constants.signals[end.signal] }),
    reason: succeeded ? 'Completed' : 'Error',
    startedAt: end.startedAt,
    finishedAt: end.finishedAt,
    ...(end.message === undefined || end.message === '' ? {} : { message: end.message }),
  };
  return {
    status: {
      phase: succeeded ? 'Succeeded' : 'Failed',
      conditions: [
        condition('PodReadyToStartContainers', false, end.finishedAt),
        condition('ContainersReady', false, end.finishedAt, 'PodCompleted'),
        condition('Ready', false, end.finishedAt, 'PodCompleted'),
      ],
      containerStatuses: containerStatuses(pod, { terminated }, false),
    },
  };
}

/** The last `maxLines` lines of a log, at most `maxBytes` of them (the kubelet's fallback). */
export function logTail(log: string, maxLines = 80, maxBytes = 2048): string {
  const tail = log.trimEnd().split('\n').slice(-maxLines).join('\n');
  return tail.length > maxBytes ? tail.slice(tail.length - maxBytes) : tail;
}
