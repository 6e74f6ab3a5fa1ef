import type * as z from 'zod';

/** How the API server classifies a failed rule; decides the wording of the message. */
export type RuleReason =
  | 'FieldValueInvalid'
  | 'FieldValueRequired'
  | 'FieldValueForbidden'
  | 'FieldValueDuplicate';

/**
 * One validation rule written twice, side by side, so the two cannot drift apart: as CEL for
 * the API server (`x-kubernetes-validations`) and as a predicate for zod (the controller and
 * the CLI). Both see the object after defaults are applied.
 */
export interface CrossFieldRule<T> {
  /** CEL expression over `self` (and `oldSelf` for transition rules). */
  readonly cel: string;
  /** What is wrong and what is allowed, shown by both validators. */
  readonly message: string;
  /** Field the message is about, relative to the object the rule sits on. */
  readonly field?: readonly string[];
  /** Defaults to `FieldValueInvalid`. */
  readonly reason?: RuleReason;
  /**
   * The same rule for zod; absent only for rules zod cannot evaluate (transition rules that
   * compare with the stored object).
   */
  readonly check?: (value: T) => boolean;
}

/** One entry of `x-kubernetes-validations`. */
export interface CelValidation {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: RuleReason;
}

/** Zod issue params that carry a rule's reason through to the issue formatter. */
export interface RuleIssueParams {
  reason: RuleReason;
}

function toCelValidation<T>(rule: CrossFieldRule<T>): CelValidation {
  const validation: CelValidation = { rule: rule.cel, message: rule.message };
  if (rule.field !== undefined) {
    validation.fieldPath = rule.field.map((name) => `.${name}`).join('');
  }
  if (rule.reason !== undefined) {
    validation.reason = rule.reason;
  }
  return validation;
}

/**
 * Attaches rules to a schema: zod checks them on parse, and the CRD generator finds them in
 * the schema's metadata as `x-kubernetes-validations`.
 */
export function withRules<S extends z.ZodType>(
  schema: S,
  rules: readonly CrossFieldRule<z.output<S>>[],
): S {
  const checked = schema.superRefine((value, context) => {
    for (const rule of rules) {
      if (rule.check === undefined || rule.check(value)) {
        continue;
      }
      const params: RuleIssueParams = { reason: rule.reason ?? 'FieldValueInvalid' };
      context.addIssue({
        code: 'custom',
        message: rule.message,
        path: [...(rule.field ?? [])],
        params,
        input: value,
      });
    }
  });
  return checked.meta({ 'x-kubernetes-validations': rules.map(toCelValidation) }) as S;
}
