/**
 * The Backups of each policy, indexed as the informer reports them: a policy's reconcile reads
 * only its own Backups (never a list of every Backup), and the index follows changes and
 * deletions.
 */
import { describe, expect, it } from 'vitest';
import { API_VERSION } from '../../../src/api/index.js';
import { BackupIndex } from '../../../src/controller/backup-index.js';
import type { ChangeHandler, KubeObject, ObjectCache } from '../../../src/kube/index.js';

/** A cache as the informer keeps it, counting what a reader asks of it. */
class CountingCache implements ObjectCache {
  readonly objects = new Map<string, KubeObject>();
  readonly handlers: ChangeHandler[] = [];
  readonly read: string[] = [];
  lists = 0;

  get(key: string): KubeObject | undefined {
    this.read.push(key);
    return this.objects.get(key);
  }
  list(): KubeObject[] {
    this.lists += 1;
    return [...this.objects.values()];
  }
  onChange(handler: ChangeHandler): void {
    this.handlers.push(handler);
  }
  /** Stores (or, with no object, deletes) and reports the change, as the informer does. */
  change(key: string, object?: KubeObject): void {
    const last = this.objects.get(key) ?? object;
    if (object === undefined) this.objects.delete(key);
    else this.objects.set(key, object);
    for (const handler of this.handlers) handler(key, last as KubeObject);
  }
}

function backupObject(namespace: string, name: string, policy: string, version = '1'): KubeObject {
  return {
    apiVersion: API_VERSION,
    kind: 'Backup',
    metadata: { name, namespace, resourceVersion: version },
    spec: { policy, type: 'binary', line: 'daily' },
  };
}

describe('the index of Backups by policy', () => {
  it("reads only the policy's own Backups, never the whole cache", () => {
    const cache = new CountingCache();
    const index = new BackupIndex(cache);
    for (let i = 0; i < 500; i += 1) {
      cache.change(`shop/other-${i}`, backupObject('shop', `other-${i}`, `other-${i % 7}`));
    }
    cache.change('shop/orders-1', backupObject('shop', 'orders-1', 'orders'));
    cache.change('shop/orders-2', backupObject('shop', 'orders-2', 'orders'));
    // The same policy name in another namespace is another policy.
    cache.change('eu/orders-3', backupObject('eu', 'orders-3', 'orders'));
    cache.read.length = 0;

    const found = index.backupsOf('shop', 'orders');

    expect(found.map((entry) => entry.backup.metadata.name)).toEqual(['orders-1', 'orders-2']);
    expect(cache.lists).toBe(0);
    expect(new Set(cache.read)).toEqual(new Set(['shop/orders-1', 'shop/orders-2']));
  });

  it('follows a Backup that changes its policy, and one that is deleted', () => {
    const cache = new CountingCache();
    const index = new BackupIndex(cache);
    cache.change('shop/a', backupObject('shop', 'a', 'orders'));
    cache.change('shop/b', backupObject('shop', 'b', 'orders'));
    cache.change('shop/a', backupObject('shop', 'a', 'billing', '2'));
    cache.change('shop/b');

    expect(index.backupsOf('shop', 'orders')).toEqual([]);
    expect(index.backupsOf('shop', 'billing').map((entry) => entry.backup.spec.policy)).toEqual([
      'billing',
    ]);
  });

  it('parses a Backup again only when its resourceVersion changes', () => {
    const cache = new CountingCache();
    const index = new BackupIndex(cache);
    cache.change('shop/a', backupObject('shop', 'a', 'orders'));
    const [first] = index.backupsOf('shop', 'orders');
    const [again] = index.backupsOf('shop', 'orders');
    expect(again?.backup).toBe(first?.backup);
    cache.change('shop/a', {
      ...backupObject('shop', 'a', 'orders', '2'),
      status: { phase: 'Running' },
    });
    const [changed] = index.backupsOf('shop', 'orders');
    expect(changed?.backup.status?.phase).toBe('Running');
  });
});
