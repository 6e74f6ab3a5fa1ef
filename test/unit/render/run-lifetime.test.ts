import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RUN_SETTINGS } from '../../../src/render/index.js';
import {
  DEFAULT_RUN_DEADLINE_SECONDS,
  deadRunCutoffMs,
  longestRunLifetimeMs,
} from '../../../src/render/run-lifetime.js';

describe('the longest a run can live', () => {
  it('outlasts the deadline a Job is given, so the cutoff never reaches a live run', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 * 24 * 3600 }), (runDeadlineSeconds) => {
        expect(longestRunLifetimeMs(runDeadlineSeconds)).toBeGreaterThan(runDeadlineSeconds * 1000);
        expect(deadRunCutoffMs(1_000_000_000_000, runDeadlineSeconds)).toBe(
          1_000_000_000_000 - longestRunLifetimeMs(runDeadlineSeconds),
        );
      }),
    );
  });

  it('is the default the controller renders Jobs with', () => {
    expect(DEFAULT_RUN_SETTINGS.runDeadlineSeconds).toBe(DEFAULT_RUN_DEADLINE_SECONDS);
  });
});
