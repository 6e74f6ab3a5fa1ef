/**
 * A queue on Kubernetes Leases (coordination.k8s.io/v1): runs of one policy and type take
 * turns, the most valuable first, and a run that may have lost its turn stops before commit.
 *
 * Two kinds of Lease:
 * - the lock, named for the queue: its `holderIdentity` is the run whose turn it is, which
 *   renews it every third of the lease duration;
 * - a ticket per waiting run, labelled with the queue, carrying the run's priority: created
 *   when the run starts waiting, renewed while it waits, deleted when it gets its turn. Its
 *   arrival is its `creationTimestamp`, stamped by the API server, so runners' clocks need not
 *   agree on who came first.
 * The lock is free when it has no holder, or when its holder stopped renewing (a killed run)
 * for a lease duration, measured by the waiter's own clock from when it last saw the Lease
 * change (so clocks need not agree). Only the best live ticket takes a free lock: highest
 * priority, then earliest arrival, then the earlier trigger, then the name. A ticket not
 * renewed for a lease duration is a dead waiter's: it is passed over and deleted.
 *
 * Fencing: the holder stops treating the lock as its own once it sees another holder or has
 * not renewed for the renew deadline (two thirds of the lease duration, so before any waiter
 * can see it expire); its {@link HeldLease.signal} aborts, and
 * {@link HeldLease.assertHeld}, asked right before a commit, renews once more and throws.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeClient } from './kube-client.js';
import { isConflict, isNotFound } from './kube-errors.js';
import { RESOURCES, resourcePath } from './resource.js';

interface Lease {
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** What {@link acquireLease} needs. */
export interface LeaseQueueInput {
  readonly client: KubeClient;
  readonly namespace: string;
  /** The queue's name: the lock's name, and the prefix of its tickets. */
  readonly name: string;
  /** Unique per run, e.g. pod name and a random suffix. */
  readonly identity: string;
  /** Higher goes first among waiting runs; equal priorities are served first come, first served. */
  readonly priority: number;
  /** When the run was triggered: the tie-break between runs that arrived in the same second. */
  readonly triggeredAtMs: number;
  readonly leaseDurationSeconds?: number;
  readonly pollMs?: number;
  /** The longest the run waits for its turn before it gives up (default 23 hours). */
  readonly maxWaitMs?: number;
  readonly logger: Logger;
}

/** A Lease this run holds; renewed in the background until released. */
export interface HeldLease {
  /** Aborted, with a {@link LeaseLostError}, once the run may have lost the Lease. */
  readonly signal: AbortSignal;
  /**
   * Renews the Lease now and resolves only if this run still holds it, with at least a
   * lease duration before anyone may take it over: what a commit asks right before writing.
   *
   * @throws LeaseLostError when another run holds it or it could not be renewed in time
   */
  assertHeld(): Promise<void>;
  /**
   * Stops renewing and frees the Lease for the next run. Never rejects: a Lease that could not
   * be freed is logged and expires by itself after its duration.
   */
  release(): Promise<void>;
}

/** The run no longer holds (or cannot prove it holds) its Lease: it must not commit. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

/** The run waited longer than it may for its turn. */
export class LeaseWaitTimeoutError extends Error {
  override readonly name = 'LeaseWaitTimeoutError';
}

/** The label that names a ticket's queue. */
export const LEASE_QUEUE_LABEL = 'pgbackup.dev/lease-queue';
const PRIORITY_ANNOTATION = 'pgbackup.dev/priority';
const TRIGGERED_AT_ANNOTATION = 'pgbackup.dev/triggered-at';

const DEFAULT_LEASE_DURATION_SECONDS = 30;
const DEFAULT_POLL_MS = 1000;
const DEFAULT_MAX_WAIT_MS = 23 * 3600 * 1000;
/** Writes by others between a read and a renewal, tried again before the round gives up. */
const MAX_RENEW_CONFLICTS = 3;
/** Longest Lease name (a DNS subdomain) and label value. */
const NAME_MAX = 253;
const LABEL_VALUE_MAX = 63;

// MicroTime: the API server wants exactly six fractional digits.
const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

const shortHash = (text: string, length: number) =>
  createHash('sha256').update(text).digest('hex').slice(0, length);

const durationMsOf = (input: LeaseQueueInput) =>
  (input.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS) * 1000;

const leasePath = (input: LeaseQueueInput, name?: string) =>
  resourcePath(RESOURCES.lease, { namespace: input.namespace, name });

const describe = (input: LeaseQueueInput, name = input.name) => `Lease ${input.namespace}/${name}`;

/** The queue's label value: its name when that is a valid label value, else a hash of it. */
function queueLabelOf(name: string): string {
  return name.length <= LABEL_VALUE_MAX && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)
    ? name
    : shortHash(name, 16);
}

/** This run's ticket: the queue's name (cut to fit) and a hash of the run's identity. */
function ticketNameOf(input: LeaseQueueInput): string {
  const suffix = `-wait-${shortHash(input.identity, 10)}`;
  return `${input.name.slice(0, NAME_MAX - suffix.length)}${suffix}`;
}

async function readLease(input: LeaseQueueInput): Promise<Lease | undefined> {
  try {
    return await input.client.request<Lease>({
      verb: 'get',
      path: leasePath(input, input.name),
      what: `get ${describe(input)}`,
    });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function heldSpec(input: LeaseQueueInput, transitions: number) {
  const now = microTime(Date.now());
  return {
    holderIdentity: input.identity,
    leaseDurationSeconds: durationMsOf(input) / 1000,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: transitions,
  };
}

/** One attempt to take the free lock; the Lease written, or undefined when another won. */
async function tryTake(input: LeaseQueueInput, lease: Lease | undefined) {
  try {
    if (lease === undefined) {
      return await input.client.request<Lease>({
        verb: 'create',
        path: leasePath(input),
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: input.name, namespace: input.namespace },
          spec: heldSpec(input, 0),
        },
        what: `create ${describe(input)}`,
      });
    }
    return await input.client.request<Lease>({
      verb: 'update',
      path: leasePath(input, input.name),
      body: { ...lease, spec: heldSpec(input, (lease.spec?.leaseTransitions ?? 0) + 1) },
      what: `take ${describe(input)}`,
    });
  } catch (error) {
    if (isConflict(error)) return undefined;
    throw error;
  }
}

/**
 * Remembers when each Lease was last seen to change, by this process's clock: a Lease that
 * has not changed for a lease duration is its holder's no longer.
 */
class ChangeWatch {
  readonly #seen = new Map<string, { record: string; atMs: number }>();

  /** Whether the Lease changed within `durationMs` (a first sighting counts as a change). */
  fresh(name: string, record: string, durationMs: number): boolean {
    const now = Date.now();
    const seen = this.#seen.get(name);
    if (seen === undefined || seen.record !== record) {
      this.#seen.set(name, { record, atMs: now });
      return true;
    }
    return now - seen.atMs <= durationMs;
  }
}

/** Creates this run's ticket, or renews the one a previous attempt of the run left. */
async function createTicket(input: LeaseQueueInput): Promise<void> {
  const name = ticketNameOf(input);
  const body = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace: input.namespace,
      labels: { [LEASE_QUEUE_LABEL]: queueLabelOf(input.name) },
      annotations: {
        [PRIORITY_ANNOTATION]: String(input.priority),
        [TRIGGERED_AT_ANNOTATION]: new Date(input.triggeredAtMs).toISOString(),
      },
    },
    spec: {
      holderIdentity: input.identity,
      leaseDurationSeconds: durationMsOf(input) / 1000,
      renewTime: microTime(Date.now()),
    },
  };
  try {
    await input.client.request({
      verb: 'create',
      path: leasePath(input),
      body,
      what: `create the ticket ${describe(input, name)}`,
    });
  } catch (error) {
    if (!isConflict(error)) throw error;
    await renewTicket(input);
  }
}

async function renewTicket(input: LeaseQueueInput): Promise<void> {
  const name = ticketNameOf(input);
  try {
    await input.client.request({
      verb: 'patch',
      path: leasePath(input, name),
      body: { spec: { renewTime: microTime(Date.now()) } },
      contentType: 'application/merge-patch+json',
      what: `renew the ticket ${describe(input, name)}`,
    });
  } catch (error) {
    // Another waiter took this run for dead (it could not renew for a lease duration): it
    // queues again, as a new arrival.
    if (!isNotFound(error)) throw error;
    await createTicket(input);
  }
}

/** Deletes a ticket (this run's, or a dead waiter's); a missing one is fine. */
async function deleteTicket(input: LeaseQueueInput, name: string): Promise<void> {
  try {
    await input.client.request({
      verb: 'delete',
      path: leasePath(input, name),
      what: `delete the ticket ${describe(input, name)}`,
    });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Highest priority, then earliest arrival, then the earlier trigger, then the name. */
function compareTickets(left: Lease, right: Lease): number {
  const priority = (ticket: Lease) => Number(ticket.metadata.annotations?.[PRIORITY_ANNOTATION]);
  const text = (value: string | undefined) => value ?? '';
  return (
    (priority(right) || 0) - (priority(left) || 0) ||
    text(left.metadata.creationTimestamp).localeCompare(text(right.metadata.creationTimestamp)) ||
    text(left.metadata.annotations?.[TRIGGERED_AT_ANNOTATION]).localeCompare(
      text(right.metadata.annotations?.[TRIGGERED_AT_ANNOTATION]),
    ) ||
    left.metadata.name.localeCompare(right.metadata.name)
  );
}

/** The queue's tickets: the live ones best first, and those of dead waiters. */
async function readTickets(input: LeaseQueueInput, watch: ChangeWatch) {
  const list = await input.client.request<{ items: Lease[] }>({
    verb: 'list',
    path: leasePath(input),
    query: { labelSelector: `${LEASE_QUEUE_LABEL}=${queueLabelOf(input.name)}` },
    what: `list the tickets of ${describe(input)}`,
  });
  const mine = ticketNameOf(input);
  const live: Lease[] = [];
  const dead: Lease[] = [];
  for (const ticket of list.items) {
    const alive =
      ticket.metadata.name === mine ||
      watch.fresh(ticket.metadata.name, JSON.stringify(ticket.spec ?? {}), durationMsOf(input));
    (alive ? live : dead).push(ticket);
  }
  return { live: live.sort(compareTickets), dead };
}

/** One look at the queue: the lock, taken when it is free and this run is the best waiter. */
async function tryTurn(input: LeaseQueueInput, watch: ChangeWatch) {
  const lease = await readLease(input);
  const holder = lease?.spec?.holderIdentity ?? '';
  const expired = !watch.fresh(input.name, JSON.stringify(lease?.spec ?? {}), durationMsOf(input));
  if (holder !== '' && !expired) return { holder, taken: undefined };
  const { live, dead } = await readTickets(input, watch);
  for (const ticket of dead) await deleteTicket(input, ticket.metadata.name);
  const best = live[0]?.metadata.name;
  return {
    holder,
    taken: best === ticketNameOf(input) ? await tryTake(input, lease) : undefined,
  };
}

/**
 * Waits for this run's turn and takes the lock, creating it if needed.
 *
 * @throws KubeApiError when the API server refuses (for example RBAC)
 * @throws LeaseWaitTimeoutError after `maxWaitMs` without a turn
 */
export async function acquireLease(input: LeaseQueueInput): Promise<HeldLease> {
  const startedMs = Date.now();
  const maxWaitMs = input.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const watch = new ChangeWatch();
  let ticketRenewedMs = Date.now();
  let announced = false;
  await createTicket(input);
  try {
    for (;;) {
      const { holder, taken } = await tryTurn(input, watch);
      if (taken !== undefined) {
        input.logger.info({ lease: input.name, identity: input.identity }, 'acquired the Lease');
        return holdLease(input, taken);
      }
      if (!announced && holder !== '') {
        input.logger.info(
          { lease: input.name, holder },
          'waiting for the Lease held by another run',
        );
        announced = true;
      }
      if (Date.now() - startedMs > maxWaitMs) {
        throw new LeaseWaitTimeoutError(
          `waited ${Math.round((Date.now() - startedMs) / 1000)} s for ${describe(input)}, held by "${holder}", and gave up`,
        );
      }
      if (Date.now() - ticketRenewedMs >= durationMsOf(input) / 3) {
        await renewTicket(input);
        ticketRenewedMs = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, input.pollMs ?? DEFAULT_POLL_MS));
    }
  } finally {
    // This run's ticket goes whether it got its turn or gave up; a killed run's expires.
    await deleteTicket(input, ticketNameOf(input)).catch((error: unknown) =>
      input.logger.warn({ err: error, lease: input.name }, 'could not delete the ticket'),
    );
  }
}

/** Renews a taken lock in the background and fences the run on it. */
function holdLease(input: LeaseQueueInput, taken: Lease): HeldLease {
  const held = new LockHolding(input, taken);
  return {
    signal: held.signal,
    assertHeld: () => held.assertHeld(),
    release: () => held.release(),
  };
}

/** The lock while this run holds it: renewals, the fence, the release. */
class LockHolding {
  readonly #input: LeaseQueueInput;
  readonly #durationMs: number;
  /** Past this long without a renewal, a waiter may soon see the lock expire. */
  readonly #renewDeadlineMs: number;
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  #lease: Lease;
  #renewedMs = Date.now();
  #round: Promise<void> = Promise.resolve();
  #released = false;

  constructor(input: LeaseQueueInput, taken: Lease) {
    this.#input = input;
    this.#lease = taken;
    this.#durationMs = durationMsOf(input);
    this.#renewDeadlineMs = (this.#durationMs * 2) / 3;
    this.#timer = setInterval(() => {
      // A renewal still hanging does not stop the deadline from counting.
      this.#checkDeadline();
      void this.#renew();
    }, this.#durationMs / 3);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  async assertHeld(): Promise<void> {
    await this.#renew();
    this.#checkDeadline();
    if (this.signal.aborted) throw this.signal.reason;
  }

  async release(): Promise<void> {
    this.#released = true;
    clearInterval(this.#timer);
    await this.#round;
    if (this.signal.aborted) return;
    const input = this.#input;
    try {
      const current = await readLease(input);
      if (current?.spec?.holderIdentity !== input.identity) return;
      const { holderIdentity: _released, ...spec } = current.spec;
      await input.client.request({
        verb: 'update',
        path: leasePath(input, input.name),
        body: { ...current, spec },
        what: `release ${describe(input)}`,
      });
      input.logger.info({ lease: input.name, identity: input.identity }, 'released the Lease');
    } catch (error) {
      input.logger.warn(
        { err: error, lease: input.name },
        `could not release the Lease; it expires by itself within ${this.#durationMs / 1000} s`,
      );
    }
  }

  #lose(message: string): void {
    if (this.signal.aborted) return;
    this.#input.logger.error({ lease: this.#input.name, identity: this.#input.identity }, message);
    this.#controller.abort(new LeaseLostError(`${message}: the run stops before commit`));
  }

  #checkDeadline(): void {
    const sinceMs = Date.now() - this.#renewedMs;
    if (sinceMs > this.#renewDeadlineMs) {
      this.#lose(`could not renew ${describe(this.#input)} for ${Math.round(sinceMs / 1000)} s`);
    }
  }

  /** Renewals one at a time, in the background and for {@link assertHeld} alike. */
  #renew(): Promise<void> {
    this.#round = this.#round
      .then(() => this.#renewOnce(0))
      .catch((error: unknown) => {
        this.#input.logger.warn(
          { err: error, lease: this.#input.name },
          'could not renew the Lease',
        );
      });
    return this.#round;
  }

  /** One renewal: a write that only succeeds on the version this run last wrote. */
  async #renewOnce(conflicts: number): Promise<void> {
    if (this.signal.aborted || this.#released) return;
    const input = this.#input;
    const sentMs = Date.now();
    try {
      this.#lease = await input.client.request<Lease>({
        verb: 'update',
        path: leasePath(input, input.name),
        body: { ...this.#lease, spec: { ...this.#lease.spec, renewTime: microTime(sentMs) } },
        what: `renew ${describe(input)}`,
        // A renewal that comes back after the deadline proves nothing.
        deadlineMs: Math.max(1, this.#renewDeadlineMs - (sentMs - this.#renewedMs)),
      });
      this.#renewedMs = sentMs;
    } catch (error) {
      if (!isConflict(error)) throw error;
      if (await this.#stillOurs(conflicts)) return this.#renewOnce(conflicts + 1);
    }
  }

  /** After a conflict: whether the Lease is still this run's, and worth another write. */
  async #stillOurs(conflicts: number): Promise<boolean> {
    const current = await readLease(this.#input);
    const holder = current?.spec?.holderIdentity ?? '';
    if (current === undefined || holder !== this.#input.identity) {
      this.#lose(`lost ${describe(this.#input)} to ${holder === '' ? 'no one' : `"${holder}"`}`);
      return false;
    }
    // Someone else touched the Lease (a label, an annotation): it is still ours.
    this.#lease = current;
    return conflicts < MAX_RENEW_CONFLICTS;
  }
}
