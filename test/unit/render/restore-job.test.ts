import { describe, expect, it } from 'vitest';
import { parseBackupPolicy, parseRestore, type Restore } from '../../../src/api/index.js';
import {
  DEFAULT_RUN_SETTINGS,
  planRestore,
  RESTORE_LABEL,
  renderRestoreClaim,
  renderRestoreJob,
} from '../../../src/render/index.js';
import { fixtureYaml } from '../../harness/fixtures.js';

const policyObject = fixtureYaml('render/minimal.yaml');
const policy = parseBackupPolicy(policyObject);
const restoreObjects = fixtureYaml<unknown[]>('restore-pvc/restores.yaml');

function restoreAt(index: number): Restore {
  const parsed = parseRestore(restoreObjects[index]);
  if (!parsed.ok) throw new Error('the fixture must parse');
  return parsed.value;
}

interface PodSpec {
  serviceAccountName: string;
  securityContext: Record<string, unknown>;
  containers: {
    image: string;
    args: string[];
    volumeMounts: { name: string; mountPath: string }[];
  }[];
  volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[];
}

function podSpecOf(job: ReturnType<typeof renderRestoreJob>): PodSpec {
  return (job.spec as { template: { spec: PodSpec } }).template.spec;
}

describe('renderRestoreJob', () => {
  if (!policy.ok) throw new Error('the policy fixture must parse');
  const render = (index: number) =>
    renderRestoreJob({
      restore: restoreAt(index),
      restoreUid: 'restore-uid',
      policy: policy.value,
      settings: DEFAULT_RUN_SETTINGS,
    });

  it("runs pgbackup restore once in the drill image, as the policy's runner, owned by the Restore", () => {
    const job = render(0);
    expect(job.metadata).toMatchObject({
      name: 'newest-restore',
      namespace: 'db',
      labels: { [RESTORE_LABEL]: 'newest', 'app.kubernetes.io/component': 'restore' },
    });
    expect(job.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Restore', name: 'newest', uid: 'restore-uid' }),
    ]);
    expect(job.spec).toMatchObject({ backoffLimit: 0 });
    const pod = podSpecOf(job);
    expect(pod.serviceAccountName).toBe('minimal-runner');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    expect(pod.containers[0]?.image).toBe(DEFAULT_RUN_SETTINGS.verifyImage);
    expect(pod.containers[0]?.args).toEqual([
      'restore',
      '--policy',
      'db/minimal',
      '--type',
      'binary',
      '--target-dir',
      '/restore/pgdata',
      '--for-restore',
      'newest',
    ]);
  });

  it('mounts the claim at /restore beside the pod’s /tmp', () => {
    const pod = podSpecOf(render(0));
    expect(pod.volumes).toContainEqual({
      name: 'restore',
      persistentVolumeClaim: { claimName: 'restored' },
    });
    expect(pod.containers[0]?.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'restore', mountPath: '/restore' },
    ]);
  });

  it('passes the target or the line the Restore chose, and nothing secret', () => {
    const [instant, line] = [render(1), render(2)].map((job) => podSpecOf(job).containers[0]?.args);
    expect(instant).toContain('--target-time');
    expect(instant?.[instant.indexOf('--target-time') + 1]).toBe('2026-12-03T14:40:01.5Z');
    expect(line?.slice(5, 7)).toEqual(['--line', 'weekly']);
    expect(JSON.stringify(render(1))).not.toMatch(/secret|password|AWS_/i);
  });
});

describe('renderRestoreClaim', () => {
  it('asks for the size and class given, owned by nobody so it outlives the Restore', () => {
    expect(renderRestoreClaim(restoreAt(1))).toEqual({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: 'restored',
        namespace: 'db',
        labels: { [RESTORE_LABEL]: 'to-instant' },
        ownerReferences: [],
      },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '20Gi' } },
        storageClassName: 'fast',
      },
    });
  });
});

describe('planRestore', () => {
  const base = {
    restoreObject: restoreObjects[0],
    restoreName: 'newest',
    namespace: 'db',
    policyObject,
    claimExists: true,
    pods: [],
    restoreLabel: RESTORE_LABEL,
  };

  it('runs on an existing claim nobody uses', () => {
    expect(planRestore(base)).toMatchObject({ kind: 'run', createClaim: false });
  });

  it('creates a missing claim only when the Restore gives a size', () => {
    expect(planRestore({ ...base, claimExists: false })).toEqual({
      kind: 'refuse',
      message:
        'spec.pvc.name: PersistentVolumeClaim db/restored does not exist; nothing was restored and nothing was changed. Create it (empty), or give spec.pvc.size to have the Restore create it',
    });
    const sized = { ...base, restoreObject: restoreObjects[1], restoreName: 'to-instant' };
    expect(planRestore({ ...sized, claimExists: false })).toMatchObject({
      kind: 'run',
      createClaim: true,
    });
  });

  it('refuses a policy that does not exist', () => {
    expect(planRestore({ ...base, policyObject: undefined })).toEqual({
      kind: 'refuse',
      message:
        'spec.policy: BackupPolicy db/minimal does not exist; nothing was restored and nothing was changed. Check the name with "kubectl get backuppolicies -n db", then create a new Restore',
    });
  });

  it('refuses a policy without a bucket', () => {
    const { storage: _storage, ...spec } = (policyObject as { spec: Record<string, unknown> }).spec;
    // Valid without a bucket only while it takes no backups.
    const idle = { ...spec, binary: { enabled: false }, logical: { enabled: false } };
    const plan = planRestore({
      ...base,
      policyObject: { ...(policyObject as object), spec: idle },
    });
    expect(plan).toMatchObject({ kind: 'refuse' });
    expect(plan.kind === 'refuse' && plan.message).toContain('has no spec.storage.s3');
  });

  it('refuses a claim a running pod mounts, but not one its own Job or a finished pod mounted', () => {
    const mounting = (name: string, phase: string, labels: Record<string, string> = {}) => ({
      metadata: { name, labels },
      spec: { volumes: [{ persistentVolumeClaim: { claimName: 'restored' } }] },
      status: { phase },
    });
    const pods = [
      mounting('newest-restore-x1', 'Running', { [RESTORE_LABEL]: 'newest' }),
      mounting('old-job', 'Succeeded'),
    ];
    expect(planRestore({ ...base, pods })).toMatchObject({ kind: 'run' });
    expect(planRestore({ ...base, pods: [...pods, mounting('postgres-0', 'Running')] })).toEqual({
      kind: 'refuse',
      message:
        'spec.pvc.name: PersistentVolumeClaim db/restored is in use by pod postgres-0; nothing was restored and nothing was changed. A restore needs the claim to itself: stop what uses it (or choose another claim), then create a new Restore',
    });
  });
});
