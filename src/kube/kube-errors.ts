/** Failures talking to the Kubernetes API server, with the request they belong to. */

/** The API server answered with an error status (4xx or 5xx). */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly statusCode: number;
  /** The Status object's reason, e.g. `NotFound`, `Conflict`, `Expired`. */
  readonly reason: string;
  /** How long the server asked us to wait before trying again (`Retry-After`), if it did. */
  readonly retryAfterMs: number | undefined;

  constructor(
    what: string,
    statusCode: number,
    status: { reason?: string; message?: string },
    retryAfterMs?: number,
  ) {
    super(
      `${what}: the API server answered ${statusCode} ${status.reason ?? ''}: ${status.message ?? 'no message'}`,
    );
    this.statusCode = statusCode;
    this.reason = status.reason ?? '';
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * The API server could not be reached (no usable kubeconfig, a refused or broken connection,
 * no answer in time).
 */
export class KubeConnectionError extends Error {
  override readonly name = 'KubeConnectionError';
}

/** The caller gave up on the request (its AbortSignal fired): nothing to retry. */
export class KubeRequestAbortedError extends Error {
  override readonly name = 'KubeRequestAbortedError';
}

/**
 * Statuses that say "not now" rather than "no": too many requests (429), and the server or
 * something in front of it failing or overloaded (500, 502, 503, 504).
 */
const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

/** Whether trying the same request again later may succeed: a transient status, or no answer. */
export function isTransient(error: unknown): boolean {
  if (error instanceof KubeApiError) return TRANSIENT_STATUSES.has(error.statusCode);
  return error instanceof KubeConnectionError;
}

/** Whether the API server refused the request before acting on it: 429 Too Many Requests. */
export function isTooManyRequests(error: unknown): boolean {
  return error instanceof KubeApiError && error.statusCode === 429;
}

/** Whether an error is the API server's 404. */
export function isNotFound(error: unknown): boolean {
  return error instanceof KubeApiError && error.statusCode === 404;
}

/** Whether an error is the API server's 409: another writer changed or created the object first. */
export function isConflict(error: unknown): boolean {
  return error instanceof KubeApiError && error.statusCode === 409;
}

/** Whether an error says a resource version is too old to watch or list from (410 Gone). */
export function isGone(error: unknown): boolean {
  return error instanceof KubeApiError && (error.statusCode === 410 || error.reason === 'Expired');
}
