/**
 * promtool (built from test/tools/promtool): checks alerting rules and runs their unit
 * tests (`promtool test rules`), which evaluate the rules over series the test writes, as
 * Prometheus would, so an alert's firing and clearing are tested without a Prometheus.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ensureToolModule } from './env/tools.js';

/** What promtool printed and how it exited. */
export interface PromtoolResult {
  readonly code: number;
  readonly output: string;
}

/**
 * Writes a rule file (Prometheus's `groups:` format, as in a PrometheusRule's spec) and
 * runs `promtool <command>` on it: `check rules` with no tests, `test rules` with them
 * (a `tests:` list of promtool's unit-test format; the rule file is named for them).
 */
export async function runPromtool(
  rules: unknown,
  tests?: readonly unknown[],
): Promise<PromtoolResult> {
  const promtool = join(await ensureToolModule('promtool'), 'promtool');
  const scratch = mkdtempSync(join(tmpdir(), 'pgbackup-promtool-'));
  try {
    writeFileSync(join(scratch, 'rules.yaml'), stringify(rules));
    let args = ['check', 'rules', 'rules.yaml'];
    if (tests !== undefined) {
      const file = { rule_files: ['rules.yaml'], evaluation_interval: '1m', tests };
      writeFileSync(join(scratch, 'tests.yaml'), stringify(file));
      args = ['test', 'rules', 'tests.yaml'];
    }
    return await new Promise((resolve) => {
      execFile(promtool, args, { cwd: scratch }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, output: `${stdout}${stderr}` });
      });
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
