/**
 * Leader election on a Lease (coordination.k8s.io/v1), as client-go does it: the holder
 * renews the Lease every `retryPeriodMs`; another candidate takes it over only when it has
 * seen no renewal for `leaseDurationMs` by its own clock (so clocks need not agree). A
 * leader that cannot renew for `renewDeadlineMs` steps down and campaigns again; it is not
 * restarted, so an API server outage longer than the deadline costs only a re-election.
 */
import type { Logger } from 'pino';
import type { KubeClient } from './kube-client.js';
import { isConflict, isNotFound } from './kube-errors.js';
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
  #lastRenewMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #round: Promise<void> = Promise.resolve();

  constructor(client: KubeClient, options: LeaderElectionOptions) {
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
    if (leading === this.#leading) return;
    this.#leading = leading;
    this.#options.log.info(
      { lease: this.#options.name, identity: this.#options.identity, leading },
      leading ? 'became the leader' : 'stopped leading',
    );
    for (const handler of this.#handlers) handler(leading);
  }

  async #tick(): Promise<void> {
    try {
      const acquired = await this.#tryAcquireOrRenew();
      if (acquired) this.#lastRenewMs = Date.now();
      this.#setLeading(acquired);
    } catch (error) {
      this.#options.log.warn({ err: error }, 'could not reach the leader Lease');
      // A leader that cannot renew in time must assume another has taken over.
      if (this.#leading && Date.now() - this.#lastRenewMs > this.#options.renewDeadlineMs) {
        this.#setLeading(false);
      }
    }
    this.#schedule(this.#options.retryPeriodMs);
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

  async #tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    const { name, namespace } = this.#options;
    let lease: Lease;
    try {
      lease = await this.#client.request<Lease>({
        verb: 'get',
        path: this.#path(name),
        what: `get Lease ${namespace}/${name}`,
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      return this.#create(now);
    }
    if (this.#heldByAnother(lease.spec)) return false;
    try {
      await this.#client.request({
        verb: 'update',
        path: this.#path(name),
        body: { ...lease, spec: { ...lease.spec, ...this.#spec(lease.spec, now) } },
        what: `update Lease ${namespace}/${name}`,
      });
      return true;
    } catch (error) {
      // Another candidate wrote first: it leads this round.
      if (isConflict(error)) return false;
      throw error;
    }
  }

  async #create(now: Date): Promise<boolean> {
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
