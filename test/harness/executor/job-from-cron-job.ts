/**
 * A Job made from a CronJob's template, as `kubectl create job NAME --from=cronjob/CRON`
 * makes it: the template's labels, annotations and spec, the `instantiate: manual`
 * annotation, and the CronJob as its controlling owner.
 */

/** What {@link jobFromCronJob} reads of a CronJob. */
export interface CronJobLike {
  readonly metadata: { readonly name: string; readonly uid?: string };
  readonly spec?: {
    readonly jobTemplate?: {
      readonly metadata?: {
        readonly labels?: Record<string, string>;
        readonly annotations?: Record<string, string>;
      };
      readonly spec?: unknown;
    };
  };
}

/** The Job `kubectl create job NAME --from=cronjob/CRON` sends. */
export function jobFromCronJob(cronJob: CronJobLike, name: string) {
  const template = cronJob.spec?.jobTemplate;
  if (template?.spec === undefined || cronJob.metadata.uid === undefined) {
    throw new Error(`CronJob ${cronJob.metadata.name} has no jobTemplate.spec or uid`);
  }
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      labels: { ...template.metadata?.labels },
      // kubectl sets the annotation first, so the template's own annotations win.
      annotations: {
        'cronjob.kubernetes.io/instantiate': 'manual',
        ...template.metadata?.annotations,
      },
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          name: cronJob.metadata.name,
          uid: cronJob.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: template.spec,
  };
}

/**
 * The name the CronJob controller gives a scheduled Job (`<cronjob>-<minutes since the
 * epoch>`), used for manual Jobs too: CronJob names leave room for it, and two runs in the
 * same minute share a name, so a repeated request finds the Job that already exists.
 */
export function manualJobName(cronJobName: string, atMs: number): string {
  return `${cronJobName}-${Math.floor(atMs / 60_000)}`;
}
