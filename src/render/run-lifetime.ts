/**
 * The longest a backup run can live. Kubernetes ends a run's Job at its
 * `activeDeadlineSeconds` (the run deadline, which the CronJobs and on-demand Jobs are
 * rendered with) and its pod after the termination grace period; so anything a run wrote that
 * is older than that was written by a run that is gone. Clean-up after dead runs relies on
 * it: it must never take a live run's unfinished upload.
 */

/** The run deadline when the controller is given none: 23 hours, so a stuck daily run ends before the next is due. */
export const DEFAULT_RUN_DEADLINE_SECONDS = 23 * 3600;

/**
 * How long Kubernetes lets a runner pod stop after its deadline before it kills it: the
 * pod default, which the runner pods keep.
 */
const TERMINATION_GRACE_SECONDS = 30;

/**
 * What the cutoff allows for clocks that disagree: the runner compares its own clock with
 * the time the object store (or the volume's file system) recorded, which another node kept.
 */
const CLOCK_SKEW_ALLOWANCE_SECONDS = 15 * 60;

/** The longest a run with this deadline can live, in milliseconds, skew allowance included. */
export function longestRunLifetimeMs(runDeadlineSeconds: number): number {
  return (runDeadlineSeconds + TERMINATION_GRACE_SECONDS + CLOCK_SKEW_ALLOWANCE_SECONDS) * 1000;
}

/**
 * The instant before which an unfinished upload or a manifest-less object can only belong to
 * a dead run of a policy whose runs have `runDeadlineSeconds`.
 */
export function deadRunCutoffMs(nowMs: number, runDeadlineSeconds: number): number {
  return nowMs - longestRunLifetimeMs(runDeadlineSeconds);
}
