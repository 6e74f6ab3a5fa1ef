/**
 * A Go-style duration restricted to whole hours, minutes and seconds, in that order, each at
 * most once (`6h`, `30m`, `1h30m`, `90s`). Written for RE2 as well as JavaScript because the
 * same pattern goes into the CRD, where the API server evaluates it.
 */
export const DURATION_PATTERN =
  /^([0-9]{1,4}h([0-9]{1,4}m)?([0-9]{1,4}s)?|[0-9]{1,4}m([0-9]{1,4}s)?|[0-9]{1,4}s)$/;

const SECONDS_PER_UNIT: Readonly<Record<string, number>> = { h: 3600, m: 60, s: 1 };

/**
 * Parses a duration such as `6h`, `30m`, `1h30m` or `90s` into seconds.
 *
 * @returns the number of seconds, or `undefined` when the text is not a duration in the
 *   supported subset (see {@link DURATION_PATTERN}).
 */
export function parseDurationSeconds(text: string): number | undefined {
  if (!DURATION_PATTERN.test(text)) {
    return undefined;
  }
  let seconds = 0;
  for (const [, amount, unit] of text.matchAll(/([0-9]+)([hms])/g)) {
    seconds += Number(amount) * (SECONDS_PER_UNIT[unit ?? ''] ?? 0);
  }
  return seconds;
}
