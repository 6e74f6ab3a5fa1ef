/**
 * The environment's variables (see `npm run env:up`) as tests read them. The global setup
 * exports them into the test processes; a missing one means the suite ran without it.
 */

/** The value of an environment variable the harness sets, or a clear error. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `${name} is not set: run the system tests through vitest (its global setup starts the environment) or eval "$(npm run -s env:up)" first`,
    );
  }
  return value;
}

/** A short random suffix that keeps names of parallel tests apart. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;
}
