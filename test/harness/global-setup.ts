/**
 * Vitest global setup of the system tiers: reuses an environment already started (with
 * `npm run env:up`, or by another test run in another shell), or starts one. Each run
 * registers itself as a user of the environment; at the end it unregisters, and the last run
 * out stops an environment a test run started (never one started by hand, never while another
 * run uses it; PGBACKUP_KEEP_ENV=true keeps it). The environment's variables are exported into
 * process.env, which the test workers inherit.
 */
import { leaveEnvironment, useEnvironment } from './env/environment.js';
import { ensureTestTools } from './env/tools.js';

export default async function setup(): Promise<() => Promise<void>> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const log = (message: string) => process.stderr.write(`env: ${message}\n`);
  const mayStop = process.env.PGBACKUP_KEEP_ENV !== 'true';
  // Built once here, not by each test file that first uses them.
  const [variables] = await Promise.all([useEnvironment(log, mayStop), ensureTestTools(log)]);
  Object.assign(process.env, variables);
  return leaveEnvironment;
}
