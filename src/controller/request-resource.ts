/** The resource a request path is about, as a metric label (`cronjobs`, `leases`, …). */

const COLLECTION_PATH = /^\/apis?\/(?:[^/]+\/)?v[^/]+\/(?:namespaces\/[^/]+\/)?([a-z0-9]+)/;

/** `cronjobs` for `/apis/batch/v1/namespaces/shop/cronjobs/x`; `namespaces` for a namespace. */
export function resourceOfPath(path: string): string {
  return COLLECTION_PATH.exec(path)?.[1] ?? 'other';
}
