/** Failures of the artifact stores; each message names the store, what is wrong and what to do. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
}
