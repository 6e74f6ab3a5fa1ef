/** A run that cannot proceed for a reason the person running it can fix. */
export class RunError extends Error {
  override readonly name = 'RunError';
}
