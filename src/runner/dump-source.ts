/**
 * The server a logical backup dumps (DESIGN.md §1, §4): among the target's servers that say
 * `pg_is_in_recovery()`, the one that has replayed the most WAL (the least replay lag). With
 * no replica, the primary only when the policy allows it; otherwise the run fails and says
 * what each server answered.
 */
import {
  AuthenticationError,
  askServers,
  type Credentials,
  type Endpoint,
  formatEndpoint,
  lsnToBigInt,
  type ServerAnswer,
  type ServerSession,
} from '../postgres/index.js';
import { RunError } from './errors.js';
import type { BackupSource } from './run-backup.js';

/** What {@link findDumpSource} needs. */
export interface DumpSourceInput {
  readonly endpoints: readonly Endpoint[];
  readonly credentials: Credentials;
  readonly selection: string;
  readonly fallbackToPrimary: boolean;
}

function sessionsOf(answers: readonly ServerAnswer[]): ServerSession[] {
  return answers.flatMap((answer) => ('session' in answer ? [answer.session] : []));
}

/** How far behind the primary a replica is, in bytes; undefined when either is unknown. */
function lagBytes(replica: ServerSession, primary: ServerSession | undefined) {
  if (replica.walLsn === undefined || primary?.walLsn === undefined) return undefined;
  const lag = lsnToBigInt(primary.walLsn) - lsnToBigInt(replica.walLsn);
  return lag < 0n ? 0n : lag;
}

/** The replica that has replayed the most WAL; one that has replayed nothing comes last. */
function mostCaughtUp(replicas: readonly ServerSession[]): ServerSession | undefined {
  const position = (session: ServerSession) =>
    session.walLsn === undefined ? -1n : lsnToBigInt(session.walLsn);
  return replicas.reduce<ServerSession | undefined>(
    (best, session) => (best === undefined || position(session) > position(best) ? session : best),
    undefined,
  );
}

/**
 * The note on a dump from a replica that was behind the primary: which replica, how many bytes
 * behind, and that the dump is as of its replay point. Undefined when it was caught up, or when
 * no primary answered, so there is no position to measure the lag against.
 */
function replicaLagNote(replica: ServerSession, primary: ServerSession | undefined) {
  const lag = lagBytes(replica, primary);
  if (primary === undefined || lag === undefined || lag === 0n) return undefined;
  return `taken from the replica ${formatEndpoint(replica.endpoint)}, which was ${lag} bytes behind the primary ${formatEndpoint(primary.endpoint)} (replayed to ${replica.walLsn}, the primary at ${primary.walLsn}): the dump is as of the replica's replay point, without the primary's changes after it`;
}

function describeAnswer(answer: ServerAnswer, primary: ServerSession | undefined): string {
  if (!('session' in answer)) return answer.said;
  const { session } = answer;
  if (!session.inRecovery) return `the primary (at ${session.walLsn ?? 'unknown'})`;
  const lag = lagBytes(session, primary);
  return `a replica, replayed to ${session.walLsn ?? 'nothing yet'}${lag === undefined ? '' : ` (${lag} bytes behind the primary)`}`;
}

function describeAnswers(input: DumpSourceInput, answers: readonly ServerAnswer[]): string {
  const [primary] = sessionsOf(answers).filter((session) => !session.inRecovery);
  return input.endpoints
    .map((endpoint, index) => {
      const answer = answers[index];
      const said = answer === undefined ? 'no answer' : describeAnswer(answer, primary);
      return `  ${formatEndpoint(endpoint)}: ${said}`;
    })
    .join('\n');
}

function noReplicaError(input: DumpSourceInput, answers: readonly ServerAnswer[]): Error {
  const sessions = sessionsOf(answers);
  const refused = answers.find(
    (answer) => 'error' in answer && answer.error instanceof AuthenticationError,
  );
  if (sessions.length === 0 && refused !== undefined && 'error' in refused) {
    return refused.error as Error;
  }
  const primaries = sessions.filter((session) => !session.inRecovery).length;
  const why =
    input.fallbackToPrimary && primaries > 1
      ? 'and more than one server says it is the primary (split brain?), so none is dumped'
      : input.fallbackToPrimary
        ? 'and no primary to fall back to'
        : 'and spec.logical.fallbackToPrimary is false, so the primary is not dumped';
  return new RunError(
    `no replica to dump among ${input.selection} ${why}; each server said:\n${describeAnswers(input, answers)}\nStart a replica (or check the target's selector or hosts), or set spec.logical.fallbackToPrimary: true to dump the primary when no replica is available`,
  );
}

/**
 * Asks every server and keeps a session to the one to dump; the others are closed.
 *
 * @throws RunError naming what each server said when there is nothing to dump
 * @throws AuthenticationError when the servers refused the credentials
 */
export async function findDumpSource(input: DumpSourceInput): Promise<BackupSource> {
  const answers = await askServers(input, input.endpoints);
  const sessions = sessionsOf(answers);
  const replica = mostCaughtUp(sessions.filter((session) => session.inRecovery));
  const primaries = sessions.filter((session) => !session.inRecovery);
  const chosen =
    replica ?? (input.fallbackToPrimary && primaries.length === 1 ? primaries[0] : undefined);
  await Promise.all(
    sessions
      .filter((session) => session !== chosen)
      .map((session) => session.client.end().catch(() => undefined)),
  );
  if (chosen === undefined) throw noReplicaError(input, answers);
  if (chosen.inRecovery) {
    // One primary to measure against; with none or several (split brain) the lag is unknown.
    const primary = primaries.length === 1 ? primaries[0] : undefined;
    const note = replicaLagNote(chosen, primary);
    return { session: chosen, role: 'replica', ...(note === undefined ? {} : { note }) };
  }
  return {
    session: chosen,
    role: 'primary',
    note: `taken from the primary ${formatEndpoint(chosen.endpoint)} because no replica was available (spec.logical.fallbackToPrimary is true); each server said:\n${describeAnswers(input, answers)}`,
  };
}
