import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type BackupPolicy, parseBackupPolicy } from '../../../src/api/index.js';
import {
  CRON_JOB_NAME_MAX,
  cronJobNameOf,
  DEFAULT_RUN_SETTINGS,
  renderCronJobs,
} from '../../../src/render/index.js';
import { cronScheduleOf, retentionPlanOf } from '../../../src/retention/index.js';
import { fixtureYaml } from '../../harness/fixtures.js';

function policyFixture(name: string): { policy: BackupPolicy; uid: string } {
  const doc = fixtureYaml<{ metadata: { uid: string } }>(`render/${name}.yaml`);
  const result = parseBackupPolicy(doc);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return { policy: result.value, uid: doc.metadata.uid };
}

function render(name: string) {
  const { policy, uid } = policyFixture(name);
  return renderCronJobs({ policy, uid, settings: DEFAULT_RUN_SETTINGS });
}

type Json = Record<string, unknown>;
const at = (value: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((node, key) => (node as Json | undefined)?.[key as string], value);
/** The pod spec of a CronJob's Job template. */
const podOf = (manifest: unknown): unknown =>
  at(manifest, 'spec', 'jobTemplate', 'spec', 'template', 'spec');

describe('renderCronJobs', () => {
  it('wants one CronJob per enabled type and line, plus the restore drill', () => {
    const names = render('every-field').map((cronJob) => cronJob.manifest.metadata.name);
    expect(names).toEqual([
      'orders-binary-daily',
      'orders-binary-weekly',
      'orders-binary-monthly',
      'orders-binary-quarterly',
      'orders-binary-yearly',
      'orders-logical-weekly',
      'orders-logical-monthly',
      'orders-logical-quarterly',
      'orders-logical-yearly',
      'orders-verify',
    ]);
  });

  it('renders the full CronJobs of a policy using every setting', async () => {
    const manifests = render('every-field').map((cronJob) => cronJob.manifest);
    await expect(stringify(manifests, { aliasDuplicateObjects: false })).toMatchFileSnapshot(
      '../../fixtures/render/every-field.cronjobs.yaml',
    );
  });

  it("runs backups in the release's image and drills in its drill image, unless the policy names one", () => {
    const { policy, uid } = policyFixture('every-field');
    const settings = { ...DEFAULT_RUN_SETTINGS, defaultImage: 'op:1', verifyImage: 'op:1-drill' };
    const imageOf = (manifest: unknown) => at(podOf(manifest), 'containers', 0, 'image');
    const released = {
      ...policy,
      spec: { ...policy.spec, jobTemplate: { ...policy.spec.jobTemplate, image: '' } },
    };
    for (const { manifest, status } of renderCronJobs({ policy: released, uid, settings })) {
      expect(imageOf(manifest)).toBe(status.type === 'verify' ? 'op:1-drill' : 'op:1');
    }
    // The policy's own image serves both: the user says it carries what the drill needs.
    for (const { manifest } of renderCronJobs({ policy, uid, settings })) {
      expect(imageOf(manifest)).toBe('registry.example.com/pgbackup:1.2.3');
    }
  });

  it("takes each line's schedule and time zone from the retention engine", () => {
    const { policy } = policyFixture('every-field');
    const plan = retentionPlanOf(policy.spec);
    for (const { manifest, status } of render('every-field')) {
      if (status.type === 'verify' || status.line === undefined) continue;
      const expected = cronScheduleOf({ schedule: plan.schedule, line: status.line });
      expect(at(manifest, 'spec', 'schedule')).toBe(expected.schedule);
      expect(at(manifest, 'spec', 'timeZone')).toBe('Europe/Berlin');
      expect(status.schedule).toBe(expected.schedule);
    }
  });

  it('forbids overlapping runs and bounds every run and the history', () => {
    for (const { manifest } of render('minimal')) {
      expect(at(manifest, 'spec')).toMatchObject({
        concurrencyPolicy: 'Forbid',
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        startingDeadlineSeconds: 6 * 3600,
      });
      expect(at(manifest, 'spec', 'jobTemplate', 'spec', 'activeDeadlineSeconds')).toBe(82_800);
      expect(at(manifest, 'spec', 'jobTemplate', 'spec', 'backoffLimit')).toBe(0);
    }
  });

  it('passes the restricted Pod Security level', () => {
    for (const { manifest } of render('every-field')) {
      const pod = podOf(manifest);
      expect(at(pod, 'securityContext')).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(at(pod, 'containers', 0, 'securityContext')).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(at(pod, 'containers', 0, 'volumeMounts', 0)).toEqual({
        name: 'tmp',
        mountPath: '/tmp',
      });
    }
  });

  it('gives runner and drill pods no credentials in their environment: they read the Secrets through the API', () => {
    // One path for credentials: the runner's service account may read exactly the policy's
    // Secrets (runner RBAC), so nothing of them is copied into the pod's environment.
    for (const { manifest } of render('every-field')) {
      const container = at(podOf(manifest), 'containers', 0) as Json;
      // Only V8's settings (RUNNER_NODE_OPTIONS), no secret.
      expect(container.env).toEqual([{ name: 'NODE_OPTIONS', value: '--max-semi-space-size=1' }]);
      expect(container).not.toHaveProperty('envFrom');
      expect(JSON.stringify(manifest)).not.toMatch(/secretKeyRef|PGPASSWORD|AWS_/);
    }
  });

  it('gives the runner its policy, type and line as arguments', () => {
    const [daily] = render('minimal');
    const container = at(podOf(daily?.manifest), 'containers', 0);
    expect(at(container, 'args')).toEqual([
      'run',
      '--policy',
      'db/minimal',
      '--type',
      'binary',
      '--line',
      'daily',
    ]);
    expect(at(container, 'image')).toBe(DEFAULT_RUN_SETTINGS.defaultImage);
  });

  it('applies the jobTemplate overrides and mounts the local copy on the binary daily only', () => {
    const [daily, weekly] = render('every-field');
    const dailyPod = podOf(daily?.manifest);
    expect(at(dailyPod, 'nodeSelector')).toEqual({ disk: 'ssd' });
    expect(at(dailyPod, 'tolerations', 0, 'key')).toBe('dedicated');
    expect(at(dailyPod, 'containers', 0, 'image')).toBe('registry.example.com/pgbackup:1.2.3');
    expect(at(dailyPod, 'containers', 0, 'resources')).toEqual({
      requests: { cpu: '500m', memory: '256Mi' },
      limits: { memory: '1Gi' },
    });
    expect(at(dailyPod, 'volumes', 1, 'persistentVolumeClaim', 'claimName')).toBe('orders-local');
    const weeklyPod = podOf(weekly?.manifest);
    expect(at(weeklyPod, 'volumes')).toHaveLength(1);
  });

  it('is owned by the policy, so the garbage collector removes it with the policy', () => {
    const [daily] = render('minimal');
    expect(daily?.manifest.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'pgbackup.dev/v1alpha1',
        kind: 'BackupPolicy',
        name: 'minimal',
        uid: '6a1f0d7e-0000-4000-8000-000000000002',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });

  it('suspends every CronJob of a suspended policy', () => {
    const { policy, uid } = policyFixture('minimal');
    const suspended = { ...policy, spec: { ...policy.spec, suspend: true } };
    const cronJobs = renderCronJobs({ policy: suspended, uid, settings: DEFAULT_RUN_SETTINGS });
    expect(cronJobs.map(({ manifest }) => at(manifest, 'spec', 'suspend'))).toEqual(
      cronJobs.map(() => true),
    );
  });

  it('cuts long names to the CronJob limit with a stable hash that keeps them apart', () => {
    const names = render('long-name').map((cronJob) => cronJob.manifest.metadata.name);
    expect(names).toHaveLength(1);
    const [name] = names;
    expect(name?.length).toBeLessThanOrEqual(CRON_JOB_NAME_MAX);
    expect(name).toMatch(/^a-very-long-policy-name-for-the-orders-[a-z0-9-]*[a-z0-9]$/);
    const policy = 'a-very-long-policy-name-for-the-orders-database-of-the-shop';
    const yearly = cronJobNameOf(policy, { type: 'logical', line: 'yearly' });
    expect(yearly).not.toBe(name);
    expect(cronJobNameOf(policy, { type: 'logical', line: 'quarterly' })).toBe(name);
  });
});
