import { describe, expect, it } from 'vitest';
import { type BackupPolicy, parseBackup, parseBackupPolicy } from '../../../src/api/index.js';
import {
  DEFAULT_RUN_SETTINGS,
  policyOwnerOf,
  renderBackupJob,
  renderCronJobs,
  renderRunnerRbac,
  renderWalReceiver,
  runnerRoleRulesOf,
} from '../../../src/render/index.js';
import { fixtureYaml } from '../../harness/fixtures.js';

const IDENTITY_SECRET = 'orders-age-identity';
const IDENTITY_KEY = 'orders-age-identity.txt';

function policyFixture(name: string): BackupPolicy {
  const result = parseBackupPolicy(fixtureYaml(`render/${name}.yaml`));
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value;
}

const policy = policyFixture('encrypted');
const owner = policyOwnerOf(policy, '6a1f0d7e-0000-4000-8000-000000000018');

/** Whatever in `manifest` would give its pods the identity: its Secret, key or mount. */
function identityMentions(manifest: unknown): string[] {
  const text = JSON.stringify(manifest);
  return [IDENTITY_SECRET, IDENTITY_KEY, '/etc/pgbackup/identity'].filter((word) =>
    text.includes(word),
  );
}

describe('the runner of an encrypting policy', () => {
  it("may read the recipients' Secret and ConfigMap by name, and never the identity's Secret", () => {
    const rules = runnerRoleRulesOf(policy);
    expect(rules).toContainEqual({
      apiGroups: [''],
      resources: ['secrets'],
      resourceNames: ['orders-backup', 'orders-repl', 's3-creds', 'backup-recipients'],
      verbs: ['get'],
    });
    expect(rules).toContainEqual({
      apiGroups: [''],
      resources: ['configmaps'],
      resourceNames: ['backup-public-keys'],
      verbs: ['get'],
    });
    for (const manifest of renderRunnerRbac(policy, owner)) {
      expect(identityMentions(manifest)).toEqual([]);
    }
  });

  it('may read no ConfigMap when no recipient is in one (an empty list would grant them all)', () => {
    const rules = runnerRoleRulesOf(policyFixture('every-field'));
    expect(rules.filter((rule) => (rule.resources as string[]).includes('configmaps'))).toEqual([]);
  });

  it("backup CronJobs' pods hold no identity: no volume, env or argument names it", () => {
    const cronJobs = renderCronJobs({ policy, uid: owner.uid, settings: DEFAULT_RUN_SETTINGS });
    const backups = cronJobs.filter((cronJob) => cronJob.status.type !== 'verify');
    expect(backups.map((cronJob) => cronJob.manifest.metadata.name)).toEqual([
      'orders-binary-daily',
      'orders-binary-weekly',
      'orders-logical-weekly',
    ]);
    for (const cronJob of backups) {
      expect(identityMentions(cronJob.manifest), cronJob.manifest.metadata.name).toEqual([]);
    }
  });

  it("an on-demand backup's Job holds no identity", () => {
    const backup = parseBackup({
      apiVersion: 'pgbackup.dev/v1alpha1',
      kind: 'Backup',
      metadata: { name: 'orders-now', namespace: 'shop' },
      spec: { policy: 'orders', type: 'binary' },
    });
    if (!backup.ok) throw new Error(JSON.stringify(backup.issues));
    const job = renderBackupJob({
      backup: backup.value,
      backupUid: 'backup-uid',
      policy,
      settings: DEFAULT_RUN_SETTINGS,
    });
    expect(identityMentions(job)).toEqual([]);
  });

  it("the WAL receiver's Deployment holds no identity", () => {
    const manifests = renderWalReceiver({ policy, owner, defaultImage: 'pgbackup-operator:1' });
    expect(manifests.map((manifest) => manifest.kind)).toContain('Deployment');
    for (const manifest of manifests) expect(identityMentions(manifest)).toEqual([]);
  });
});
