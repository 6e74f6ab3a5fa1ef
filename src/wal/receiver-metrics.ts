/**
 * The receiver's own `/metrics` (the figures of `status.continuous` as gauges) and `/healthz`
 * (200 while its loops are alive). The controller exports the same figures from the status,
 * so alerts work while the receiver is down; these serve a direct scrape and the liveness probe.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import { CONTINUOUS_STATES, type ContinuousStatus } from '../api/index.js';
import { parseLsn } from '../retention/wal-names.js';

/** The default `--metrics-address` in a cluster (the rendered Deployment's `metrics` port). */
export const DEFAULT_RECEIVER_METRICS_ADDRESS = '0.0.0.0:9187';

/** The receiver's gauges. */
export interface ReceiverMetrics {
  readonly registry: Registry;
  /** Sets every gauge from a status. */
  update(status: ContinuousStatus): void;
}

/** The gauges, labelled with the policy. */
export function createReceiverMetrics(policy: {
  namespace: string;
  name: string;
}): ReceiverMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ namespace: policy.namespace, policy: policy.name });
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  const lagBytes = gauge(
    'pgbackup_wal_lag_bytes',
    "Bytes of WAL between the primary's current LSN and the bucket's end.",
  );
  const lagSeconds = gauge(
    'pgbackup_wal_lag_seconds',
    'Seconds since the bucket last caught up with the primary.',
  );
  const spoolBytes = gauge('pgbackup_wal_spool_bytes', 'WAL on the spool not yet in the bucket.');
  const retained = gauge(
    'pgbackup_wal_slot_retained_bytes',
    "WAL the receiver's slot keeps on the primary.",
  );
  const archivedTime = gauge(
    'pgbackup_wal_last_archived_timestamp_seconds',
    'When the newest WAL was stored.',
  );
  const archivedLsn = gauge(
    'pgbackup_wal_archived_lsn_bytes',
    'End of the WAL in the bucket, as a byte position.',
  );
  const gap = gauge(
    'pgbackup_wal_gap',
    '1 while WAL is missing from the bucket after the newest binary backup.',
  );
  const timeline = gauge('pgbackup_wal_timeline', 'Timeline being streamed.');
  const heartbeat = gauge(
    'pgbackup_wal_heartbeat_timestamp_seconds',
    'When the receiver last reported its status.',
  );
  const state = gauge('pgbackup_wal_state', '1 for the state the receiver is in.', ['state']);
  return {
    registry,
    update(status) {
      setFigures(status);
      if (status.lastArchived !== undefined) {
        archivedTime.set(Date.parse(status.lastArchived.time) / 1000);
        archivedLsn.set(Number(parseLsn(status.lastArchived.lsn) ?? 0n));
      }
      for (const name of CONTINUOUS_STATES) {
        state.set({ state: name }, name === status.state ? 1 : 0);
      }
    },
  };
  function setFigures(status: ContinuousStatus): void {
    lagBytes.set(status.lagBytes ?? 0);
    lagSeconds.set(status.lagSeconds ?? 0);
    spoolBytes.set(status.spoolBytes ?? 0);
    retained.set(status.slot?.retainedBytes ?? 0);
    gap.set(status.gap === undefined ? 0 : 1);
    if (status.timeline !== undefined) timeline.set(status.timeline);
    heartbeat.set(Date.parse(status.heartbeatTime) / 1000);
  }
}

/** A listening metrics endpoint. */
export interface MetricsServer {
  /** `host:port` it listens on (the port chosen when 0 was asked). */
  readonly address: string;
  close(): Promise<void>;
}

/** Serves `/metrics` and `/healthz` (`alive()` says whether the receiver's loops still run). */
export async function serveReceiverMetrics(
  address: string,
  metrics: ReceiverMetrics,
  alive: () => boolean,
): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => {
          response.writeHead(200, { 'content-type': metrics.registry.contentType });
          response.end(text);
        },
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
      return;
    }
    if (path === '/healthz') {
      const ok = alive();
      response.writeHead(ok ? 200 : 503).end(ok ? 'ok\n' : 'the receiver stopped\n');
      return;
    }
    response.writeHead(404).end('not found\n');
  });
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '') || '0.0.0.0';
  const port = Number(address.slice(colon + 1));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    address: `${host}:${bound.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
