/** The plain inputs of the retention engine, independent of the shape of a BackupPolicy. */
import type { BackupType, LineName, Weekday } from '../api/index.js';

/** A time of day on a 24-hour clock. */
export interface TimeOfDay {
  readonly hour: number;
  readonly minute: number;
}

/** Where and when lines fire: the calendar needs nothing else besides the line. */
export interface FireSchedule {
  /** IANA time zone in which days, weekdays and the time of day are reckoned. */
  readonly timeZone: string;
  /** Time of day every line fires at on its fire days. */
  readonly time: TimeOfDay;
  /** Day of the week the weekly line fires on. */
  readonly weekday: Weekday;
}

/** A {@link FireSchedule} and how late a run may start after its fire instant. */
export interface RetentionSchedule extends FireSchedule {
  readonly latenessSeconds: number;
}

/** One enabled line of one kind of backup, with the number of slots it keeps. */
export interface RetentionLine {
  readonly line: LineName;
  readonly keep: number;
}

/** Everything retention needs to know about a policy. */
export interface RetentionPlan {
  readonly schedule: RetentionSchedule;
  /** Enabled lines of binary backups, in the order of BINARY_LINES; empty when disabled. */
  readonly binary: readonly RetentionLine[];
  /** Enabled lines of logical backups, in the order of LOGICAL_LINES; empty when disabled. */
  readonly logical: readonly RetentionLine[];
}

export type { BackupType, LineName, Weekday };
