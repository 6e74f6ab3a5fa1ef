/**
 * Passwords and keys of the local environment: random per environment, kept in one file
 * readable only by its owner, and handed to servers through environment variables or files,
 * never command lines.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Secrets {
  readonly postgresPassword: string;
  readonly replicationPassword: string;
  readonly s3AccessKeyId: string;
  readonly s3SecretAccessKey: string;
}

function token(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** Reads the environment's secrets, creating them on first use. */
export function loadOrCreateSecrets(state: string): Secrets {
  const file = join(state, 'secrets.json');
  if (existsSync(file)) {
    return JSON.parse(readFileSync(file, 'utf8')) as Secrets;
  }
  const secrets: Secrets = {
    postgresPassword: token(18),
    replicationPassword: token(18),
    s3AccessKeyId: `pgbackup${token(6)}`,
    s3SecretAccessKey: token(30),
  };
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
