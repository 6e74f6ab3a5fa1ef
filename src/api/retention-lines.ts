import { closedObject, keepCount } from './fields.js';
import { BINARY_LINES, DEFAULT_KEEP, LINE_RULES, type LineName, LOGICAL_LINES } from './lines.js';

function lineKeep(line: LineName) {
  return keepCount(
    `Slots the ${line} line keeps (default ${DEFAULT_KEEP[line]} when lines is omitted); the line ${LINE_RULES[line]}.`,
  ).optional();
}

function defaultsFor<L extends LineName>(lines: readonly L[]): Partial<Record<L, number>> {
  const keeps: Partial<Record<L, number>> = {};
  for (const line of lines) {
    keeps[line] = DEFAULT_KEEP[line];
  }
  return keeps;
}

const LINES_DESCRIPTION =
  'Retention lines to take, each with the number of slots it keeps. Omitted: every line with its default keep. Given: exactly the lines listed; a line left out is not taken. Each backup belongs to exactly one line.';

/** Lines of binary backups: line name → slots kept. */
export const binaryLinesSchema = closedObject({
  daily: lineKeep('daily'),
  weekly: lineKeep('weekly'),
  monthly: lineKeep('monthly'),
  quarterly: lineKeep('quarterly'),
  yearly: lineKeep('yearly'),
})
  .default(() => defaultsFor(BINARY_LINES))
  .describe(LINES_DESCRIPTION);

/** Lines of logical backups: line name → slots kept. There is no daily logical line. */
export const logicalLinesSchema = closedObject({
  weekly: lineKeep('weekly'),
  monthly: lineKeep('monthly'),
  quarterly: lineKeep('quarterly'),
  yearly: lineKeep('yearly'),
})
  .default(() => defaultsFor(LOGICAL_LINES))
  .describe(`${LINES_DESCRIPTION} Logical backups have no daily line.`);

/**
 * CEL that holds when `self.lines` lists at least one of the given lines. CEL's `size()`
 * does not apply to an object with declared properties, so each line is tested by name.
 */
export function anyLineSet(lines: readonly LineName[]): string {
  return lines.map((line) => `has(self.lines.${line})`).join(' || ');
}
