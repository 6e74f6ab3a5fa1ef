/**
 * Target discovery (DESIGN.md §4): the server itself says who is primary. Each endpoint is
 * asked `pg_is_in_recovery()`; the one that says false is the primary.
 */
import { askServers, type ServerSession } from './ask-server.js';
import type { Credentials, Endpoint } from './credentials.js';
import { formatEndpoint } from './credentials.js';
import { AuthenticationError, NoPrimaryError } from './errors.js';

/** The primary, with an open connection the caller ends, and its version. */
export type Primary = ServerSession;

/** What {@link discoverPrimary} needs. */
export interface DiscoverInput {
  readonly endpoints: readonly Endpoint[];
  readonly credentials: Credentials;
  /** How the endpoints were found, for the error message (a selector, or spec.target.hosts). */
  readonly selection: string;
  readonly timeoutMs?: number;
}

type Answer = { primary: Primary } | { said: string; error?: unknown };

async function askAll(input: DiscoverInput): Promise<Answer[]> {
  const answers = await askServers(input, input.endpoints);
  return Promise.all(
    answers.map(async (answer): Promise<Answer> => {
      if (!('session' in answer)) return answer;
      if (!answer.session.inRecovery) return { primary: answer.session };
      await answer.session.client.end().catch(() => undefined);
      return { said: 'in recovery (a replica)' };
    }),
  );
}

/**
 * Finds the primary among the endpoints, asking all of them at once.
 *
 * @throws AuthenticationError when a server refused the credentials and none is primary
 * @throws NoPrimaryError naming the selection and what each endpoint said
 */
export async function discoverPrimary(input: DiscoverInput): Promise<Primary> {
  const answers = await askAll(input);
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
