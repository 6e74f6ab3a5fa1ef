/**
 * The fault matrix's one table (issue 14): for every fault, what the run did, the committed
 * backups before and after, anything partial visible as a backup, the exit code, the Backup's
 * phase and message, and the alert. Rows are collected as the matrix runs and printed once
 * at the end, and written to a file for the docs and the note.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One row of the table. */
export interface FaultRow {
  readonly fault: string;
  /** What the run did, in a few words (`retried, committed`, `failed before commit`). */
  readonly run: string;
  readonly committedBefore: number;
  readonly committedAfter: number;
  /** Committed backups with a missing or short object: must be 0. */
  readonly partialListed: number;
  /** The exit code, or the signal that ended the run. */
  readonly exit: string;
  /** The Backup's phase in a cluster; `-` in file mode (no Backup object). */
  readonly phase: string;
  /** The message a person sees: the Backup's status message, else the CLI's last line. */
  readonly message: string;
  /** What the chart's alerts say (PgBackupLastRunFailed from the Backups), `-` in file mode. */
  readonly alert: string;
}

const rows: FaultRow[] = [];

/** Adds a row (rows keep the order the matrix ran them in). */
export function recordRow(row: FaultRow): void {
  rows.push(row);
}

const HEADERS = ['fault', 'run', 'before', 'after', 'partial', 'exit', 'phase', 'alert', 'message'];

function cellsOf(row: FaultRow): string[] {
  return [
    row.fault,
    row.run,
    String(row.committedBefore),
    String(row.committedAfter),
    String(row.partialListed),
    row.exit,
    row.phase,
    row.alert,
    row.message,
  ];
}

/** The table as Markdown (the docs and the note take it as is). */
export function renderFaultTable(table: readonly FaultRow[] = rows): string {
  const cellText = (cell: string) => cell.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const lines = [
    `| ${HEADERS.join(' | ')} |`,
    `| ${HEADERS.map(() => '---').join(' | ')} |`,
    ...table.map((row) => `| ${cellsOf(row).map(cellText).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Prints the table to stderr (vitest shows it under the run) and writes it to
 * `$PGBACKUP_FAULT_TABLE` (default: fault-matrix.md in the temporary directory).
 */
export function printFaultTable(): void {
  if (rows.length === 0) return;
  const table = renderFaultTable();
  const file = process.env.PGBACKUP_FAULT_TABLE ?? join(tmpdir(), 'fault-matrix.md');
  writeFileSync(file, table);
  process.stderr.write(`\nfault matrix (${file}):\n${table}`);
}

/** The last line a person reads of a run's output: the error, or what it committed. */
export function lastLineOf(text: string): string {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('{'));
  const last = lines.at(-1) ?? '';
  return last.length > 160 ? `${last.slice(0, 157)}...` : last;
}
