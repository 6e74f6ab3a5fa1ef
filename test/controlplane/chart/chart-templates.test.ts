/**
 * The chart rendered by the real helm (built from Go, so in the system tier though it needs
 * no server): it lints, its values schema refuses bad values by
 * name, and what it renders fits the controller it runs (arguments its parser accepts,
 * probes on its endpoints, alerts on metrics it exports).
 */
import type { V1Container, V1Deployment, V1PodSpec, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseControllerArguments } from '../../../src/cli/controller-arguments.js';
import { createControllerMetrics } from '../../../src/controller/controller-metrics.js';
import {
  CHART_DIR,
  CHART_VALUE_CASES,
  type ChartValues,
  EVERY_OPTION,
  renderChartObjects,
  runHelm,
} from '../../harness/chart.js';

const RELEASE = { name: 'rel', namespace: 'ops' };
const HELM_BUILD_MS = 600_000;

interface ServiceMonitor {
  spec: {
    selector: { matchLabels: Record<string, string> };
    namespaceSelector: unknown;
    endpoints: { port: string; path: string; honorLabels: boolean }[];
  };
}

interface Alert {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: string };
  annotations: { summary: string };
}

interface PrometheusRule {
  spec: { groups: { rules: Alert[] }[] };
}

/** The rendered objects by kind (the chart renders one of each). */
async function objectsOf(values: ChartValues = {}): Promise<Map<string, unknown>> {
  const objects = await renderChartObjects(undefined, RELEASE, { values });
  return new Map(objects.map((object) => [String(object.kind), object]));
}

async function rendered<T>(kind: string, values: ChartValues = {}): Promise<T> {
  const object = (await objectsOf(values)).get(kind);
  if (object === undefined) throw new Error(`the chart renders no ${kind}`);
  return object as T;
}

function controllerPod(deployment: V1Deployment): { pod: V1PodSpec; container: V1Container } {
  const pod = deployment.spec?.template.spec;
  const container = pod?.containers[0];
  if (pod === undefined || container === undefined) throw new Error('no controller container');
  return { pod, container };
}

async function alertsOf(values: ChartValues): Promise<Alert[]> {
  const rule = await rendered<PrometheusRule>('PrometheusRule', values);
  return rule.spec.groups.flatMap((group) => group.rules);
}

function helmFailure(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'helm succeeded',
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
}

describe('the Helm chart', () => {
  it.each(CHART_VALUE_CASES)(
    'passes helm lint --strict with %s',
    async (_name, values) => {
      const output = await runHelm(['lint', '--strict', CHART_DIR], values);
      expect(output).toContain('1 chart(s) linted, 0 chart(s) failed');
    },
    HELM_BUILD_MS,
  );

  it('renders the controller, its identity and metrics Service; monitoring only when asked', async () => {
    expect([...(await objectsOf()).keys()].sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'Service',
      'ServiceAccount',
    ]);
    expect([...(await objectsOf(EVERY_OPTION)).keys()]).toEqual(
      expect.arrayContaining(['ServiceMonitor', 'PrometheusRule']),
    );
  });

  it('refuses values its schema does not know, naming them', async () => {
    expect(await helmFailure(runHelm(['template', CHART_DIR], { replica: 2 }))).toContain(
      "additional properties 'replica' not allowed",
    );
    expect(await helmFailure(runHelm(['template', CHART_DIR], { replicas: 0 }))).toContain(
      '/replicas',
    );
    const badAlert = { prometheusRule: { alerts: { lineOverdue: { for: 'soon' } } } };
    expect(await helmFailure(runHelm(['template', CHART_DIR], badAlert))).toContain(
      '/prometheusRule/alerts/lineOverdue/for',
    );
  });

  it('runs the controller with arguments its parser accepts, probes on its endpoints, restricted', async () => {
    const { pod, container } = controllerPod(
      await rendered<V1Deployment>('Deployment', { controller: { watchNamespaces: ['a', 'b'] } }),
    );
    const [command, ...args] = container.args ?? [];
    expect(command).toBe('controller');
    const parsed = parseControllerArguments(args);
    if (parsed === 'help') throw new Error('the chart asks for help');
    expect(parsed).toMatchObject({
      namespaces: ['a', 'b'],
      metricsAddress: '0.0.0.0:8080',
      leaseNamespace: 'ops',
      leaseName: 'rel-controller',
      runnerImage: 'pgbackup-operator:0.1.0',
      // The controller derives the drill image, pgbackup-operator:0.1.0-drill.
      verifyImage: undefined,
    });
    expect(container.ports).toEqual([{ name: 'metrics', containerPort: 8080, protocol: 'TCP' }]);
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    // The only writable place on a read-only root.
    expect(container.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(container.resources?.requests).toBeDefined();
    expect(pod.serviceAccountName).toBe('rel-controller');
  });

  it('passes a drill image when one is set', async () => {
    const { container } = controllerPod(
      await rendered<V1Deployment>('Deployment', { verifyImage: 'mirror.local/drill:7' }),
    );
    const parsed = parseControllerArguments(container.args?.slice(1) ?? []);
    expect(parsed).toMatchObject({ verifyImage: 'mirror.local/drill:7' });
  });

  it('spreads two replicas, which share one Lease', async () => {
    const deployment = await rendered<V1Deployment>('Deployment', { replicas: 2 });
    const { pod, container } = controllerPod(deployment);
    expect(deployment.spec?.replicas).toBe(2);
    expect(pod.affinity?.podAntiAffinity).toBeDefined();
    expect(container.args).toContain('--lease-name=rel-controller');
  });

  it('scrapes the metrics Service, keeping the policy namespace label of the series', async () => {
    const service = await rendered<V1Service>('Service', EVERY_OPTION);
    const monitor = await rendered<ServiceMonitor>('ServiceMonitor', EVERY_OPTION);
    expect(service.metadata?.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(monitor.spec.namespaceSelector).toEqual({ matchNames: ['ops'] });
    const [endpoint] = monitor.spec.endpoints;
    expect(service.spec?.ports?.map((port) => port.name)).toContain(endpoint?.port);
    expect(endpoint).toMatchObject({ path: '/metrics', honorLabels: true });
  });

  it('alerts only on metrics the controller exports, each with a severity and a summary', async () => {
    const alerts = await alertsOf(EVERY_OPTION);
    expect(alerts.map((alert) => alert.alert)).toEqual([
      'PgBackupLineOverdue',
      'PgBackupLastRunFailed',
      'PgBackupStaleSlot',
      'PgBackupLeftoverReplicationSlot',
      'PgBackupWalLagging',
      'PgBackupWalGap',
      'PgBackupSlotRetainingWal',
    ]);
    const exported = new Set(
      createControllerMetrics(() => 0)
        .registry.getMetricsAsArray()
        .map((metric) => metric.name),
    );
    for (const alert of alerts) {
      const used = alert.expr.match(/pgbackup_[a-z_]+/g) ?? [];
      expect(used.length, alert.alert).toBeGreaterThan(0);
      expect(
        used.filter((name) => !exported.has(name)),
        alert.alert,
      ).toEqual([]);
      expect(alert.labels.severity, alert.alert).toMatch(/^(critical|warning|info)$/);
      expect(alert.annotations.summary, alert.alert).toContain('{{ $labels.policy }}');
      expect(alert.for, alert.alert).toMatch(/^\d+[smh]$/);
    }
  });

  it('leaves out an alert that is switched off', async () => {
    const values = {
      prometheusRule: {
        enabled: true,
        alerts: { staleSlots: { enabled: false, for: '1h', severity: 'info' } },
      },
    };
    const names = (await alertsOf(values)).map((alert) => alert.alert);
    expect(names).toEqual([
      'PgBackupLineOverdue',
      'PgBackupLastRunFailed',
      'PgBackupLeftoverReplicationSlot',
      'PgBackupWalLagging',
      'PgBackupWalGap',
      'PgBackupSlotRetainingWal',
    ]);
  });
});
