import { describe, expect, it } from 'vitest';
import { type BackupPolicy, parseBackupPolicy } from '../../../src/api/index.js';
import {
  policyOwnerOf,
  renderWalReceiver,
  runnerRoleRulesOf,
  WAL_RECEIVER_METRICS_PORT,
  walReceiverNameOf,
  walSpoolClaimNameOf,
} from '../../../src/render/index.js';
import { fixtureYaml } from '../../harness/fixtures.js';

function policyOf(patch: (spec: Record<string, unknown>) => void = () => undefined): BackupPolicy {
  const raw = fixtureYaml<{ spec: Record<string, unknown> }>('render/continuous/policy.yaml');
  patch(raw.spec);
  const result = parseBackupPolicy(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value;
}

function render(policy: BackupPolicy) {
  return renderWalReceiver({
    policy,
    owner: policyOwnerOf(policy, 'uid-1'),
    defaultImage: 'pgbackup-operator:1.0.0',
  });
}

interface PodSpec {
  serviceAccountName: string;
  terminationGracePeriodSeconds: number;
  securityContext: Record<string, unknown>;
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  containers: {
    image: string;
    args: string[];
    ports: { name: string; containerPort: number }[];
    livenessProbe: { httpGet: { path: string; port: string } };
    resources?: unknown;
    securityContext: Record<string, unknown>;
    volumeMounts: { name: string; mountPath: string }[];
  }[];
  volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[];
}

function podSpecOf(policy: BackupPolicy): PodSpec {
  const deployment = render(policy).find((object) => object.kind === 'Deployment');
  const spec = deployment?.spec as { template: { spec: PodSpec } } | undefined;
  if (spec === undefined) throw new Error('no Deployment');
  return spec.template.spec;
}

describe('renderWalReceiver', () => {
  it('renders the spool claim, then a one-replica Recreate Deployment, both owned by the policy', () => {
    const [claim, deployment] = render(policyOf());
    expect(claim).toMatchObject({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'orders-wal-spool', namespace: 'shop' },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '20Gi' } },
        storageClassName: 'fast',
      },
    });
    expect(deployment).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'orders-wal', namespace: 'shop' },
      spec: { replicas: 1, strategy: { type: 'Recreate' } },
    });
    for (const object of [claim, deployment]) {
      expect(object?.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'BackupPolicy', name: 'orders', uid: 'uid-1' }),
      ]);
      expect(object?.metadata.labels).toMatchObject({
        'app.kubernetes.io/managed-by': 'pgbackup-operator',
        'app.kubernetes.io/component': 'wal-receiver',
        'pgbackup.dev/policy': 'orders',
      });
    }
    const spec = deployment?.spec as {
      selector: { matchLabels: unknown };
      template: { metadata: { labels: unknown } };
    };
    expect(spec.template.metadata.labels).toEqual(spec.selector.matchLabels);
  });

  it("runs wal-receive as the runner's account, in the restricted profile, with its own resources", () => {
    const pod = podSpecOf(policyOf());
    expect(pod.serviceAccountName).toBe('orders-runner');
    expect(pod.terminationGracePeriodSeconds).toBe(60);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    expect(pod.nodeSelector).toEqual({ disk: 'ssd' });
    expect(pod.tolerations).toHaveLength(1);
    const [container] = pod.containers;
    expect(container?.image).toBe('registry.example.com/pgbackup:1.2.3');
    expect(container?.args).toEqual([
      'wal-receive',
      '--policy',
      'shop/orders',
      '--spool',
      '/var/lib/pgbackup/wal-spool',
      '--metrics-address',
      `0.0.0.0:${WAL_RECEIVER_METRICS_PORT}`,
    ]);
    expect(container?.ports).toEqual([
      { name: 'metrics', containerPort: WAL_RECEIVER_METRICS_PORT, protocol: 'TCP' },
    ]);
    expect(container?.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container?.resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { memory: '256Mi' },
    });
    expect(container?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container?.volumeMounts).toContainEqual({
      name: 'spool',
      mountPath: '/var/lib/pgbackup/wal-spool',
    });
    expect(pod.volumes).toContainEqual({
      name: 'spool',
      persistentVolumeClaim: { claimName: 'orders-wal-spool' },
    });
  });

  it("caps V8's young generation through NODE_OPTIONS, the only variable in its environment", () => {
    const [container] = podSpecOf(policyOf()).containers as unknown as {
      env: { name: string; value: string }[];
    }[];
    expect(container?.env).toEqual([{ name: 'NODE_OPTIONS', value: '--max-semi-space-size=1' }]);
  });

  it('rolls the receiver when what it reads at start changes, and only then', () => {
    const hashOf = (policy: BackupPolicy) => {
      const deployment = render(policy).find((object) => object.kind === 'Deployment');
      if (deployment === undefined) throw new Error('no Deployment');
      const spec = deployment.spec as {
        template: { metadata: { annotations: Record<string, string> } };
      };
      return spec.template.metadata.annotations['pgbackup.dev/receiver-settings'];
    };
    const base = hashOf(policyOf());
    expect(base).toMatch(/^[0-9a-z]{7,}$/);
    expect(hashOf(policyOf())).toBe(base);
    const withInterval = policyOf((spec) => {
      (spec.continuous as Record<string, unknown>).uploadInterval = '30s';
    });
    expect(hashOf(withInterval)).not.toBe(base);
    const withPrefix = policyOf((spec) => {
      (spec.storage as { s3: Record<string, unknown> }).s3.prefix = 'elsewhere';
    });
    expect(hashOf(withPrefix)).not.toBe(base);
    const withLogicalChange = policyOf((spec) => {
      spec.logical = { enabled: false };
    });
    expect(hashOf(withLogicalChange)).toBe(base);
  });

  it("uses the release's image and no resources when the policy names none", () => {
    const pod = podSpecOf(
      policyOf((spec) => {
        spec.jobTemplate = {};
        spec.continuous = { enabled: true };
      }),
    );
    expect(pod.containers[0]?.image).toBe('pgbackup-operator:1.0.0');
    expect(pod.containers[0]).not.toHaveProperty('resources');
    expect(pod).not.toHaveProperty('nodeSelector');
    expect(render(policyOf((spec) => (spec.continuous = { enabled: true })))[0]?.spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '5Gi' } },
    });
  });

  it('renders nothing for a suspended policy or one without continuous protection', () => {
    expect(render(policyOf((spec) => (spec.suspend = true)))).toEqual([]);
    expect(render(policyOf((spec) => (spec.continuous = { enabled: false })))).toEqual([]);
    expect(render(policyOf((spec) => delete spec.continuous))).toEqual([]);
  });

  it('cuts long names with a hash so the ReplicaSet and pod names still fit', () => {
    const long = 'a'.repeat(60);
    const deployment = walReceiverNameOf(long);
    expect(deployment.length).toBeLessThanOrEqual(47);
    expect(walReceiverNameOf(`${long}b`)).not.toBe(deployment);
    expect(walSpoolClaimNameOf(long).length).toBeLessThanOrEqual(63);
    expect(walReceiverNameOf('orders')).toBe('orders-wal');
  });
});

describe('the runner Role of a policy with continuous protection', () => {
  it("lets the receiver read its policy and patch that policy's status, and nothing else's", () => {
    const rules = runnerRoleRulesOf(policyOf());
    expect(rules).toContainEqual({
      apiGroups: ['pgbackup.dev'],
      resources: ['backuppolicies/status'],
      resourceNames: ['orders'],
      verbs: ['get', 'patch'],
    });
    expect(rules).toContainEqual({
      apiGroups: ['pgbackup.dev'],
      resources: ['backuppolicies'],
      resourceNames: ['orders'],
      verbs: ['get'],
    });
  });

  it('grants no status write without continuous protection', () => {
    const rules = runnerRoleRulesOf(policyOf((spec) => (spec.continuous = { enabled: false })));
    expect(JSON.stringify(rules)).not.toContain('backuppolicies/status');
  });
});
