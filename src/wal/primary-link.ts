/**
 * The receiver's hold on the primary: found with the same discovery as backups, asked over an
 * ordinary connection for its position and the receiver's slot, which it makes when missing.
 * After a failover the next {@link connectPrimary} finds the new primary.
 */
import type pg from 'pg';
import {
  type Credentials,
  discoverPrimary,
  type Endpoint,
  ensureWalSlot,
  formatEndpoint,
  readPrimaryWalPosition,
  readWalSegmentSize,
  readWalSlot,
  type WalSlotState,
} from '../postgres/index.js';
import { parseLsn } from '../retention/wal-names.js';

/** Where the target's servers are now: static hosts, or the pods its selector matches. */
export type EndpointSource = () => Promise<{
  readonly endpoints: readonly Endpoint[];
  readonly selection: string;
}>;

/** An open connection to the primary. */
export interface PrimaryLink {
  readonly endpoint: Endpoint;
  /** `host:port`, for messages. */
  readonly where: string;
  readonly major: number;
  readonly segmentSizeBytes: number;
  readonly client: pg.Client;
  /** Whether the connection broke (the next query would fail). */
  broken(): boolean;
  end(): Promise<void>;
}

/** What the primary says each poll. */
export interface PrimaryPoll {
  readonly currentLsn: bigint;
  readonly slot: WalSlotState | undefined;
  /** The slot's restart_lsn: the WAL the receiver confirmed durable on the spool. */
  readonly confirmedLsn: bigint | undefined;
}

/** Finds the primary and opens a connection to it (discovery's own session). */
export async function connectPrimary(
  source: EndpointSource,
  credentials: Credentials,
): Promise<PrimaryLink> {
  const { endpoints, selection } = await source();
  const primary = await discoverPrimary({ endpoints, credentials, selection, timeoutMs: 5_000 });
  let broken = false;
  primary.client.on('error', () => {
    broken = true;
  });
  primary.client.on('end', () => {
    broken = true;
  });
  try {
    const segmentSizeBytes = await readWalSegmentSize(primary.client);
    return {
      endpoint: primary.endpoint,
      where: formatEndpoint(primary.endpoint),
      major: primary.major,
      segmentSizeBytes,
      client: primary.client,
      broken: () => broken,
      end: () => primary.client.end().catch(() => undefined),
    };
  } catch (error) {
    await primary.client.end().catch(() => undefined);
    throw error;
  }
}

/** Makes the slot when missing; returns whether it was made. */
export function ensureSlot(link: PrimaryLink, slot: string): Promise<boolean> {
  return ensureWalSlot(link.client, slot);
}

/** The primary's current LSN and the slot. */
export async function pollPrimary(link: PrimaryLink, slot: string): Promise<PrimaryPoll> {
  const position = await readPrimaryWalPosition(link.client);
  const state = await readWalSlot(link.client, slot);
  return {
    currentLsn: parseLsn(position.currentLsn) ?? 0n,
    slot: state,
    confirmedLsn: state?.restartLsn === undefined ? undefined : parseLsn(state.restartLsn),
  };
}
