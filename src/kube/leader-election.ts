/**
 * Leader election on a Lease (coordination.k8s.io/v1), as client-go does it: the holder
 * renews the Lease every `retryPeriodMs`; another candidate takes it over only when it has
 * seen no renewal for `leaseDurationMs` by its own clock (so clocks need not agree). A
 * leader that cannot renew for `renewDeadlineMs` steps down and campaigns again; it is not
 * restarted, so an API server outage longer than the deadline costs only a re-election.
 *
 * Why a deposed leader stops before anyone else can start: a renewal that succeeds was
 * sent at some instant t, and another candidate can only have seen it after t, so it waits
 * until after t + leaseDurationMs. The leader counts its deadline from t (the sending, not
 * the answer) and steps down at t + renewDeadlineMs, by a timer of its own, whatever its
 * requests are doing; every request of a renewal is cut off at that instant too. With
 * renewDeadlineMs < leaseDurationMs the two never overlap (clocks running at one rate).
 */
import type { Logger } from 'pino';
import type { KubeClient, KubeRequest } from './kube-client.js';
import { isConflict, isNotFound, KubeRequestAbortedError } from './kube-errors.js';
import { RESOURCES, resourcePath } from './resource.js';

/** Options of {@link LeaderElector}. */
export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  /** This candidate's identity, unique among candidates (e.g. pod name). */
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly log: Logger;
}

/** Called when this candidate starts or stops leading. */
export type LeadershipHandler = (leading: boolean) => void;

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

const microTime = (date: Date) => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** Campaigns for, holds and releases one Lease. */
export class LeaderElector {
  readonly #client: KubeClient;
  readonly #options: LeaderElectionOptions;
  readonly #handlers: LeadershipHandler[] = [];
  #leading = false;
  #observedRecord = '';
  #observedAtMs = 0;
  /** When the last successful renewal was sent. */
  #lastRenewMs = 0;
  /** Fires at `#lastRenewMs + renewDeadlineMs`: the leader steps down then, come what may. */
  #deadlineTimer: NodeJS.Timeout | undefined;
  /** Cuts off the requests of the round in flight when the leader steps down. */
  #roundAbort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #round: Promise<void> = Promise.resolve();

  /** @throws Error when the timings would let a deposed leader overlap its successor */
  constructor(client: KubeClient, options: LeaderElectionOptions) {
    const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = options;
    if (!(renewDeadlineMs < leaseDurationMs)) {
      throw new Error(
        `the renew deadline (${renewDeadlineMs} ms) must be shorter than the lease duration (${leaseDurationMs} ms): a leader must stop before a standby may take over; lower --renew-deadline-seconds or raise --lease-duration-seconds`,
      );
    }
    if (!(retryPeriodMs < renewDeadlineMs)) {
      throw new Error(
        `the retry period (${retryPeriodMs} ms) must be shorter than the renew deadline (${renewDeadlineMs} ms): a leader must get to try renewing before it has to step down; lower --retry-period-seconds`,
      );
    }
    this.#client = client;
    this.#options = options;
  }

  /** Whether this candidate holds the Lease. */
  get leading(): boolean {
    return this.#leading;
  }

  /** Registers a handler of leadership changes. */
  onChange(handler: LeadershipHandler): void {
    this.#handlers.push(handler);
  }

  /** Starts campaigning. */
  start(): void {
    this.#schedule(0);
  }

  /** Stops; a leader releases the Lease so a standby takes over without waiting it out. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#round;
    clearTimeout(this.#deadlineTimer);
    if (this.#leading) {
      await this.#release().catch((error: unknown) =>
        this.#options.log.warn({ err: error }, 'could not release the leader Lease'),
      );
      this.#setLeading(false);
    }
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#round = this.#tick();
    }, delayMs);
  }

  #setLeading(leading: boolean): void {
    if (!leading) {
      clearTimeout(this.#deadlineTimer);
      // A renewal still in flight must not outlive the leadership it was meant to keep.
      this.#roundAbort.abort();
    }
    if (leading === this.#leading) return;
    this.#leading = leading;
    this.#options.log.info(
      { lease: this.#options.name, identity: this.#options.identity, leading },
      leading ? 'became the leader' : 'stopped leading',
    );
    for (const handler of this.#handlers) handler(leading);
  }

  async #tick(): Promise<void> {
    const sentMs = Date.now();
    this.#roundAbort = new AbortController();
    try {
      const acquired = await this.#tryAcquireOrRenew(this.#roundOptions(sentMs));
      if (acquired) this.#renewed(sentMs);
      this.#setLeading(acquired);
    } catch (error) {
      // Cut off by stepping down: the step-down has been logged already.
      if (!(error instanceof KubeRequestAbortedError)) {
        this.#options.log.warn({ err: error }, 'could not reach the leader Lease');
      }
      // A leader that cannot renew in time must assume another has taken over.
      if (this.#leading && Date.now() - this.#lastRenewMs >= this.#options.renewDeadlineMs) {
        this.#setLeading(false);
      }
    }
    this.#schedule(this.#options.retryPeriodMs);
  }

  /**
   * The bound of this round's requests: a leader's end at its step-down instant (a request
   * that hangs past it is a failed renewal), a candidate's within one renew deadline.
   */
  #roundOptions(sentMs: number): Pick<KubeRequest, 'signal' | 'deadlineMs'> {
    const { renewDeadlineMs } = this.#options;
    const deadlineMs = this.#leading
      ? this.#lastRenewMs + renewDeadlineMs - sentMs
      : renewDeadlineMs;
    return { signal: this.#roundAbort.signal, deadlineMs: Math.max(1, deadlineMs) };
  }

  /** Records a renewal sent at `sentMs` and moves the step-down instant on from it. */
  #renewed(sentMs: number): void {
    this.#lastRenewMs = sentMs;
    clearTimeout(this.#deadlineTimer);
    const stepDownInMs = sentMs + this.#options.renewDeadlineMs - Date.now();
    this.#deadlineTimer = setTimeout(() => {
      this.#options.log.warn(
        { lease: this.#options.name, renewDeadlineMs: this.#options.renewDeadlineMs },
        'could not renew the leader Lease within the renew deadline; stepping down',
      );
      this.#setLeading(false);
    }, stepDownInMs);
  }

  #path(name?: string): string {
    return resourcePath(RESOURCES.lease, {
      namespace: this.#options.namespace,
      ...(name !== undefined ? { name } : {}),
    });
  }

  #spec(previous: LeaseSpec | undefined, now: Date): LeaseSpec {
    const takingOver = previous?.holderIdentity !== this.#options.identity;
    return {
      holderIdentity: this.#options.identity,
      leaseDurationSeconds: Math.ceil(this.#options.leaseDurationMs / 1000),
      acquireTime: takingOver ? microTime(now) : (previous?.acquireTime ?? microTime(now)),
      renewTime: microTime(now),
      leaseTransitions:
        (previous?.leaseTransitions ?? 0) + (takingOver && previous !== undefined ? 1 : 0),
    };
  }

  /** Whether another holder renewed within the lease duration, by this candidate's clock. */
  #heldByAnother(spec: LeaseSpec | undefined): boolean {
    const holder = spec?.holderIdentity ?? '';
    if (holder === '' || holder === this.#options.identity) return false;
    const record = `${holder}@${spec?.renewTime ?? ''}`;
    if (record !== this.#observedRecord) {
      this.#observedRecord = record;
      this.#observedAtMs = Date.now();
    }
    return Date.now() - this.#observedAtMs < this.#options.leaseDurationMs;
  }

  async #tryAcquireOrRenew(bound: Pick<KubeRequest, 'signal' | 'deadlineMs'>): Promise<boolean> {
    const now = new Date();
    const { name, namespace } = this.#options;
    let lease: Lease;
    try {
      lease = await this.#client.request<Lease>({
        verb: 'get',
        path: this.#path(name),
        what: `get Lease ${namespace}/${name}`,
        ...bound,
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      return this.#create(now, bound);
    }
    if (this.#heldByAnother(lease.spec)) return false;
    try {
      await this.#client.request({
        verb: 'update',
        path: this.#path(name),
        body: { ...lease, spec: { ...lease.spec, ...this.#spec(lease.spec, now) } },
        what: `update Lease ${namespace}/${name}`,
        ...bound,
      });
      return true;
    } catch (error) {
      // Another candidate wrote first: it leads this round.
      if (isConflict(error)) return false;
      throw error;
    }
  }

  async #create(now: Date, bound: Pick<KubeRequest, 'signal' | 'deadlineMs'>): Promise<boolean> {
    const { name, namespace } = this.#options;
    try {
      await this.#client.request({
        verb: 'create',
        path: this.#path(),
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: this.#spec(undefined, now),
        },
        what: `create Lease ${namespace}/${name}`,
        ...bound,
      });
      return true;
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
  }

  async #release(): Promise<void> {
    const { name, namespace } = this.#options;
    const lease = await this.#client.request<Lease>({
      verb: 'get',
      path: this.#path(name),
      what: `get Lease ${namespace}/${name}`,
    });
    if (lease.spec?.holderIdentity !== this.#options.identity) return;
    await this.#client.request({
      verb: 'update',
      path: this.#path(name),
      body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 } },
      what: `release Lease ${namespace}/${name}`,
    });
  }
}
