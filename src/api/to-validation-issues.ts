import type * as z from 'zod';
import type { RuleIssueParams } from './cross-field-rule.js';
import { formatFieldPath, type ValidationIssue } from './validation-issue.js';

type Issue = z.core.$ZodIssue;

const MAX_VALUE_LENGTH = 80;

/** Renders the offending value as the API server does: scalars as JSON, objects by kind. */
function renderValue(value: unknown): string {
  if (Array.isArray(value)) {
    return '"array"';
  }
  if (value !== null && typeof value === 'object') {
    return '"object"';
  }
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH)}…` : text;
}

function isScalar(value: unknown): boolean {
  return value === null || typeof value !== 'object';
}

const REASON_PREFIXES: Readonly<Record<string, string>> = {
  FieldValueRequired: 'Required value',
  FieldValueForbidden: 'Forbidden',
};

function describeCustom(issue: Issue & { code: 'custom' }): string {
  const reason = (issue.params as Partial<RuleIssueParams> | undefined)?.reason;
  if (reason === 'FieldValueDuplicate') {
    return `Duplicate value: ${renderValue(issue.input)}`;
  }
  const prefix = REASON_PREFIXES[reason ?? ''];
  if (prefix !== undefined) {
    return `${prefix}: ${issue.message}`;
  }
  // As the API server words a failed CEL rule: the value is shown only when it is a scalar.
  const invalid = isScalar(issue.input)
    ? `Invalid value: ${renderValue(issue.input)}`
    : 'Invalid value';
  return `${invalid}: ${issue.message}`;
}

function describe(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? 'Required value'
        : `Invalid value: ${renderValue(issue.input)}: ${issue.message}`;
    case 'invalid_value':
      return `Unsupported value: ${renderValue(issue.input)}: ${issue.message}`;
    case 'custom':
      return describeCustom(issue);
    default:
      return `Invalid value: ${renderValue(issue.input)}: ${issue.message}`;
  }
}

/** Turns zod issues into {@link ValidationIssue}s, one per field (one per unknown field). */
export function toValidationIssues(issues: readonly Issue[]): ValidationIssue[] {
  return issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          path: formatFieldPath([...issue.path, key]),
          message: `Unknown field: ${issue.message}`,
        }))
      : [{ path: formatFieldPath(issue.path), message: describe(issue) }],
  );
}
