/**
 * `pgbackup restore --to-pvc`: the options that make a `Restore` in a cluster (the controller
 * starts its Job, which restores into the claim), and the name it gets.
 */
import { OBJECT_NAME_PATTERN } from '../api/fields.js';
import { parseDurationSeconds, RESTORE_LINES, type RestoreSpec } from '../api/index.js';
import { QUANTITY_PATTERN } from '../api/job-template.js';
import { boundedName, LABEL_VALUE_MAX } from '../render/object-name.js';
import { formatMicros, parseTargetLsn, parseTargetTime } from '../restore/recovery-target.js';
import { formatKeyTimestamp } from '../storage/key-scheme.js';
import type { UsageError } from './command.js';
import type { PolicySource } from './run-arguments.js';

/** A restore into a claim, done by a Restore the controller runs. */
export interface PvcRestoreArguments {
  readonly type: 'to-pvc';
  readonly namespace: string;
  readonly policy: string;
  /** The Restore's spec, as the command creates it. */
  readonly spec: RestoreSpec;
  /** The Restore's name; undefined for the default, {@link defaultRestoreName}. */
  readonly name: string | undefined;
  /** How long to wait for the end, in seconds; undefined with `--no-wait`. */
  readonly waitSeconds: number | undefined;
}

/** The option values `--to-pvc` reads (as node's parseArgs gives them). */
export interface PvcOptionValues {
  readonly type: string;
  readonly backup?: string | undefined;
  readonly line?: string | undefined;
  readonly 'target-time'?: string | undefined;
  readonly 'target-lsn'?: string | undefined;
  readonly 'target-latest': boolean;
  readonly 'to-pvc'?: string | undefined;
  readonly 'pvc-size'?: string | undefined;
  readonly 'storage-class'?: string | undefined;
  readonly name?: string | undefined;
  readonly 'no-wait': boolean;
  readonly timeout?: string | undefined;
}

/** What `--wait` waits for without `--timeout`: a big database takes hours to restore. */
const DEFAULT_TIMEOUT = '6h';

/** The options `--to-pvc` refuses: the Job chooses the paths, the image carries the tools. */
export const NOT_WITH_PVC = [
  'target-dir',
  'local-dir',
  'work-dir',
  'pg-root',
  'pause',
  'database',
  'into',
  'no-owner',
  'jobs',
  'for-restore',
  'identity',
] as const;

/** An instant as the Restore's spec holds it: RFC 3339 in UTC, to the microsecond. */
export function rfc3339OfMicros(micros: number): string {
  const text = formatMicros(micros); // 2026-12-03 14:40:01.123456+00
  return `${text.slice(0, 10)}T${text.slice(11, 26)}Z`;
}

function choiceOf(values: PvcOptionValues, usage: (message: string) => UsageError) {
  const given = (['backup', 'line', 'target-time', 'target-lsn', 'target-latest'] as const).filter(
    (name) => values[name] !== undefined && values[name] !== false,
  );
  if (given.length > 1) {
    throw usage(`give at most one of ${given.map((name) => `--${name}`).join(', ')}`);
  }
  if (values.line !== undefined && !(RESTORE_LINES as readonly string[]).includes(values.line)) {
    throw usage(`--line "${values.line}" is not a binary line; use ${RESTORE_LINES.join(', ')}`);
  }
  const time = values['target-time'];
  if (time !== undefined) {
    const parsed = parseTargetTime(time);
    if (typeof parsed === 'string') throw usage(parsed);
    return { targetTime: rfc3339OfMicros(parsed.kind === 'time' ? parsed.micros : 0) };
  }
  const lsn = values['target-lsn'];
  if (lsn !== undefined) {
    const parsed = parseTargetLsn(lsn);
    if (typeof parsed === 'string') throw usage(parsed);
    return { targetLsn: lsn.toUpperCase() };
  }
  return {
    ...(values.backup === undefined ? {} : { backup: values.backup }),
    ...(values.line === undefined ? {} : { line: values.line as RestoreSpec['line'] }),
    ...(values['target-latest'] ? { targetLatest: true } : {}),
  };
}

function pvcOf(values: PvcOptionValues, usage: (message: string) => UsageError) {
  const name = values['to-pvc'] ?? '';
  if (name.length > 253 || !OBJECT_NAME_PATTERN.test(name)) {
    throw usage(
      `--to-pvc "${name}" is not a claim name; use a lowercase DNS-1123 name such as "orders-restored"`,
    );
  }
  const size = values['pvc-size'];
  if (size !== undefined && !QUANTITY_PATTERN.test(size)) {
    throw usage(`--pvc-size "${size}" is not a quantity; write it like 20Gi`);
  }
  const storageClassName = values['storage-class'];
  if (storageClassName !== undefined && size === undefined) {
    throw usage(
      '--storage-class goes with --pvc-size: a class only matters for a claim the Restore creates',
    );
  }
  return {
    name,
    ...(size === undefined ? {} : { size }),
    ...(storageClassName === undefined ? {} : { storageClassName }),
  };
}

function waitOf(values: PvcOptionValues, usage: (message: string) => UsageError) {
  if (values['no-wait']) {
    if (values.timeout !== undefined) throw usage('--timeout does not go with --no-wait');
    return undefined;
  }
  const text = values.timeout ?? DEFAULT_TIMEOUT;
  const seconds = parseDurationSeconds(text);
  if (seconds === undefined || seconds === 0) {
    throw usage(`--timeout "${text}" is not a duration; write it like 90m or 6h`);
  }
  return seconds;
}

/**
 * Parses the options of `pgbackup restore --to-pvc NAME`.
 *
 * @throws UsageError when an option does not go with a restore into a claim
 */
export function parsePvcRestoreArguments(
  values: PvcOptionValues,
  source: PolicySource,
  usage: (message: string) => UsageError,
): PvcRestoreArguments {
  if (source.kind !== 'cluster') {
    throw usage(
      '--to-pvc restores inside a cluster: give --policy NAMESPACE/NAME, not -f (a Job of the policy restores into the claim)',
    );
  }
  if (values.type !== 'binary') {
    throw usage(
      `--to-pvc restores a binary backup (a data directory); a ${values.type} backup restores into a running server: drop --to-pvc and use --type ${values.type} against that server`,
    );
  }
  const name = values.name;
  if (name !== undefined && (name.length > LABEL_VALUE_MAX || !OBJECT_NAME_PATTERN.test(name))) {
    throw usage(
      `--name "${name}" is not a Restore name; use a lowercase DNS-1123 name of at most ${LABEL_VALUE_MAX} characters such as "orders-before-upgrade"`,
    );
  }
  return {
    type: 'to-pvc',
    namespace: source.namespace,
    policy: source.name,
    spec: {
      policy: source.name,
      type: 'binary',
      ...choiceOf(values, usage),
      pvc: pvcOf(values, usage),
    },
    name,
    waitSeconds: waitOf(values, usage),
  };
}

/**
 * The default name of a Restore: `<policy>-restore-<UTC time>` in lower case (e.g.
 * `orders-restore-20261203t174000z`), cut with a hash to 63 characters.
 */
export function defaultRestoreName(policy: string, atMs: number): string {
  return boundedName(
    `${policy}-restore-${formatKeyTimestamp(atMs).toLowerCase()}`,
    LABEL_VALUE_MAX,
  );
}
