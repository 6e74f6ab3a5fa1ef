import type * as z from 'zod';
import { type Backup, backupSchema } from './backup.js';
import { type BackupPolicy, backupPolicySchema } from './backup-policy.js';
import { describeIssue } from './issue-messages.js';
import { pruneNulls } from './prune-nulls.js';
import { type Restore, restoreSchema } from './restore.js';
import { toValidationIssues } from './to-validation-issues.js';
import type { ParseResult } from './validation-issue.js';

function parseWith<S extends z.ZodType>(schema: S, doc: unknown): ParseResult<z.output<S>> {
  const result = schema.safeParse(pruneNulls(doc), { error: describeIssue, reportInput: true });
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, issues: toValidationIssues(result.error.issues) };
}

/**
 * Validates a `BackupPolicy` manifest (parsed YAML or JSON) and applies its defaults: the
 * same checks the API server makes, plus those CEL cannot make (a real time zone).
 */
export function parseBackupPolicy(doc: unknown): ParseResult<BackupPolicy> {
  return parseWith(backupPolicySchema, doc);
}

/** Validates a `Backup` manifest and applies its defaults. */
export function parseBackup(doc: unknown): ParseResult<Backup> {
  return parseWith(backupSchema, doc);
}

/** Validates a `Restore` manifest and applies its defaults. */
export function parseRestore(doc: unknown): ParseResult<Restore> {
  return parseWith(restoreSchema, doc);
}
