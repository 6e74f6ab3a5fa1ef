/**
 * The Backups of each policy, indexed as the informer reports them (client-go's indexer, by
 * policy): a reconcile reads and parses only its own policy's Backups, never every Backup in
 * the cluster. Parsed Backups are kept until their resourceVersion changes.
 */
import { type Backup, parseBackup } from '../api/index.js';
import type { KubeObject, ObjectCache } from '../kube/index.js';

/** A Backup with the raw object it was parsed from (for its uid). */
export interface BackupObject {
  readonly backup: Backup;
  readonly object: KubeObject;
}

/**
 * The policy key (`namespace/policy`) a Backup belongs to, read from its one field
 * `spec.policy`. The index keys on that field rather than on the `pgbackup.dev/policy` label:
 * a Backup a person writes by hand has no label, and the label's value is cut (with a hash)
 * for policy names longer than a label value, so two long names could share it.
 */
export function policyKeyOfBackup(object: KubeObject): string | undefined {
  const spec = object.spec as { policy?: unknown } | undefined;
  if (typeof spec?.policy !== 'string') return undefined;
  return `${object.metadata.namespace ?? ''}/${spec.policy}`;
}

interface Parsed {
  readonly resourceVersion: string | undefined;
  readonly entry: BackupObject | undefined;
}

/** Backups by policy, kept current by the cache's change handler. */
export class BackupIndex {
  readonly #cache: ObjectCache;
  readonly #keysByPolicy = new Map<string, Set<string>>();
  readonly #policyByKey = new Map<string, string>();
  readonly #parsed = new Map<string, Parsed>();

  /** Indexes what `cache` holds from now on; create it before the cache's informers start. */
  constructor(cache: ObjectCache) {
    this.#cache = cache;
    cache.onChange((key) => this.#reindex(key));
  }

  #reindex(key: string): void {
    const previous = this.#policyByKey.get(key);
    if (previous !== undefined) {
      this.#keysByPolicy.get(previous)?.delete(key);
      if (this.#keysByPolicy.get(previous)?.size === 0) this.#keysByPolicy.delete(previous);
      this.#policyByKey.delete(key);
    }
    // The informer updates its cache before it calls handlers: absent means deleted.
    const object = this.#cache.get(key);
    const policyKey = object === undefined ? undefined : policyKeyOfBackup(object);
    if (policyKey === undefined) {
      this.#parsed.delete(key);
      return;
    }
    this.#policyByKey.set(key, policyKey);
    const keys = this.#keysByPolicy.get(policyKey) ?? new Set<string>();
    keys.add(key);
    this.#keysByPolicy.set(policyKey, keys);
  }

  #entryOf(key: string): BackupObject | undefined {
    const object = this.#cache.get(key);
    if (object === undefined) return undefined;
    const cached = this.#parsed.get(key);
    if (cached !== undefined && cached.resourceVersion === object.metadata.resourceVersion) {
      return cached.entry;
    }
    const parsed = parseBackup(object);
    const entry = parsed.ok ? { backup: parsed.value, object } : undefined;
    this.#parsed.set(key, { resourceVersion: object.metadata.resourceVersion, entry });
    return entry;
  }

  /** The valid Backups of one policy (those that fail to parse are left out). */
  backupsOf(namespace: string, policy: string): BackupObject[] {
    const keys = this.#keysByPolicy.get(`${namespace}/${policy}`) ?? new Set<string>();
    return [...keys].sort().flatMap((key) => this.#entryOf(key) ?? []);
  }
}
