/**
 * The age key of an encrypted bench run (BENCH_ENCRYPTION=1): made per run, only its public
 * half used (backups are written for it and never read back), the identity dropped.
 */
import { generateX25519Identity, identityToRecipient } from 'age-encryption';

/** A fresh age X25519 public key (age1…). */
export async function newRecipient(): Promise<string> {
  return identityToRecipient(await generateX25519Identity());
}
