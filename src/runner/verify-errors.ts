/** What the restore drill found wrong with a backup. */

/**
 * The backup failed a check of the drill (it does not extract, pg_verifybackup or pg_amcheck
 * found a problem, the restored server does not start): the message says what and what to do.
 */
export class VerificationError extends Error {
  override readonly name = 'VerificationError';
}
