/**
 * A queue on a Kubernetes Lease (coordination.k8s.io/v1): runs of one policy against the
 * primary take turns. A run waits while another holds the Lease and renews it; a holder that
 * stopped renewing (a killed run) is taken over once its lease duration passed, measured by
 * the waiter's own clock from when it last saw the Lease change (so clocks need not agree).
 */
import type { Logger } from 'pino';
import type { KubeClient } from './kube-client.js';
import { isConflict, isNotFound } from './kube-errors.js';
import { RESOURCES, resourcePath } from './resource.js';

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
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
  readonly name: string;
  /** Unique per run, e.g. pod name and a random suffix. */
  readonly identity: string;
  readonly leaseDurationSeconds?: number;
  readonly pollMs?: number;
  readonly logger: Logger;
}

/** A Lease this run holds; renewed in the background until released. */
export interface HeldLease {
  release(): Promise<void>;
}

// MicroTime: the API server wants exactly six fractional digits.
const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

const leasePath = (input: LeaseQueueInput, name?: string) =>
  resourcePath(RESOURCES.lease, { namespace: input.namespace, name });

const describe = (input: LeaseQueueInput) => `Lease ${input.namespace}/${input.name}`;

/** Replaces the Lease; a 409 means another run wrote it since it was read. */
function updateLease(input: LeaseQueueInput, lease: Lease, what: string): Promise<unknown> {
  return input.client.request({
    verb: 'update',
    path: leasePath(input, input.name),
    body: lease,
    what: `${what} ${describe(input)}`,
  });
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
    leaseDurationSeconds: input.leaseDurationSeconds ?? 30,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: transitions,
  };
}

/** One attempt to take the Lease; false when another holds it or won the race. */
async function tryTake(input: LeaseQueueInput, lease: Lease | undefined, free: boolean) {
  try {
    if (lease === undefined) {
      await input.client.request({
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
      return true;
    }
    if (!free) return false;
    await updateLease(
      input,
      { ...lease, spec: heldSpec(input, (lease.spec?.leaseTransitions ?? 0) + 1) },
      'take',
    );
    return true;
  } catch (error) {
    if (isConflict(error)) return false;
    throw error;
  }
}

function startRenewing(input: LeaseQueueInput): () => Promise<void> {
  const durationMs = (input.leaseDurationSeconds ?? 30) * 1000;
  let stopped = false;
  const renew = async () => {
    const lease = await readLease(input);
    if (lease?.spec?.holderIdentity !== input.identity) {
      input.logger.error({ lease: input.name }, 'lost the Lease to another run');
      return;
    }
    await updateLease(
      input,
      { ...lease, spec: { ...lease.spec, renewTime: microTime(Date.now()) } },
      'renew',
    );
  };
  const timer = setInterval(() => {
    if (stopped) return;
    renew().catch((error: unknown) =>
      input.logger.warn({ err: error, lease: input.name }, 'could not renew the Lease'),
    );
  }, durationMs / 3);
  return async () => {
    stopped = true;
    clearInterval(timer);
    const lease = await readLease(input);
    if (lease?.spec?.holderIdentity !== input.identity) return;
    const { holderIdentity: _released, ...spec } = lease.spec;
    await updateLease(input, { ...lease, spec }, 'release');
  };
}

/**
 * Waits for and takes the Lease, creating it if needed.
 *
 * @throws KubeApiError when the API server refuses (for example RBAC)
 */
export async function acquireLease(input: LeaseQueueInput): Promise<HeldLease> {
  const durationMs = (input.leaseDurationSeconds ?? 30) * 1000;
  let observed = '';
  let observedAtMs = Date.now();
  let announced = false;
  for (;;) {
    const lease = await readLease(input);
    const record = JSON.stringify(lease?.spec ?? {});
    if (record !== observed) {
      observed = record;
      observedAtMs = Date.now();
    }
    const holder = lease?.spec?.holderIdentity ?? '';
    const free = holder === '' || Date.now() - observedAtMs > durationMs;
    if (await tryTake(input, lease, free)) {
      input.logger.info({ lease: input.name, identity: input.identity }, 'acquired the Lease');
      const stop = startRenewing(input);
      return {
        release: async () => {
          await stop();
          input.logger.info({ lease: input.name, identity: input.identity }, 'released the Lease');
        },
      };
    }
    if (!announced && holder !== '') {
      input.logger.info({ lease: input.name, holder }, 'waiting for the Lease held by another run');
      announced = true;
    }
    await new Promise((resolve) => setTimeout(resolve, input.pollMs ?? 1000));
  }
}
