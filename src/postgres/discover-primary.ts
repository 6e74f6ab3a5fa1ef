/**
 * Target discovery (DESIGN.md §4): the server itself says who is primary. Each endpoint is
 * asked `pg_is_in_recovery()`; the one that says false is the primary.
 */
import type pg from 'pg';
import { connectTo } from './connect.js';
import { type Credentials, type Endpoint, formatEndpoint } from './credentials.js';
import { AuthenticationError, NoPrimaryError } from './errors.js';

/** The primary, with an open connection the caller ends, and its version. */
export interface Primary {
  readonly endpoint: Endpoint;
  readonly client: pg.Client;
  /** `server_version`, e.g. `15.14 (Debian 15.14-0+deb12u1)`. */
  readonly serverVersion: string;
  /** `server_version_num`, e.g. 150014. */
  readonly serverVersionNumber: number;
  /** The major version, e.g. 15. */
  readonly major: number;
}

/** What {@link discoverPrimary} needs. */
export interface DiscoverInput {
  readonly endpoints: readonly Endpoint[];
  readonly credentials: Credentials;
  /** How the endpoints were found, for the error message (a selector, or spec.target.hosts). */
  readonly selection: string;
  readonly timeoutMs?: number;
}

type Answer = { primary: Primary } | { said: string; error?: unknown };

async function ask(input: DiscoverInput, endpoint: Endpoint): Promise<Answer> {
  let client: pg.Client;
  try {
    client = await connectTo({
      endpoint,
      credentials: input.credentials,
      timeoutMs: input.timeoutMs,
    });
  } catch (error) {
    return { said: error instanceof Error ? error.message : String(error), error };
  }
  try {
    const result = await client.query<{ recovery: boolean; version: string; num: string }>(
      "SELECT pg_is_in_recovery() AS recovery, current_setting('server_version') AS version, current_setting('server_version_num') AS num",
    );
    const row = result.rows[0];
    if (row === undefined || row.recovery) {
      await client.end();
      return { said: 'in recovery (a replica)' };
    }
    const serverVersionNumber = Number(row.num);
    return {
      primary: {
        endpoint,
        client,
        serverVersion: row.version,
        serverVersionNumber,
        major: Math.floor(serverVersionNumber / 10_000),
      },
    };
  } catch (error) {
    await client.end().catch(() => undefined);
    return { said: error instanceof Error ? error.message : String(error), error };
  }
}

/**
 * Finds the primary among the endpoints, asking all of them at once.
 *
 * @throws AuthenticationError when a server refused the credentials and none is primary
 * @throws NoPrimaryError naming the selection and what each endpoint said
 */
export async function discoverPrimary(input: DiscoverInput): Promise<Primary> {
  const answers = await Promise.all(input.endpoints.map((endpoint) => ask(input, endpoint)));
  const primaries = answers.flatMap((answer) => ('primary' in answer ? [answer.primary] : []));
  const [primary, ...others] = primaries;
  await Promise.all(others.map((other) => other.client.end()));
  if (primary !== undefined && others.length === 0) {
    return primary;
  }
  if (primary !== undefined) {
    await primary.client.end();
  }
  const refused = answers.find(
    (answer) => 'error' in answer && answer.error instanceof AuthenticationError,
  );
  if (primaries.length === 0 && refused !== undefined && 'error' in refused) {
    throw refused.error;
  }
  const lines = input.endpoints.map((endpoint, index) => {
    const answer = answers[index];
    const said = answer === undefined || 'primary' in answer ? 'primary' : answer.said;
    return `  ${formatEndpoint(endpoint)}: ${said}`;
  });
  const what =
    primaries.length > 1
      ? `more than one server says it is the primary (split brain?) among ${input.selection}`
      : `no primary found among ${input.selection}`;
  throw new NoPrimaryError(
    `${what}; each server said:\n${lines.join('\n')}\nCheck the target's selector or hosts and that the cluster has a primary`,
  );
}
