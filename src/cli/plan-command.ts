/**
 * `pgbackup plan`: previews a BackupPolicy's retention plan over a range of dates, before a
 * single backup runs. Reads one file; everything else is the retention engine.
 */
import { retentionPlanOf, simulatePlan } from '../retention/index.js';
import type { Command } from './command.js';
import { PLAN_USAGE, parsePlanArguments } from './plan-arguments.js';
import { renderPlanJson } from './plan-json.js';
import { readPolicyFile } from './plan-policy-file.js';
import { renderPlanText } from './plan-text.js';

/**
 * Runs `pgbackup plan -f POLICY.yaml --from YYYY-MM-DD --to YYYY-MM-DD [--output json]`.
 * Wrong arguments and invalid policies throw `UsageError` (exit status 2).
 */
export const runPlanCommand: Command = async (argv, io) => {
  const options = parsePlanArguments(argv);
  if (options === 'help') {
    io.stdout.write(PLAN_USAGE);
    return 0;
  }
  const policy = await readPolicyFile(options.file);
  const plan = retentionPlanOf(policy.spec);
  const { from, to } = options;
  const simulation = simulatePlan({ plan, from, to });
  io.stdout.write(
    options.output === 'json'
      ? renderPlanJson(simulation)
      : renderPlanText({ policy, plan, simulation, from, to }),
  );
  return 0;
};
