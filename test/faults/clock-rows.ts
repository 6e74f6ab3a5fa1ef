/**
 * Time faults in file mode: runners whose clocks differ by minutes (their trigger times
 * `--at`, and their own clocks through skewed-clock.mjs, since the manifest's commit time comes
 * from the runner), and Dec 31 on a Sunday, when every binary line fires at once and the first
 * run is slow.
 */
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import type { RunOutcome, StartedRun } from '../harness/pgbackup-run.js';
import { hostOf } from '../integration/logical/scratch-pair.js';
import { type CatalogState, expectNothingLost, readCatalog } from './fault-catalog.js';
import { type FaultPolicy, startFaultRun, writeFaultPolicy } from './fault-policy.js';
import {
  exitOf,
  type FaultWorld,
  recordFileRow,
  SCRATCH_RUN_ENV,
  slowS3Proxy,
  waitForUpload,
} from './fault-world.js';

const SKEWED_CLOCK = fileURLToPath(new URL('./skewed-clock.mjs', import.meta.url));
const TEN_MINUTES_MS = 10 * 60_000;

/** A run's environment with its clock `skewMs` off. */
function skewed(skewMs: number): Record<string, string | undefined> {
  return {
    ...SCRATCH_RUN_ENV,
    NODE_OPTIONS: `--import=${SKEWED_CLOCK}`,
    PGBACKUP_TEST_CLOCK_SKEW_MS: String(skewMs),
  };
}

async function expectCommitted(run: StartedRun, what: string): Promise<RunOutcome> {
  const outcome = await run.outcome;
  expect(outcome.code, `${what}: ${outcome.stderr}`).toBe(0);
  return outcome;
}

/** The committed key a run printed (`committed KEY (…)`). */
function committedKeyOf(outcome: RunOutcome): string | undefined {
  return /^committed (\S+)/m.exec(outcome.stdout)?.[1];
}

/** A fresh policy (no seed) on the scratch primary; `daily` keeps `keep` slots. */
function freshPolicy(world: FaultWorld, keep = 7): Promise<FaultPolicy> {
  return writeFaultPolicy({
    hosts: [hostOf(world.pair.primary)],
    bucket: world.bucket,
    endpoint: world.minioEndpoint,
    edit: (document) => {
      document.spec.binary.lines = { daily: keep, weekly: 4, monthly: 3, quarterly: 4, yearly: 2 };
    },
  });
}

function added(before: CatalogState, after: CatalogState): string[] {
  return after.committed.filter((key) => !before.committed.includes(key));
}

/** Registers the clock rows; `world` is read when they run. */
export function registerClockRows(world: () => FaultWorld): void {
  it('two runners 10 minutes apart take the same period once: one commits, one skips', async () => {
    const policy = await freshPolicy(world());
    const before = await readCatalog(policy.bucket, policy.prefix);
    const fast = startFaultRun(
      policy,
      { line: 'daily', at: '2026-03-02T01:40:00Z' },
      skewed(TEN_MINUTES_MS),
    );
    const onTime = startFaultRun(
      policy,
      { line: 'daily', at: '2026-03-02T01:30:00Z' },
      SCRATCH_RUN_ENV,
    );
    const [fastOutcome, onTimeOutcome] = await Promise.all([fast.outcome, onTime.outcome]);
    const after = await readCatalog(policy.bucket, policy.prefix);
    const outcomes = [fastOutcome, onTimeOutcome];
    const skippedOne = outcomes.find((outcome) => outcome.stdout.startsWith('skipped'));
    recordFileRow({
      fault: 'two runners, clocks 10 min apart, one period',
      run: `one committed, the other: ${skippedOne === undefined ? 'did not skip' : 'skipped (period taken)'}`,
      before,
      after,
      outcome: skippedOne ?? onTimeOutcome,
    });
    expect(outcomes.map(exitOf)).toEqual(['0', '0']);
    expect(outcomes.filter(committedKeyOf)).toHaveLength(1);
    expect(skippedOne?.stdout).toMatch(/already|taken|committed/i);
    expect(added(before, after)).toHaveLength(1);
    expectNothingLost(before, after);
  });

  it('a runner 10 minutes slow commits the newest period: the slot it replaces is pruned, not it', async () => {
    // Two daily slots: 03-02 and 03-04 share one. The 03-02 run's clock is 10 minutes fast,
    // the 03-04 run's 10 minutes slow, so by commit times the older backup looks newer.
    const policy = await freshPolicy(world(), 2);
    await expectCommitted(
      startFaultRun(policy, { line: 'daily', at: '2026-03-02T01:30:00Z' }, skewed(TEN_MINUTES_MS)),
      'the fast runner',
    );
    await expectCommitted(
      startFaultRun(policy, { line: 'daily', at: '2026-03-03T01:30:00Z' }, SCRATCH_RUN_ENV),
      'the on-time runner',
    );
    const before = await readCatalog(policy.bucket, policy.prefix);
    const slow = startFaultRun(
      policy,
      { line: 'daily', at: '2026-03-04T01:30:00Z' },
      skewed(-TEN_MINUTES_MS),
    );
    const outcome = await slow.outcome;
    const after = await readCatalog(policy.bucket, policy.prefix);
    const newest = committedKeyOf(outcome);
    const older = before.committed.find((key) => key.includes('/20260302T'));
    recordFileRow({
      fault: 'runner clocks 10 min apart, rotation',
      run: `committed 03-04; ${older !== undefined && after.committed.includes(older) ? '03-02 kept beside it (slot doubled)' : '03-02 pruned'}`,
      before,
      after,
      outcome,
    });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(newest).toBeDefined();
    expect(after.committed).toContain(newest);
    expectNothingLost(before, after, older === undefined ? [] : [older]);
    // One occupant per slot: the 03-02 backup, the slot's previous occupant, is gone.
    expect(after.committed).toHaveLength(2);
  });

  it('Dec 31 on a Sunday, every line, the first run slow: five backups, one per line', async () => {
    const policy = await freshPolicy(world());
    const slowProxy = await slowS3Proxy(world(), 4_096);
    const slowPolicy = await writeFaultPolicy({
      hosts: [hostOf(world().pair.primary)],
      bucket: policy.bucket,
      endpoint: `http://${slowProxy.listen}`,
      prefix: policy.prefix,
    });
    const at = '2028-12-31T01:00:30Z';
    const before = await readCatalog(policy.bucket, policy.prefix);
    const daily = startFaultRun(slowPolicy, { line: 'daily', at }, SCRATCH_RUN_ENV);
    await waitForUpload(policy, daily);
    const others = ['weekly', 'monthly', 'quarterly', 'yearly'].map((line) => ({
      line,
      run: startFaultRun(policy, { line, at }, SCRATCH_RUN_ENV),
    }));
    const dailyOutcome = await daily.outcome;
    const outcomes = [
      { line: 'daily', outcome: dailyOutcome },
      ...(await Promise.all(
        others.map(async ({ line, run }) => ({ line, outcome: await run.outcome })),
      )),
    ];
    const after = await readCatalog(policy.bucket, policy.prefix);
    const lines = added(before, after).map((key) => key.split('/').at(-4));
    recordFileRow({
      fault: 'Dec 31 (Sunday), 5 lines, first run slow',
      run: `${outcomes.filter(({ outcome }) => committedKeyOf(outcome) !== undefined).length} of 5 committed`,
      before,
      after,
      outcome: outcomes.find(({ outcome }) => outcome.code !== 0)?.outcome ?? dailyOutcome,
    });
    for (const { line, outcome } of outcomes) {
      expect(outcome.code, `${line}: ${outcome.stderr}`).toBe(0);
      expect(outcome.stdout, line).toMatch(new RegExp(`^committed \\S+ \\(${line} slot`));
    }
    expect(lines.sort()).toEqual(['daily', 'monthly', 'quarterly', 'weekly', 'yearly']);
    expectNothingLost(before, after);
  });
}
