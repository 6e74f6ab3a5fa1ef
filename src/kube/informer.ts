/**
 * List+watch of one resource into a cache, surviving what real API servers do: an expired
 * resource version (410 Gone: list again), a dropped connection (watch again from the last
 * version, with backoff) and a watch that goes silent (a watchdog restarts it). Handlers get
 * only the object's key: the reconciler reads the cache itself.
 */
import type { Logger } from 'pino';
import { type BackoffPolicy, backoffDelayMs, sleepUnlessAborted } from './backoff.js';
import type { KubeClient } from './kube-client.js';
import { isGone, KubeApiError } from './kube-errors.js';
import { type KubeObject, objectKeyOf } from './kube-object.js';
import { type ResourceType, resourcePath } from './resource.js';

/** Options of an {@link Informer}. */
export interface InformerOptions {
  readonly resource: ResourceType;
  /** One namespace, or undefined for all. */
  readonly namespace: string | undefined;
  readonly labelSelector?: string;
  /** A watch that sends nothing (not even a bookmark) for this long is restarted. */
  readonly watchdogMs: number;
  /** Upper bound the server is asked to keep one watch open for, in seconds. */
  readonly watchTimeoutSeconds: number;
  readonly backoff: BackoffPolicy;
  readonly log: Logger;
}

/**
 * Called with the key of every object that was added, changed or deleted, and its latest
 * known state (for a deleted object, its last).
 */
export type ChangeHandler = (key: string, object: KubeObject) => void;

interface ObjectList {
  readonly metadata: { readonly resourceVersion?: string; readonly continue?: string };
  readonly items: KubeObject[];
}

/**
 * The object without `metadata.managedFields`, which the controller never reads and which
 * is often the larger part of an object: thousands of cached objects stay small.
 */
function withoutManagedFields(object: KubeObject): KubeObject {
  if (!('managedFields' in object.metadata)) return object;
  const { managedFields: _managedFields, ...metadata } = object.metadata as Record<string, unknown>;
  return { ...object, metadata: metadata as KubeObject['metadata'] };
}

/** What reconcilers read: a cache of objects by `namespace/name`. */
export interface ObjectCache {
  get(key: string): KubeObject | undefined;
  list(): KubeObject[];
  onChange(handler: ChangeHandler): void;
}

/** A cache of one resource kept current by list+watch. */
export class Informer implements ObjectCache {
  readonly #client: KubeClient;
  readonly #options: InformerOptions;
  readonly #cache = new Map<string, KubeObject>();
  readonly #handlers: ChangeHandler[] = [];
  readonly #stop = new AbortController();
  #resourceVersion = '';
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #lastActivityMs = 0;
  #loop: Promise<void> | undefined;

  constructor(client: KubeClient, options: InformerOptions) {
    this.#client = client;
    this.#options = options;
  }

  /** Registers a handler; call before {@link start}. */
  onChange(handler: ChangeHandler): void {
    this.#handlers.push(handler);
  }

  /** The cached object of a key, if any. */
  get(key: string): KubeObject | undefined {
    return this.#cache.get(key);
  }

  /** Every cached object. */
  list(): KubeObject[] {
    return [...this.#cache.values()];
  }

  /** Whether the first list has completed. */
  get synced(): boolean {
    return this.#synced;
  }

  /** Starts listing and watching in the background. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Resolves once the first list has completed (or the informer stopped). */
  waitForSync(): Promise<void> {
    if (this.#synced || this.#stop.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  /** Stops watching and waits for the loop to end. */
  async stop(): Promise<void> {
    this.#stop.abort();
    for (const waiter of this.#syncWaiters) waiter();
    await this.#loop;
  }

  #what(): string {
    const { resource, namespace } = this.#options;
    return `${resource.plural} in ${namespace === undefined ? 'all namespaces' : `namespace "${namespace}"`}`;
  }

  #emit(key: string, object: KubeObject): void {
    for (const handler of this.#handlers) handler(key, object);
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      try {
        if (this.#resourceVersion === '') await this.#relist();
        await this.#watchOnce();
        failures = 0;
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        if (isGone(error)) {
          // The version we watch from was compacted away: only a new list is complete.
          this.#options.log.info(
            { resource: this.#what() },
            'resource version expired; listing again',
          );
          this.#resourceVersion = '';
          continue;
        }
        failures += 1;
        const delayMs = backoffDelayMs(this.#options.backoff, failures);
        this.#options.log.warn(
          { err: error, resource: this.#what(), delayMs },
          'list or watch failed; retrying',
        );
        await sleepUnlessAborted(delayMs, this.#stop.signal);
      }
    }
  }

  async #listAll(): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const items: KubeObject[] = [];
    let continueToken = '';
    for (;;) {
      const query: Record<string, string> = { limit: '500' };
      if (this.#options.labelSelector !== undefined)
        query.labelSelector = this.#options.labelSelector;
      if (continueToken !== '') query.continue = continueToken;
      const page = await this.#client.request<ObjectList>({
        verb: 'list',
        path: resourcePath(this.#options.resource, { namespace: this.#options.namespace }),
        query,
        what: `list ${this.#what()}`,
        // stop() must not wait for the client's retries of a list during an outage.
        signal: this.#stop.signal,
      });
      items.push(...page.items);
      continueToken = page.metadata.continue ?? '';
      if (continueToken === '')
        return { items, resourceVersion: page.metadata.resourceVersion ?? '' };
    }
  }

  /** Lists everything and replaces the cache, reporting each object that changed or went. */
  async #relist(): Promise<void> {
    const { items, resourceVersion } = await this.#listAll();
    const seen = new Set<string>();
    for (const item of items) {
      const key = objectKeyOf(item);
      seen.add(key);
      const previous = this.#cache.get(key);
      this.#cache.set(key, withoutManagedFields(item));
      if (previous?.metadata.resourceVersion !== item.metadata.resourceVersion)
        this.#emit(key, item);
    }
    for (const [key, object] of [...this.#cache.entries()]) {
      if (!seen.has(key)) {
        this.#cache.delete(key);
        this.#emit(key, object);
      }
    }
    this.#resourceVersion = resourceVersion;
    if (!this.#synced) {
      this.#synced = true;
      for (const waiter of this.#syncWaiters) waiter();
      this.#syncWaiters = [];
    }
  }

  #apply(type: string, object: KubeObject): void {
    const key = objectKeyOf(object);
    if (type === 'DELETED') {
      this.#cache.delete(key);
      this.#emit(key, object);
    } else {
      this.#cache.set(key, withoutManagedFields(object));
      this.#emit(key, object);
    }
  }

  /** One watch from the current version until it ends, breaks or goes silent. */
  async #watchOnce(): Promise<void> {
    const watchStop = new AbortController();
    const abort = () => watchStop.abort();
    this.#stop.signal.addEventListener('abort', abort);
    // Stopped before the listener was registered: the abort event has already fired.
    if (this.#stop.signal.aborted) return;
    this.#lastActivityMs = Date.now();
    const watchdog = setInterval(
      () => {
        if (Date.now() - this.#lastActivityMs > this.#options.watchdogMs) {
          this.#options.log.info({ resource: this.#what() }, 'watch went silent; restarting it');
          watchStop.abort();
        }
      },
      Math.max(100, this.#options.watchdogMs / 4),
    );
    const query: Record<string, string> = {
      watch: 'true',
      resourceVersion: this.#resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(this.#options.watchTimeoutSeconds),
    };
    if (this.#options.labelSelector !== undefined)
      query.labelSelector = this.#options.labelSelector;
    try {
      const events = this.#client.watch(
        {
          path: resourcePath(this.#options.resource, { namespace: this.#options.namespace }),
          query,
          what: `watch ${this.#what()}`,
        },
        watchStop.signal,
      );
      for await (const event of events) {
        this.#lastActivityMs = Date.now();
        this.#handleEvent(event.type, event.object);
      }
    } finally {
      clearInterval(watchdog);
      this.#stop.signal.removeEventListener('abort', abort);
    }
  }

  #handleEvent(type: string, object: Record<string, unknown>): void {
    if (type === 'ERROR') {
      const status = object as { code?: number; reason?: string; message?: string };
      if (status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone') {
        this.#resourceVersion = '';
        throw new KubeApiError(`watch ${this.#what()}`, 410, status);
      }
      throw new Error(`watch ${this.#what()}: ${status.message ?? 'error event'}`);
    }
    const kubeObject = object as unknown as KubeObject;
    const version = kubeObject.metadata?.resourceVersion;
    if (version !== undefined) this.#resourceVersion = version;
    if (type !== 'BOOKMARK') this.#apply(type, kubeObject);
  }
}
