/**
 * The shape of an IANA time zone name (`UTC`, `Europe/Berlin`, `America/Argentina/Salta`,
 * `Etc/GMT+5`). The API server can check only the shape; whether the zone exists is checked
 * by {@link describeTimeZoneProblem}.
 */
export const TIME_ZONE_PATTERN = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/**
 * Checks that a time zone name is known to the IANA database bundled with Node (ICU).
 * Names are case-sensitive because the CronJob controller looks them up as files.
 *
 * @returns `undefined` when the zone is usable, otherwise what is wrong and what to write.
 */
export function describeTimeZoneProblem(name: string): string | undefined {
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return 'not a known IANA time zone; use a name such as "UTC" or "Europe/Berlin"';
  }
  if (resolved !== name && resolved.toLowerCase() === name.toLowerCase()) {
    return `time zone names are case-sensitive; did you mean "${resolved}"?`;
  }
  return undefined;
}
