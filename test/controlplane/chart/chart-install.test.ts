/**
 * The chart as `helm install` would put it into a cluster: rendered by helm, validated by
 * kubeconform against the pinned Kubernetes version, applied into a namespace enforcing the
 * `restricted` Pod Security level, where the controller's pods pass admission. There is no
 * scheduler or kubelet: the Deployment and ReplicaSet controllers creating the Pod objects
 * is admission's verdict.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import {
  CHART_DIR,
  CHART_VALUE_CASES,
  EVERY_OPTION,
  renderChartObjects,
  renderChartTemplate,
  runHelm,
} from '../../harness/chart.js';
import { kubectl } from '../../harness/cluster-objects.js';
import { adminKubeConfig, createTestNamespace, restrictedPodSecurity } from '../../harness/kube.js';
import { runKubeconform } from '../../harness/kubeconform.js';
import { installCrds } from '../api/install-crds.js';

const WAIT = { timeout: 60_000, interval: 250 };
/** Kinds of the Prometheus Operator, validated against CRDs generated from its Go types. */
const MONITORING_KINDS = ['ServiceMonitor', 'PrometheusRule'];

interface Listed {
  items: {
    metadata: { name: string; labels?: Record<string, string> };
    reason?: string;
    message?: string;
    involvedObject?: { kind: string; name: string };
  }[];
}

async function listed(namespace: string, resource: string, selector?: string): Promise<Listed> {
  const args = ['get', resource, '-n', namespace, '-o', 'json'];
  return JSON.parse(await kubectl(selector === undefined ? args : [...args, '-l', selector]));
}

describe('the Helm chart', () => {
  it.each(CHART_VALUE_CASES)(
    'renders manifests kubeconform accepts for the pinned Kubernetes and Prometheus Operator (%s)',
    async (_name, values) => {
      const text = await renderChartTemplate(
        undefined,
        { name: 'rel', namespace: 'ops' },
        {
          values,
          includeCrds: true,
        },
      );
      const results = await runKubeconform(text);
      expect(results.filter((result) => result.status !== 'statusValid')).toEqual([]);
      const kinds = results.map((result) => result.kind);
      expect(kinds).toEqual(
        expect.arrayContaining([
          'CustomResourceDefinition',
          'Deployment',
          'ClusterRole',
          'Service',
        ]),
      );
      if (values === EVERY_OPTION) expect(kinds).toEqual(expect.arrayContaining(MONITORING_KINDS));
    },
  );

  it('tells the user what to apply next', async () => {
    const output = await runHelm([
      'install',
      'rel',
      CHART_DIR,
      '--namespace',
      'ops',
      '--dry-run=client',
    ]);
    const notes = output.slice(output.indexOf('NOTES:'));
    for (const expected of [
      'kubectl -n ops rollout status deployment/rel-controller',
      'create secret generic',
      'examples/quickstart.yaml',
      'kubectl -n <ns> get backuppolicies',
    ]) {
      expect(notes).toContain(expected);
    }
  });

  describe('installed into a namespace enforcing the restricted level', () => {
    let namespace = '';
    let release = '';

    beforeAll(async () => {
      await installCrds();
      namespace = await createTestNamespace(adminKubeConfig(), restrictedPodSecurity);
      release = `pgb-${namespace}`;
      const text = await renderChartTemplate(
        undefined,
        { name: release, namespace },
        { values: { replicas: 2 } },
      );
      await kubectl(['apply', '-f', '-'], text);
    });

    afterAll(async () => {
      if (release === '') return;
      await kubectl([
        'delete',
        'clusterrolebinding,clusterrole',
        `${release}-controller`,
        '--ignore-not-found',
      ]);
      await kubectl(['delete', 'namespace', namespace, '--wait=false']);
    });

    it('accepts every object the chart renders', async () => {
      const objects = await renderChartObjects(
        undefined,
        { name: release, namespace },
        { values: { replicas: 2 } },
      );
      for (const object of objects) {
        const { name } = object.metadata as { name: string };
        const found = await kubectl([
          'get',
          String(object.kind),
          name,
          '-n',
          namespace,
          '-o',
          'name',
        ]);
        expect(found.trim(), `${String(object.kind)} ${name}`).not.toBe('');
      }
    });

    it("admits the controller Deployment's pods: both replicas are created, none refused", async () => {
      const selector = `app.kubernetes.io/instance=${release},app.kubernetes.io/component=controller`;
      await vi.waitFor(async () => {
        const pods = await listed(namespace, 'pods', selector);
        expect(pods.items).toHaveLength(2);
      }, WAIT);
      const events = await listed(namespace, 'events');
      expect(events.items.filter((event) => event.reason === 'FailedCreate')).toEqual([]);
    });

    it('would refuse a controller pod that is not restricted (so the check above can fail)', async () => {
      const [deployment] = await renderChartObjects('deployment.yaml', {
        name: release,
        namespace,
      });
      const unsafe = structuredClone(deployment) as unknown as V1Deployment;
      const name = `${release}-unsafe`;
      const labels = { 'app.kubernetes.io/instance': name };
      const container = unsafe.spec?.template.spec?.containers[0];
      if (unsafe.spec === undefined || container === undefined) throw new Error('no Deployment');
      unsafe.metadata = { name };
      unsafe.spec.selector = { matchLabels: labels };
      unsafe.spec.template.metadata = { labels };
      container.securityContext = undefined;
      await kubectl(['apply', '-n', namespace, '-f', '-'], stringify(unsafe));
      await vi.waitFor(async () => {
        const events = await listed(namespace, 'events');
        const refused = events.items.filter(
          (event) =>
            event.reason === 'FailedCreate' &&
            event.involvedObject?.name.startsWith(`${release}-unsafe`),
        );
        expect(refused.map((event) => event.message).join('\n')).toContain(
          'violates PodSecurity "restricted:latest"',
        );
      }, WAIT);
      await kubectl(['delete', 'deployment', `${release}-unsafe`, '-n', namespace]);
    });
  });
});
