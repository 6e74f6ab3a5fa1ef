import type { ValidationIssue } from './validation-issue.js';

/**
 * Renders validation issues for people, one line per issue, in the shape of the API
 * server's messages: `BackupPolicy "orders": spec.binary.lines.daily: Invalid value: 0: …`.
 */
export function formatIssues(
  kind: string,
  name: string | undefined,
  issues: readonly ValidationIssue[],
): string {
  const subject = name === undefined || name === '' ? kind : `${kind} "${name}"`;
  return issues
    .map((issue) =>
      issue.path === ''
        ? `${subject}: ${issue.message}`
        : `${subject}: ${issue.path}: ${issue.message}`,
    )
    .join('\n');
}
