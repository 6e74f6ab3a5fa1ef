/** Failures talking to the Kubernetes API server, with the request they belong to. */

/** The API server answered with an error status (4xx or 5xx). */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly statusCode: number;
  /** The Status object's reason, e.g. `NotFound`, `Conflict`, `Expired`. */
  readonly reason: string;

  constructor(what: string, statusCode: number, status: { reason?: string; message?: string }) {
    super(
      `${what}: the API server answered ${statusCode} ${status.reason ?? ''}: ${status.message ?? 'no message'}`,
    );
    this.statusCode = statusCode;
    this.reason = status.reason ?? '';
  }
}

/**
 * The API server could not be reached (no usable kubeconfig, a refused or broken connection).
 */
export class KubeConnectionError extends Error {
  override readonly name = 'KubeConnectionError';
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
