/**
 * Vitest global setup of the system tiers: reuses an environment already started with
 * `npm run env:up`, or starts one and stops it after the run. The environment's variables
 * are exported into process.env, which the test workers inherit.
 */
import { downEnvironment, environmentIsRunning, upEnvironment } from './env/environment.js';
import { ensureTestTools } from './env/tools.js';

export default async function setup(): Promise<() => Promise<void>> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const alreadyRunning = environmentIsRunning();
  const log = (message: string) => process.stderr.write(`env: ${message}\n`);
  // Built once here, not by each test file that first uses them.
  const [variables] = await Promise.all([upEnvironment(log), ensureTestTools(log)]);
  Object.assign(process.env, variables);
  return async () => {
    if (!alreadyRunning && process.env.PGBACKUP_KEEP_ENV !== 'true') await downEnvironment();
  };
}
