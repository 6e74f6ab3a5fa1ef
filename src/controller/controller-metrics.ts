/**
 * The controller's Prometheus metrics, in a registry of its own (no module-level default
 * registry, so two controllers in one process, as in tests, keep their counts apart).
 */
import { Counter, Gauge, Registry } from 'prom-client';
import {
  type Backup,
  type ContinuousStatus,
  type LineName,
  parseDurationSeconds,
  type SlotStatus,
} from '../api/index.js';
import type { RetentionPlan } from '../retention/index.js';

/** Labels of the per-line backup metrics. */
type LineLabels = 'namespace' | 'policy' | 'type' | 'line';

/** Labels of the replication slot metrics. */
type SlotLabels = 'namespace' | 'policy' | 'slot';

/** Labels of the continuous protection (WAL) metrics. */
type WalLabels = 'namespace' | 'policy';

/** The metrics a controller exports. */
export interface ControllerMetrics {
  readonly registry: Registry;
  readonly reconciles: Counter<'result'>;
  readonly reconcileErrors: Counter<'reason'>;
  readonly queueDepth: Gauge;
  readonly apiRequests: Counter<'verb' | 'resource' | 'code'>;
  readonly leader: Gauge;
  readonly lastSuccess: Gauge<LineLabels>;
  readonly lastFailure: Gauge<LineLabels>;
  readonly lastSize: Gauge<LineLabels>;
  readonly lastDuration: Gauge<LineLabels>;
  readonly lineMaxAge: Gauge<LineLabels>;
  readonly staleSlots: Gauge<LineLabels>;
  readonly slotRetainedBytes: Gauge<SlotLabels>;
  readonly slotLeftover: Gauge<SlotLabels>;
  readonly wal: WalMetrics;
  /** The label sets of each policy's per-line series, so they can be removed with it. */
  readonly seriesByPolicy: Map<string, Map<string, Record<LineLabels, string>>>;
}

/** The continuous protection metrics, from each policy's status.continuous. */
export interface WalMetrics {
  readonly lagBytes: Gauge<WalLabels>;
  readonly lagSeconds: Gauge<WalLabels>;
  readonly lastArchived: Gauge<WalLabels>;
  readonly uploadInterval: Gauge<WalLabels>;
  readonly gap: Gauge<WalLabels>;
  readonly slotRetainedBytes: Gauge<SlotLabels>;
  readonly slotLost: Gauge<WalLabels>;
  readonly receiverUp: Gauge<WalLabels>;
  /** The slot label each policy's slot series carries, so it can be removed. */
  readonly slotByPolicy: Map<string, string>;
}

function createWalMetrics(registry: Registry): WalMetrics {
  const gauge = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: ['namespace', 'policy'], registers: [registry] });
  return {
    lagBytes: gauge(
      'pgbackup_wal_lag_bytes',
      "Bytes of WAL between the primary's current LSN and the end of the WAL in the bucket, as the receiver last reported.",
    ),
    lagSeconds: gauge(
      'pgbackup_wal_lag_seconds',
      'Seconds since the bucket last caught up with the primary (0 while caught up), as the receiver last reported.',
    ),
    lastArchived: gauge(
      'pgbackup_wal_last_archived_timestamp_seconds',
      'When the newest WAL object was stored in the bucket (Unix seconds).',
    ),
    uploadInterval: gauge(
      'pgbackup_wal_upload_interval_seconds',
      "The policy's spec.continuous.uploadInterval in seconds: the WAL lag alert fires when the lag exceeds twice this.",
    ),
    gap: gauge(
      'pgbackup_wal_gap',
      '1 while WAL is missing from the bucket after the newest committed binary backup (status.continuous.gap), else 0.',
    ),
    slotRetainedBytes: new Gauge({
      name: 'pgbackup_wal_slot_retained_bytes',
      help: "WAL the WAL receiver's permanent replication slot keeps on the primary, in bytes.",
      labelNames: ['namespace', 'policy', 'slot'],
      registers: [registry],
    }),
    slotLost: gauge(
      'pgbackup_wal_slot_lost',
      "1 while the WAL receiver's slot is invalidated or gone (wal_status lost, state SlotLost), else 0.",
    ),
    receiverUp: gauge(
      'pgbackup_wal_receiver_up',
      "1 while the policy's WAL receiver Deployment is available and its last report is under 2 minutes old, else 0.",
    ),
    slotByPolicy: new Map(),
  };
}

/** Creates the metrics; `queueDepth` reads the queue when scraped. */
export function createControllerMetrics(queueDepth: () => number): ControllerMetrics {
  const registry = new Registry();
  const lineLabels: LineLabels[] = ['namespace', 'policy', 'type', 'line'];
  const gauge = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: lineLabels, registers: [registry] });
  return {
    registry,
    reconciles: new Counter({
      name: 'pgbackup_controller_reconciles_total',
      help: 'Reconciles of BackupPolicies, by result (success, error, requeue).',
      labelNames: ['result'],
      registers: [registry],
    }),
    reconcileErrors: new Counter({
      name: 'pgbackup_controller_reconcile_errors_total',
      help: 'Reconciles that failed and will be retried with backoff, by error name.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'pgbackup_controller_queue_depth',
      help: 'Policies waiting in the work queue.',
      registers: [registry],
      collect() {
        this.set(queueDepth());
      },
    }),
    apiRequests: new Counter({
      name: 'pgbackup_controller_api_requests_total',
      help: 'Requests to the Kubernetes API, by verb, resource and HTTP status (0: no answer).',
      labelNames: ['verb', 'resource', 'code'],
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'pgbackup_controller_leader',
      help: '1 while this instance holds the leader Lease.',
      registers: [registry],
    }),
    lastSuccess: gauge(
      'pgbackup_backup_last_success_timestamp_seconds',
      'When the newest completed backup of a line finished (Unix seconds). Alert when older than the line period.',
    ),
    lastFailure: gauge(
      'pgbackup_backup_last_failure_timestamp_seconds',
      'When the newest failed backup of a line finished (Unix seconds); the line is failing while this is newer than the last success.',
    ),
    lastSize: gauge(
      'pgbackup_backup_last_size_bytes',
      'Size of the newest completed backup of a line.',
    ),
    lastDuration: gauge(
      'pgbackup_backup_last_duration_seconds',
      'How long the newest completed backup of a line took.',
    ),
    lineMaxAge: gauge(
      'pgbackup_backup_line_max_age_seconds',
      "The oldest a line's newest completed backup may be while its runs succeed: its longest period plus the policy's lateness. Alert when time() - pgbackup_backup_last_success_timestamp_seconds exceeds it.",
    ),
    staleSlots: gauge(
      'pgbackup_backup_stale_slots',
      "Slots of a line whose latest run failed, so their occupant is from an older period (the slot table's stale column); back to 0 once each such slot's next run succeeds.",
    ),
    slotRetainedBytes: new Gauge({
      name: 'pgbackup_replication_slot_retained_bytes',
      help: "WAL a policy's replication slot keeps on the primary, in bytes; present only while the slot exists.",
      labelNames: ['namespace', 'policy', 'slot'],
      registers: [registry],
    }),
    slotLeftover: new Gauge({
      name: 'pgbackup_replication_slot_leftover',
      help: "1 while a policy's replication slot exists and no binary run of the policy is live (a killed run left it; it holds WAL until the next binary run drops it), 0 while a run holds it.",
      labelNames: ['namespace', 'policy', 'slot'],
      registers: [registry],
    }),
    wal: createWalMetrics(registry),
    seriesByPolicy: new Map(),
  };
}

const ON_DEMAND = 'on-demand';

const DAY_SECONDS = 86_400;

/**
 * The longest time between two fire instants of a line: its longest period (a 31-day
 * month, a 92-day quarter, a leap year) plus an hour for a daylight-saving change in it.
 */
export const LONGEST_PERIOD_SECONDS: Readonly<Record<LineName, number>> = {
  daily: DAY_SECONDS + 3600,
  weekly: 7 * DAY_SECONDS + 3600,
  monthly: 31 * DAY_SECONDS + 3600,
  quarterly: 92 * DAY_SECONDS + 3600,
  yearly: 366 * DAY_SECONDS + 3600,
};

function seriesOf(
  metrics: ControllerMetrics,
  policy: { namespace: string; name: string },
): Map<string, Record<LineLabels, string>> {
  const policyKey = `${policy.namespace}/${policy.name}`;
  const series = metrics.seriesByPolicy.get(policyKey) ?? new Map();
  metrics.seriesByPolicy.set(policyKey, series);
  return series;
}

function secondsOf(timestamp: string | undefined): number | undefined {
  if (timestamp === undefined) return undefined;
  const ms = Date.parse(timestamp);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

function newest(backups: readonly Backup[], phase: string): Backup | undefined {
  return backups
    .filter((backup) => backup.status?.phase === phase)
    .sort((a, b) => (b.status?.completedAt ?? '').localeCompare(a.status?.completedAt ?? ''))[0];
}

/** Sets the per-line metrics of one policy from its Backups. */
export function recordBackupMetrics(
  metrics: ControllerMetrics,
  policy: { namespace: string; name: string },
  backups: readonly Backup[],
): void {
  const groups = new Map<string, Backup[]>();
  for (const backup of backups) {
    const key = `${backup.spec.type}/${backup.spec.line ?? ON_DEMAND}`;
    groups.set(key, [...(groups.get(key) ?? []), backup]);
  }
  const series = seriesOf(metrics, policy);
  for (const [key, group] of groups) {
    const [type = '', line = ''] = key.split('/');
    const labels = { namespace: policy.namespace, policy: policy.name, type, line };
    series.set(key, labels);
    const success = newest(group, 'Completed');
    const successAt = secondsOf(success?.status?.completedAt);
    if (successAt !== undefined) {
      metrics.lastSuccess.set(labels, successAt);
      metrics.lastSize.set(labels, success?.status?.sizeBytes ?? 0);
      const startedAt = secondsOf(success?.status?.startedAt);
      if (startedAt !== undefined) metrics.lastDuration.set(labels, successAt - startedAt);
    }
    const failureAt = secondsOf(newest(group, 'Failed')?.status?.completedAt);
    if (failureAt !== undefined) metrics.lastFailure.set(labels, failureAt);
  }
}

/**
 * Sets what each enabled line allows, for alerts that need no per-line thresholds: its
 * longest age of the newest backup, and its count of stale slots.
 */
export function recordLineMetrics(
  metrics: ControllerMetrics,
  policy: { namespace: string; name: string },
  input: { plan: RetentionPlan; slots: readonly SlotStatus[] },
): void {
  const series = seriesOf(metrics, policy);
  const kinds = [
    ['binary', input.plan.binary],
    ['logical', input.plan.logical],
  ] as const;
  const enabled = new Set(
    kinds.flatMap(([type, lines]) => lines.map(({ line }) => `${type}/${line}`)),
  );
  // A line disabled since: its backups stay, but no alert should expect new ones.
  for (const [key, labels] of series) {
    if (enabled.has(key)) continue;
    metrics.lineMaxAge.remove(labels);
    metrics.staleSlots.remove(labels);
  }
  for (const [type, lines] of kinds) {
    for (const { line } of lines) {
      const labels = { namespace: policy.namespace, policy: policy.name, type, line };
      series.set(`${type}/${line}`, labels);
      const maxAge = LONGEST_PERIOD_SECONDS[line] + input.plan.schedule.latenessSeconds;
      metrics.lineMaxAge.set(labels, maxAge);
      const stale = input.slots.filter(
        (slot) => slot.type === type && slot.line === line && slot.stale,
      ).length;
      metrics.staleSlots.set(labels, stale);
    }
  }
}

/** Removes the per-line metrics of a policy that is gone. */
export function forgetBackupMetrics(
  metrics: ControllerMetrics,
  policy: { namespace: string; name: string },
): void {
  const policyKey = `${policy.namespace}/${policy.name}`;
  const gauges = [
    metrics.lastSuccess,
    metrics.lastFailure,
    metrics.lastSize,
    metrics.lastDuration,
    metrics.lineMaxAge,
    metrics.staleSlots,
  ];
  for (const labels of metrics.seriesByPolicy.get(policyKey)?.values() ?? []) {
    for (const gauge of gauges) gauge.remove(labels);
  }
  metrics.seriesByPolicy.delete(policyKey);
}

/** What the WAL metrics of one policy are set from. */
export interface WalMetricsInput {
  /** `spec.continuous.uploadInterval`. */
  readonly uploadInterval: string;
  /** `status.continuous`, as the receiver last wrote it. */
  readonly status: ContinuousStatus | undefined;
  /** Whether the receiver is up (its Deployment available, its last report fresh). */
  readonly receiverUp: boolean;
}

/**
 * Sets the continuous protection metrics of a policy whose receiver should run. Figures the
 * receiver has not reported yet are absent rather than zero, so no alert reads a made-up 0.
 */
export function recordWalMetrics(
  metrics: ControllerMetrics,
  policy: { namespace: string; name: string },
  input: WalMetricsInput,
): void {
  const { wal } = metrics;
  const labels = { namespace: policy.namespace, policy: policy.name };
  const { status } = input;
  const setOrRemove = (gauge: Gauge<WalLabels>, value: number | undefined) => {
    if (value === undefined) gauge.remove(labels);
    else gauge.set(labels, value);
  };
  wal.receiverUp.set(labels, input.receiverUp ? 1 : 0);
  setOrRemove(wal.uploadInterval, parseDurationSeconds(input.uploadInterval));
  setOrRemove(wal.lagBytes, status?.lagBytes);
  setOrRemove(wal.lagSeconds, status?.lagSeconds);
  setOrRemove(wal.lastArchived, secondsOf(status?.lastArchived?.time));
  setOrRemove(
    wal.gap,
    status === undefined ? undefined : status.gap !== undefined || status.state === 'Gap' ? 1 : 0,
  );
  setOrRemove(
    wal.slotLost,
    status === undefined
      ? undefined
      : status.state === 'SlotLost' || status.slot?.walStatus === 'lost'
        ? 1
        : 0,
  );
  const policyKey = `${policy.namespace}/${policy.name}`;
  const slot = status?.slot;
  const previousSlot = wal.slotByPolicy.get(policyKey);
  // Removed and set again in one synchronous step: a scrape never sees it missing.
  if (previousSlot !== undefined) wal.slotRetainedBytes.remove({ ...labels, slot: previousSlot });
  wal.slotByPolicy.delete(policyKey);
  if (slot?.retainedBytes !== undefined) {
    wal.slotRetainedBytes.set({ ...labels, slot: slot.name }, slot.retainedBytes);
    wal.slotByPolicy.set(policyKey, slot.name);
  }
}

/** Removes the continuous protection metrics of a policy without a receiver (or gone). */
export function forgetWalMetrics(
  metrics: ControllerMetrics,
  policy: { namespace: string; name: string },
): void {
  const { wal } = metrics;
  const labels = { namespace: policy.namespace, policy: policy.name };
  for (const gauge of [
    wal.lagBytes,
    wal.lagSeconds,
    wal.lastArchived,
    wal.uploadInterval,
    wal.gap,
    wal.slotLost,
    wal.receiverUp,
  ]) {
    gauge.remove(labels);
  }
  const policyKey = `${policy.namespace}/${policy.name}`;
  const slot = wal.slotByPolicy.get(policyKey);
  if (slot !== undefined) wal.slotRetainedBytes.remove({ ...labels, slot });
  wal.slotByPolicy.delete(policyKey);
}
