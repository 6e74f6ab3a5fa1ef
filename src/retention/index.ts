/**
 * The retention engine (DESIGN.md §1): the calendar, periods, slots and labels of each line,
 * the period of a run, the CronJob schedule of a line, the pruning decision and the plan
 * preview. Pure: no I/O, no clock (instants are parameters), no environment.
 */

export {
  type CronSchedule,
  type CronScheduleInput,
  cronHoursOf,
  cronScheduleOf,
} from './cron-schedule.js';
export { describeFireDays, formatDurationMs } from './describe.js';
export { fireInstantOf } from './fire-instant.js';
export { type FireTimeNotesInput, fireTimeNotes } from './fire-time-notes.js';
export {
  CRON_WEEKDAY,
  fireDayOfPeriod,
  isFireDay,
  type LabelInput,
  type LineCalendar,
  labelOf,
  latestFireDayOnOrBefore,
  periodOf,
  slotOf,
} from './line-calendar.js';
export {
  daysInMonth,
  epochDayOf,
  formatLocalDate,
  type LocalDate,
  localDateOf,
  parseLocalDate,
  weekdayIndexOf,
} from './local-date.js';
export {
  type BackupClock,
  compareByClock,
  compareNewestFirst,
  type LineBackup,
  type PlanPruneInput,
  type PruneDecision,
  planPrune,
} from './plan-prune.js';
export {
  decideTrigger,
  type Fire,
  type LineSchedule,
  latestFireAtOrBefore,
  periodTakenSkip,
  type ResolveRunInput,
  type RunAccepted,
  type RunDecision,
  type RunSkipped,
  resolveRun,
  type SkipReason,
  type TriggerDecision,
  type TriggerInput,
} from './resolve-run.js';
export { retentionPlanOf } from './retention-plan-of.js';
export {
  type PlannedBackup,
  type PlanSimulation,
  type SimulatePlanInput,
  simulatePlan,
} from './simulate-plan.js';
export { epochDayAt, instantsOfWallTime, offsetMsAt, wallTimeAt } from './time-zone.js';
export type {
  FireSchedule,
  RetentionLine,
  RetentionPlan,
  RetentionSchedule,
  TimeOfDay,
} from './types.js';
export {
  assessWalContinuity,
  reachFrom,
  type TimelineStretch,
  timelineAt,
  timelinePathOf,
  type WalContinuity,
  type WalContinuityInput,
  type WalGap,
  type WalListingEntry,
  type WalRange,
  type WalReach,
} from './wal-continuity.js';
export {
  DEFAULT_WAL_SEGMENT_SIZE,
  ENCRYPTED_SUFFIX,
  formatLsn,
  formatTimelineSwitches,
  historyFileName,
  parseLsn,
  parseTimelineHistory,
  parseTimelineSwitches,
  parseWalFileName,
  segmentFileName,
  segmentOf,
  segmentStartLsn,
  type TimelineSwitch,
  WAL_COMPRESSION_SUFFIX,
  type WalCompression,
  type WalFile,
  walObjectName,
} from './wal-names.js';
export {
  planWalPrune,
  type WalAnchorCandidate,
  type WalPruneInput,
  type WalPrunePlan,
  walAnchorOf,
} from './wal-prune.js';
