/**
 * The recovery target of a point-in-time restore (`--target-time`, `--target-lsn`,
 * `--target-latest`) and the recovery settings PostgreSQL reads for it. Pure.
 */
import { formatLsn, parseLsn } from '../retention/wal-names.js';

/** Where recovery stops. */
export type RecoveryTarget =
  | {
      readonly kind: 'time';
      /** Microseconds since the epoch (PostgreSQL's precision). */
      readonly micros: number;
      /** As given on the command line. */
      readonly text: string;
    }
  | { readonly kind: 'lsn'; readonly lsn: bigint }
  | { readonly kind: 'latest' };

const TIME_PATTERN =
  /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * Parses an instant with an explicit zone, to the microsecond: `2026-12-03T14:40:01.123456Z`,
 * `2026-12-03 14:40:01+01:00`. A time without a zone is refused: it would be read in some
 * machine's zone.
 *
 * @returns the instant, or a message saying what is wrong
 */
export function parseTargetTime(text: string): RecoveryTarget | string {
  const match = TIME_PATTERN.exec(text.trim());
  if (match === null) {
    return `--target-time "${text}" is not an instant with a zone: write it as 2026-12-03T14:40:01.123456Z or 2026-12-03 15:40:01+01:00`;
  }
  const [, date, time, fraction = '', zoneText = 'Z'] = match;
  let zone = zoneText.toUpperCase() === 'UTC' ? 'Z' : zoneText.toUpperCase();
  if (/^[+-]\d{2}$/.test(zone)) zone = `${zone}:00`;
  else if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const ms = Date.parse(`${date}T${time}${zone}`);
  if (Number.isNaN(ms)) return `--target-time "${text}" is not a valid date and time`;
  const micros = ms * 1000 + Number(fraction.padEnd(6, '0'));
  return { kind: 'time', micros, text };
}

/** Parses `--target-lsn`, e.g. `0/3000148`. */
export function parseTargetLsn(text: string): RecoveryTarget | string {
  const lsn = parseLsn(text);
  return lsn === undefined
    ? `--target-lsn "${text}" is not a WAL position: write it as PostgreSQL prints one, e.g. 0/3000148`
    : { kind: 'lsn', lsn };
}

/** An instant in microseconds as PostgreSQL reads and prints it, in UTC: `2026-12-03 14:40:01.123456+00`. */
export function formatMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString(); // 2026-12-03T14:40:01.123Z
  const fraction = String(micros - Math.floor(micros / 1_000_000) * 1_000_000).padStart(6, '0');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${fraction}+00`;
}

/** The target as messages name it. */
export function describeTarget(target: RecoveryTarget): string {
  if (target.kind === 'time') return `the instant ${formatMicros(target.micros)}`;
  if (target.kind === 'lsn') return `the WAL position ${formatLsn(target.lsn)}`;
  return 'the end of the archived WAL';
}

/** Quotes a value for postgresql.conf: single quotes, each inner one doubled. */
export function confQuote(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Quotes an argument for `sh` when it needs it. */
export function shellQuote(argument: string): string {
  return /^[\w@%+=:,./-]+$/.test(argument) ? argument : `'${argument.replaceAll("'", `'\\''`)}'`;
}

/** What the recovery settings say. */
export interface RecoverySettingsInput {
  readonly target: RecoveryTarget;
  /** The shell command PostgreSQL runs for each WAL file, with `%f` and `%p`. */
  readonly restoreCommand: string;
  /** Pause at the target (to inspect) instead of promoting. */
  readonly pause: boolean;
  /** Where the settings come from, for the comment above them. */
  readonly comment: string;
}

/**
 * The lines appended to the restored `postgresql.auto.conf`: later lines win over the
 * source's, and ALTER SYSTEM keeps them. Recovery targets are read only while
 * `recovery.signal` exists, so they do nothing once the server is promoted.
 */
export function recoverySettingsText(input: RecoverySettingsInput): string {
  const { target } = input;
  const lines = [
    `# ${input.comment}`,
    `restore_command = ${confQuote(input.restoreCommand)}`,
    `recovery_target_timeline = 'latest'`,
  ];
  if (target.kind === 'time') {
    lines.push(`recovery_target_time = ${confQuote(formatMicros(target.micros))}`);
  } else if (target.kind === 'lsn') {
    lines.push(`recovery_target_lsn = ${confQuote(formatLsn(target.lsn))}`);
  }
  if (target.kind !== 'latest') {
    lines.push(`recovery_target_inclusive = on`);
    lines.push(`recovery_target_action = ${confQuote(input.pause ? 'pause' : 'promote')}`);
  }
  return `${lines.join('\n')}\n`;
}
