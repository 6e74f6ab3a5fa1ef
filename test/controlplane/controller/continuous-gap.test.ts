/**
 * A gap from end to end, in a cluster: the WAL receiver the controller renders streams from a
 * scratch primary whose max_slot_wal_keep_size is small; while the receiver is stopped the
 * primary writes past it and the slot is invalidated. Started again, the receiver reports a
 * Gap with the missing range; the controller says Continuous=False/Gap, exports the gap (the
 * chart's PgBackupWalGap fires on it, by promtool) and creates one on-demand binary Backup;
 * that backup is taken, and the receiver and the condition return to Streaming (and the alert
 * clears).
 *
 * No kubelet runs pods here: the test runs the receiver's container and the Backup's Job as
 * their pods would (their own arguments, the runner's service account), and reports the
 * receiver's pod ready as a kubelet would.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BACKUP_POLICY_PLURAL } from '../../../src/api/index.js';
import type { KubeObject } from '../../../src/kube/index.js';
import { walSlotNameOf } from '../../../src/postgres/index.js';
import { backupJobNameOf, gapBackupNameOf, type WalGap } from '../../../src/render/index.js';
import { renderChartObjects } from '../../harness/chart.js';
import { createPostgresPod } from '../../harness/cluster-objects.js';
import {
  type ControllerProcess,
  readMetrics,
  writeKubeConfigFile,
} from '../../harness/controller-process.js';
import { serviceAccountKubeConfig } from '../../harness/kube.js';
import {
  type RunOutcome,
  runEnvironment,
  type StartedRun,
  startPgbackup,
} from '../../harness/pgbackup-run.js';
import { withClient } from '../../harness/postgres.js';
import { runPromtool } from '../../harness/promtool.js';
import { type ScratchServer, startScratchPrimary } from '../../harness/scratch-postgres.js';
import { makeWal, walTestHost } from '../../integration/wal/receiver-harness.js';
import {
  applyRunnerPolicy,
  type ControllerTestEnv,
  FAST_RESYNC_ARGS,
  pgbackupPath,
  policyCondition,
  prepareControllerTest,
  startController,
  waitForJob,
} from './controller-setup.js';
import { runLikeThePod } from './job-pod.js';
import { getIfPresent, reportReceiverPodReady } from './slots-and-receivers.js';

const WAIT = { timeout: 90_000, interval: 500 };

interface Container {
  args: string[];
}

describe('a gap in the WAL, in a cluster', () => {
  let env: ControllerTestEnv;
  let controller: ControllerProcess;
  let server: ScratchServer;
  let receiver: StartedRun | undefined;
  let spool = '';
  let policyPath = '';

  beforeAll(async () => {
    server = await startScratchPrimary(walTestHost(77), [
      'max_slot_wal_keep_size=32MB',
      'wal_keep_size=0',
      'min_wal_size=32MB',
      'max_wal_size=64MB',
    ]);
    env = await prepareControllerTest();
    policyPath = pgbackupPath(env.namespace, BACKUP_POLICY_PLURAL, 'orders');
    spool = await mkdtemp(join(tmpdir(), 'pgbackup-wal-spool-'));
    controller = await startController(env, FAST_RESYNC_ARGS);
    await createPostgresPod(env.namespace, {
      fixture: 'controller/postgres-pod.yaml',
      address: walTestHost(77),
    });
    // A scratch server has no replication role: the superuser streams.
    await applyRunnerPolicy(env, {
      target: {
        selector: { matchLabels: { 'app.kubernetes.io/name': 'postgresql', cluster: 'orders' } },
        credentials: { secretName: 'orders-superuser' },
        port: server.port,
      },
      continuous: { enabled: true, uploadInterval: '2s' },
    });
  }, 300_000);

  afterAll(async () => {
    await stopReceiver();
    const code = await controller?.stop();
    expect(code, controller?.logs()).toBe(0);
    await env?.cleanUp();
    await server?.stop();
  }, 180_000);

  /** Runs the receiver's container as its pod would: its arguments, the runner's account. */
  async function startReceiverLikeThePod(): Promise<StartedRun> {
    const deployment = await vi.waitFor(async () => {
      const found = await getIfPresent(
        env,
        `/apis/apps/v1/namespaces/${env.namespace}/deployments/orders-wal`,
      );
      expect(found).toBeDefined();
      return found as KubeObject;
    }, WAIT);
    const spec = deployment.spec as { template: { spec: { containers: Container[] } } };
    const args = [...(spec.template.spec.containers[0]?.args ?? [])];
    // The pod's volume and port, mapped to this machine.
    args[args.indexOf('--spool') + 1] = spool;
    args[args.indexOf('--metrics-address') + 1] = '127.0.0.1:0';
    const account = await serviceAccountKubeConfig(env.admin, {
      namespace: env.namespace,
      name: 'orders-runner',
    });
    return startPgbackup(
      args,
      runEnvironment({
        KUBECONFIG: writeKubeConfigFile(account),
        PGBACKUP_REPLICATION_USER: undefined,
        PGBACKUP_REPLICATION_PASSWORD: undefined,
      }),
    );
  }

  async function stopReceiver(): Promise<RunOutcome | undefined> {
    const running = receiver;
    receiver = undefined;
    if (running === undefined) return undefined;
    running.child.kill('SIGTERM');
    return running.outcome;
  }

  async function continuousReport(): Promise<Record<string, unknown> & { gap?: WalGap }> {
    const policy = await getIfPresent(env, policyPath);
    return (
      (policy?.status as { continuous?: Record<string, unknown> } | undefined)?.continuous ?? {}
    );
  }

  /** The controller's pgbackup_wal_* series of the policy, as promtool input held for 10 minutes. */
  async function scrapedSeries(): Promise<{ series: string; values: string }[]> {
    const lines = (await readMetrics(controller))
      .split('\n')
      .filter((line) => line.startsWith('pgbackup_wal_') && line.includes(`"${env.namespace}"`));
    return lines.map((line) => {
      const cut = line.lastIndexOf(' ');
      return { series: line.slice(0, cut), values: `${line.slice(cut + 1)}x10` };
    });
  }

  it('streams, then reports the gap a lost slot leaves, alerts, backs up and streams again', async () => {
    receiver = await startReceiverLikeThePod();
    await reportReceiverPodReady(env);
    await vi.waitFor(async () => {
      expect(await policyCondition(env, 'orders', 'Continuous')).toMatchObject({
        reason: 'Streaming',
      });
    }, WAIT);

    // The receiver stopped; the primary writes past max_slot_wal_keep_size and checkpoints.
    const stopped = await stopReceiver();
    expect(stopped?.code, stopped?.stderr.slice(-3000)).toBe(0);
    const slot = walSlotNameOf(env.namespace, 'orders');
    await withClient(server.client('postgres'), async (client) => {
      await makeWal(client, 5);
      await vi.waitFor(async () => {
        await client.query('CHECKPOINT');
        const result = await client.query<{ wal_status: string }>(
          'SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1',
          [slot],
        );
        expect(result.rows[0]?.wal_status).toBe('lost');
      }, WAIT);
    });

    receiver = await startReceiverLikeThePod();
    const gap = await vi.waitFor(async () => {
      const reported = (await continuousReport()).gap;
      expect(reported).toBeDefined();
      return reported as WalGap;
    }, WAIT);
    const backupName = gapBackupNameOf('orders', gap);
    await vi.waitFor(async () => {
      const condition = await policyCondition(env, 'orders', 'Continuous');
      expect(condition).toMatchObject({ status: 'False', reason: 'Gap' });
      expect(condition?.message).toContain(`from LSN ${gap.fromLsn} to ${gap.toLsn}`);
      expect(
        await getIfPresent(env, pgbackupPath(env.namespace, 'backups', backupName)),
      ).toBeDefined();
    }, WAIT);

    // The alert, evaluated by promtool over what the controller exports now.
    await evaluateGapAlert(true);

    // The Backup's Job, run as its pod would.
    const job = await waitForJob(env, backupJobNameOf(backupName));
    const run = await runLikeThePod(env, job.spec);
    expect(run.code, run.stderr.slice(-3000)).toBe(0);

    await vi.waitFor(
      async () => {
        const report = await continuousReport();
        expect(report.gap).toBeUndefined();
        expect(report.state).toBe('Streaming');
        expect(await policyCondition(env, 'orders', 'Continuous')).toMatchObject({
          status: 'True',
          reason: 'Streaming',
        });
      },
      { timeout: 120_000, interval: 1000 },
    );
    await evaluateGapAlert(false);
  });

  /**
   * Holds the controller's current pgbackup_wal_* series (once its gap series says `gapOn`)
   * for 10 minutes and has promtool check that PgBackupWalGap fires after its `for` (1m), or
   * does not.
   */
  async function evaluateGapAlert(gapOn: boolean): Promise<void> {
    const series = await vi.waitFor(async () => {
      const scraped = await scrapedSeries();
      const gapLine = scraped.find((entry) => entry.series.startsWith('pgbackup_wal_gap{'));
      expect(gapLine?.values).toBe(gapOn ? '1x10' : '0x10');
      return scraped;
    }, WAIT);
    const [rule] = await renderChartObjects(
      'prometheusrule.yaml',
      { name: 'rel', namespace: 'ops' },
      { values: { prometheusRule: { enabled: true } } },
    );
    const rules = (rule as { spec: { groups: { rules: Record<string, unknown>[] }[] } }).spec;
    const alert = rules.groups
      .flatMap((group) => group.rules)
      .find((entry) => entry.alert === 'PgBackupWalGap') as
      | { labels: Record<string, string>; annotations: Record<string, string> }
      | undefined;
    if (alert === undefined) throw new Error('the chart has no PgBackupWalGap');
    const labels = { namespace: env.namespace, policy: 'orders' };
    const expand = (text: string) =>
      text.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_match, key: string) =>
        key === 'namespace' ? labels.namespace : key === 'policy' ? labels.policy : '',
      );
    const expected = gapOn
      ? [
          {
            exp_labels: { ...alert.labels, ...labels },
            exp_annotations: Object.fromEntries(
              Object.entries(alert.annotations).map(([key, text]) => [key, expand(text)]),
            ),
          },
        ]
      : [];
    const result = await runPromtool(rules, [
      {
        interval: '1m',
        input_series: series,
        alert_rule_test: [{ eval_time: '5m', alertname: 'PgBackupWalGap', exp_alerts: expected }],
      },
    ]);
    expect(result.output).toContain('SUCCESS');
    expect(result.code, result.output).toBe(0);
  }
});
