/** One thing wrong with a manifest. */
export interface ValidationIssue {
  /** Dotted path of the field, e.g. `spec.binary.lines.daily` or `spec.target.hosts[0]`. */
  path: string;
  /** What is wrong and what is allowed, e.g. `Invalid value: 0: must be from 1 to 100`. */
  message: string;
}

/** The outcome of validating a manifest; the `never` fields make narrowing on `ok` exact. */
export type ParseResult<T> =
  | { ok: true; value: T; issues?: never }
  | { ok: false; issues: ValidationIssue[]; value?: never };

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Writes a path the way the API server does: properties joined by dots, list indexes and
 * map keys that are not plain identifiers (label keys) in brackets.
 */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'string' && IDENTIFIER.test(segment)) {
      text += text === '' ? segment : `.${segment}`;
    } else {
      text += `[${String(segment)}]`;
    }
  }
  return text;
}
