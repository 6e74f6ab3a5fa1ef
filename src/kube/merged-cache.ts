/** The informers of one resource across several namespaces, read as one cache. */
import type { ChangeHandler, Informer, ObjectCache } from './informer.js';
import type { KubeObject } from './kube-object.js';

/** One {@link ObjectCache} over several informers. */
export class MergedCache implements ObjectCache {
  readonly #informers: readonly Informer[];

  constructor(informers: readonly Informer[]) {
    this.#informers = informers;
  }

  onChange(handler: ChangeHandler): void {
    for (const informer of this.#informers) informer.onChange(handler);
  }

  get(key: string): KubeObject | undefined {
    for (const informer of this.#informers) {
      const object = informer.get(key);
      if (object !== undefined) return object;
    }
    return undefined;
  }

  list(): KubeObject[] {
    return this.#informers.flatMap((informer) => informer.list());
  }
}
