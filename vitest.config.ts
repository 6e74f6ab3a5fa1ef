import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` needs nothing but Node; `system` (integration, control plane and
 * end-to-end tiers) gets the real servers from the harness's global setup, which reuses an
 * environment started with `npm run env:up` or by another test run, or starts one (stopped by
 * the last test run using it).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'system',
          include: [
            'test/integration/**/*.test.ts',
            'test/controlplane/**/*.test.ts',
            'test/e2e/**/*.test.ts',
            'test/faults/**/*.test.ts',
          ],
          globalSetup: ['test/harness/global-setup.ts'],
          pool: 'forks',
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
