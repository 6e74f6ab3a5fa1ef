import { describe, expect, it } from 'vitest';
import { type BackupPolicy, parseBackupPolicy, parseRestore } from '../../../src/api/index.js';
import {
  DEFAULT_RUN_SETTINGS,
  planRestore,
  RESTORE_LABEL,
  renderCronJobs,
  renderRestoreJob,
} from '../../../src/render/index.js';
import { fixtureYaml } from '../../harness/fixtures.js';

function policyFixture(name: string): BackupPolicy {
  const parsed = parseBackupPolicy(fixtureYaml(`render/${name}.yaml`));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

const encrypted = policyFixture('encrypted-minimal');
const plain = policyFixture('minimal');

interface PodSpec {
  securityContext: { runAsUser: number; fsGroup: number };
  containers: {
    args: string[];
    env?: { name: string }[];
    volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  }[];
  volumes: { name: string; secret?: unknown }[];
}

function restoreJobPod(policy: BackupPolicy): PodSpec {
  const restores = fixtureYaml<unknown[]>('restore-pvc/restores.yaml');
  const restore = parseRestore(restores[0]);
  if (!restore.ok) throw new Error('the Restore fixture must parse');
  const job = renderRestoreJob({
    restore: restore.value,
    restoreUid: 'restore-uid',
    policy,
    settings: DEFAULT_RUN_SETTINGS,
  });
  return (job.spec as { template: { spec: PodSpec } }).template.spec;
}

function cronJobPods(policy: BackupPolicy): { type: string; pod: PodSpec }[] {
  return renderCronJobs({ policy, uid: 'uid', settings: DEFAULT_RUN_SETTINGS }).map((cronJob) => ({
    type: cronJob.status.type,
    pod: (
      cronJob.manifest.spec as {
        jobTemplate: { spec: { template: { spec: PodSpec } } };
      }
    ).jobTemplate.spec.template.spec,
  }));
}

const IDENTITY_VOLUME = {
  name: 'age-identity',
  secret: {
    secretName: 'minimal-age-identity',
    items: [{ key: 'key.txt', path: 'identity.txt' }],
    defaultMode: 0o400,
  },
};
const IDENTITY_MOUNT = {
  name: 'age-identity',
  mountPath: '/etc/pgbackup/identity',
  readOnly: true,
};

describe('the identity of an encrypting policy', () => {
  it("is mounted into the drill's pod (only its key, mode 0400, read-only) and passed as --identity", () => {
    const drills = cronJobPods(encrypted).filter(({ type }) => type === 'verify');
    expect(drills).toHaveLength(1);
    const pod = drills[0]?.pod;
    expect(pod?.volumes).toContainEqual(IDENTITY_VOLUME);
    expect(pod?.containers[0]?.volumeMounts).toContainEqual(IDENTITY_MOUNT);
    expect(pod?.containers[0]?.args.slice(-2)).toEqual([
      '--identity',
      '/etc/pgbackup/identity/identity.txt',
    ]);
  });

  it("is mounted into the Restore's pod and passed as --identity", () => {
    const pod = restoreJobPod(encrypted);
    expect(pod.volumes).toContainEqual(IDENTITY_VOLUME);
    expect(pod.containers[0]?.volumeMounts).toContainEqual(IDENTITY_MOUNT);
    expect(pod.containers[0]?.args.slice(-2)).toEqual([
      '--identity',
      '/etc/pgbackup/identity/identity.txt',
    ]);
  });

  it("reaches the runner's user through the pod's fsGroup (the kubelet makes the 0400 file group-readable)", () => {
    const pod = restoreJobPod(encrypted);
    expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsUser);
  });

  it('is never in a backup pod: no volume, mount, argument or environment names it', () => {
    const backups = cronJobPods(encrypted).filter(({ type }) => type !== 'verify');
    expect(backups.map(({ type }) => type).sort()).toEqual(
      expect.arrayContaining(['binary', 'logical']),
    );
    for (const { pod } of backups) {
      const text = JSON.stringify(pod);
      for (const word of ['minimal-age-identity', '/etc/pgbackup/identity', '--identity']) {
        expect(text).not.toContain(word);
      }
    }
  });

  it('leaves the pods of a policy without encryption as they were', () => {
    for (const pod of [restoreJobPod(plain), ...cronJobPods(plain).map(({ pod }) => pod)]) {
      expect(pod.volumes.map((volume) => volume.name)).not.toContain('age-identity');
      expect(pod.containers[0]?.args).not.toContain('--identity');
    }
  });
});

describe('a Restore of an encrypting policy', () => {
  const plan = (policyObject: unknown, identitySecretKeys?: readonly string[]) =>
    planRestore({
      identitySecretKeys,
      restoreObject: fixtureYaml<unknown[]>('restore-pvc/restores.yaml')[0],
      restoreName: 'newest',
      namespace: 'db',
      policyObject,
      claimExists: true,
      pods: [],
      restoreLabel: RESTORE_LABEL,
    });

  it('runs when the policy names the identity and its Secret holds the key', () => {
    expect(plan(fixtureYaml('render/encrypted-minimal.yaml'), ['key.txt'])).toMatchObject({
      kind: 'run',
    });
  });

  it('is refused when the identity Secret is missing (its pod would wait for the volume until the deadline)', () => {
    expect(plan(fixtureYaml('render/encrypted-minimal.yaml'), undefined)).toEqual({
      kind: 'refuse',
      message:
        'spec.storage.encryption.identity.secretKeyRef of BackupPolicy db/minimal: Secret db/minimal-age-identity does not exist; nothing was restored and nothing was changed. Create it with the age identity (kubectl create secret generic minimal-age-identity --from-file=key.txt=KEY.txt), then create a new Restore',
    });
  });

  it('is refused when the identity Secret lacks the key', () => {
    expect(plan(fixtureYaml('render/encrypted-minimal.yaml'), ['identity'])).toEqual({
      kind: 'refuse',
      message:
        'spec.storage.encryption.identity.secretKeyRef of BackupPolicy db/minimal: Secret db/minimal-age-identity has no key "key.txt"; nothing was restored and nothing was changed. Put the age identity under that key, or name the key it is under, then create a new Restore',
    });
  });

  it('is refused, touching nothing, when the policy names no identity: the message names the field', () => {
    const policyObject = fixtureYaml<{
      spec: { storage: { encryption: Record<string, unknown> } };
    }>('render/encrypted-minimal.yaml');
    delete policyObject.spec.storage.encryption.identity;
    // With drills the policy itself would be invalid without an identity.
    Object.assign(policyObject.spec, { verify: { schedule: 'never' } });

    expect(plan(policyObject)).toEqual({
      kind: 'refuse',
      message:
        'spec.policy: BackupPolicy db/minimal encrypts its backups (spec.storage.encryption) and names no identity to read them with; nothing was restored and nothing was changed. Put the age identity in a Secret of its own (kubectl create secret generic minimal-age-identity --from-file=key.txt=KEY.txt), name it in spec.storage.encryption.identity.secretKeyRef, then create a new Restore',
    });
  });
});
