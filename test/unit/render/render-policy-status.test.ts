import { describe, expect, it } from 'vitest';
import {
  type Backup,
  type BackupPolicy,
  parseBackup,
  parseBackupPolicy,
} from '../../../src/api/index.js';
import {
  DEFAULT_RUN_SETTINGS,
  findMissingReference,
  renderCronJobs,
  renderPolicyStatus,
  renderSlotTable,
  validatePolicyObject,
} from '../../../src/render/index.js';
import { retentionPlanOf } from '../../../src/retention/index.js';
import { fixtureYaml } from '../../harness/fixtures.js';

function minimal(): BackupPolicy {
  const result = parseBackupPolicy(fixtureYaml('render/minimal.yaml'));
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value;
}

function backups(): Backup[] {
  return fixtureYaml<unknown[]>('render/backups.yaml').map((doc) => {
    const result = parseBackup(doc);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    return result.value;
  });
}

const NOW = '2026-11-26T12:00:00Z';
const NOW_MS = Date.parse(NOW);

describe('renderSlotTable', () => {
  const plan = retentionPlanOf(minimal().spec);
  const table = renderSlotTable({ plan, backups: backups(), nowMs: NOW_MS });

  it('has a row for every slot of every enabled line', () => {
    // binary 7+4+3+4+2, logical 4+3+4+2
    expect(table).toHaveLength(20 + 13);
  });

  it('shows the newest completed backup of a slot and marks it stale after a failed run', () => {
    expect(table[0]).toEqual({
      type: 'binary',
      line: 'daily',
      slot: 0,
      label: 'thu',
      backup: 'minimal-binary-daily-20261119',
      time: '2026-11-19T01:02:00Z',
      sizeBytes: 1048576,
      stale: true,
    });
    expect(table[1]).toMatchObject({ backup: 'minimal-binary-daily-20261120', stale: false });
  });

  it('labels empty slots by their latest period and ignores on-demand backups', () => {
    expect(table.slice(0, 7).map((row) => row.label)).toEqual([
      'thu',
      'fri',
      'sat',
      'sun',
      'mon',
      'tue',
      'wed',
    ]);
    expect(table[2]).toEqual({
      type: 'binary',
      line: 'daily',
      slot: 2,
      label: 'sat',
      stale: false,
    });
    expect(table.some((row) => row.backup === 'minimal-now')).toBe(false);
  });
});

describe('renderPolicyStatus', () => {
  const policy = minimal();
  const cronJobs = renderCronJobs({ policy, uid: 'u', settings: DEFAULT_RUN_SETTINGS }).map(
    (cronJob) => cronJob.status,
  );

  it('reports Ready, Reconciled and the last backup for an applied policy', () => {
    const status = renderPolicyStatus({
      generation: 4,
      previous: undefined,
      outcome: { kind: 'applied', cronJobs, slots: [], suspended: false },
      backups: backups(),
      now: NOW,
    });
    expect(status.observedGeneration).toBe(4);
    expect(status.cronJobs).toHaveLength(9);
    expect(status.lastBackupTime).toBe('2026-11-26T10:00:00Z');
    expect(status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'True', 'Scheduled'],
      ['Reconciled', 'True', 'Applied'],
      ['LastBackupSucceeded', 'True', 'BackupCompleted'],
    ]);
  });

  it('keeps the transition time of a condition whose status did not change', () => {
    const first = renderPolicyStatus({
      generation: 1,
      previous: undefined,
      outcome: { kind: 'applied', cronJobs, slots: [], suspended: false },
      backups: [],
      now: '2026-11-01T00:00:00Z',
    });
    const second = renderPolicyStatus({
      generation: 2,
      previous: first,
      outcome: { kind: 'applied', cronJobs, slots: [], suspended: true },
      backups: [],
      now: NOW,
    });
    expect(second.conditions?.[0]).toMatchObject({
      reason: 'Suspended',
      lastTransitionTime: '2026-11-01T00:00:00Z',
      observedGeneration: 2,
    });
    expect(second.conditions?.[2]).toMatchObject({ status: 'Unknown', reason: 'NoBackupYet' });
  });

  it('sets Ready=False naming the field of an invalid policy and keeps the last CronJobs', () => {
    const doc = fixtureYaml('render/invalid/unknown-time-zone.yaml');
    const validity = validatePolicyObject(doc, 'minimal');
    expect(validity.ok).toBe(false);
    if (validity.ok) return;
    expect(validity.problem.reason).toBe('UnknownTimeZone');
    expect(validity.problem.message).toContain('spec.timeZone');
    const previous = { observedGeneration: 1, cronJobs };
    const status = renderPolicyStatus({
      generation: 2,
      previous,
      outcome: { kind: 'invalid', problem: validity.problem },
      backups: [],
      now: NOW,
    });
    expect(status.conditions?.[0]).toMatchObject({
      type: 'Ready',
      status: 'False',
      reason: 'UnknownTimeZone',
    });
    expect(status.cronJobs).toBe(cronJobs);
  });

  it('keeps Ready as it was and says in Reconciled what the API server refused', () => {
    const applied = renderPolicyStatus({
      generation: 1,
      previous: undefined,
      outcome: { kind: 'applied', cronJobs, slots: [], suspended: false },
      backups: backups(),
      now: '2026-11-01T00:00:00Z',
    });
    const failed = renderPolicyStatus({
      generation: 2,
      previous: applied,
      outcome: { kind: 'failed', message: 'apply CronJob db/minimal-binary-daily: 422 Invalid' },
      backups: backups(),
      now: NOW,
    });
    expect(failed.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'True', 'Scheduled'],
      ['Reconciled', 'False', 'ApplyFailed'],
      ['LastBackupSucceeded', 'True', 'BackupCompleted'],
    ]);
    expect(failed.conditions?.[1]?.message).toContain('422 Invalid');
    expect(failed.cronJobs).toEqual(applied.cronJobs);
  });

  const everything = { secretExists: () => true, configMapExists: () => true };

  it('names the field of a Secret that does not exist', () => {
    const problem = findMissingReference(policy, {
      ...everything,
      secretExists: (name) => name !== 'pg-creds',
    });
    expect(problem?.reason).toBe('SecretNotFound');
    expect(problem?.message).toContain('spec.target.credentials.secretName: Secret "pg-creds"');
    expect(findMissingReference(policy, everything)).toBeUndefined();
  });

  describe('of an encrypting policy', () => {
    const plain = minimal();
    const withKeys: BackupPolicy = {
      ...plain,
      spec: {
        ...plain.spec,
        storage: {
          s3: {
            bucket: 'backups',
            prefix: '',
            region: 'us-east-1',
            endpoint: '',
            forcePathStyle: false,
          },
          ...plain.spec.storage,
          encryption: {
            recipients: [
              { secretKeyRef: { name: 'team-keys', key: 'recipients' } },
              { configMapKeyRef: { name: 'public-keys', key: 'recipients' } },
            ],
            identity: { secretKeyRef: { name: 'backup-identity', key: 'key.txt' } },
          },
        },
      },
    };

    it("names a recipient's Secret, the identity's Secret and a recipient's ConfigMap", () => {
      const missing = (absent: string) =>
        findMissingReference(withKeys, {
          secretExists: (name) => name !== absent,
          configMapExists: (name) => name !== absent,
        });
      expect(missing('team-keys')?.message).toContain(
        'spec.storage.encryption.recipients[0].secretKeyRef.name: Secret "team-keys" does not exist',
      );
      expect(missing('backup-identity')?.message).toContain(
        'spec.storage.encryption.identity.secretKeyRef.name: Secret "backup-identity" does not exist',
      );
      const configMap = missing('public-keys');
      expect(configMap?.reason).toBe('ConfigMapNotFound');
      expect(configMap?.message).toContain(
        'spec.storage.encryption.recipients[1].configMapKeyRef.name: ConfigMap "public-keys" does not exist',
      );
      expect(findMissingReference(withKeys, everything)).toBeUndefined();
    });
  });
});
