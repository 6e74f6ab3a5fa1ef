import { describe, expectTypeOf, it } from 'vitest';
import type { ClusterRunSubject } from '../../../src/runner/run-in-cluster.js';

// Checked by the typecheck (`tsc`, part of `npm test`): a run with neither a line nor an
// on-demand Backup does not compile, so runInCluster never has to make up a line for it (it
// used to record such a run, an on-demand backup, in a new Backup of the daily line).
describe('the backup a cluster run takes', () => {
  it("is a line's or an on-demand Backup's, never neither", () => {
    expectTypeOf<{ line: 'daily' }>().toExtend<ClusterRunSubject>();
    expectTypeOf<{ backup: string }>().toExtend<ClusterRunSubject>();
    expectTypeOf<{ line: undefined; backup: undefined }>().not.toExtend<ClusterRunSubject>();
    expectTypeOf<{ line: 'weekly'; backup: string }>().not.toExtend<ClusterRunSubject>();
  });
});
