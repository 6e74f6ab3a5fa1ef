/** The adapter from a parsed BackupPolicy to the plain inputs of the retention engine. */
import {
  type BackupPolicySpec,
  BINARY_LINES,
  type LineName,
  LOGICAL_LINES,
  parseDurationSeconds,
} from '../api/index.js';
import type { RetentionLine, RetentionPlan, TimeOfDay } from './types.js';

function parseTimeOfDay(text: string): TimeOfDay {
  const [hour, minute] = text.split(':').map(Number);
  return { hour: hour ?? 0, minute: minute ?? 0 };
}

interface LinesOfKind {
  readonly enabled: boolean;
  readonly lines: Partial<Record<LineName, number>>;
}

function enabledLines(kind: LinesOfKind, order: readonly LineName[]): RetentionLine[] {
  if (!kind.enabled) {
    return [];
  }
  return order.flatMap((line) => {
    const keep = kind.lines[line];
    return keep === undefined ? [] : [{ line, keep }];
  });
}

/**
 * The retention plan of a validated policy spec (from `parseBackupPolicy`, defaults applied):
 * its schedule and, per kind, the enabled lines in the order of `BINARY_LINES` and
 * `LOGICAL_LINES`; a disabled kind has no lines.
 */
export function retentionPlanOf(spec: BackupPolicySpec): RetentionPlan {
  return {
    schedule: {
      timeZone: spec.timeZone,
      time: parseTimeOfDay(spec.schedule.time),
      weekday: spec.schedule.weekday,
      // Validation rejects a lateness that does not parse; zero would skip every late run.
      latenessSeconds: parseDurationSeconds(spec.schedule.lateness) ?? 0,
    },
    binary: enabledLines(spec.binary, BINARY_LINES),
    logical: enabledLines(spec.logical, LOGICAL_LINES),
  };
}
