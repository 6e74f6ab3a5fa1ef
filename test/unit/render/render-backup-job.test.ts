import { describe, expect, it } from 'vitest';
import { parseBackup, parseBackupPolicy } from '../../../src/api/index.js';
import { DEFAULT_RUN_SETTINGS, renderBackupJob } from '../../../src/render/index.js';
import { fixtureYaml } from '../../harness/fixtures.js';

describe('renderBackupJob', () => {
  const policy = parseBackupPolicy(fixtureYaml('render/minimal.yaml'));
  const backup = parseBackup(fixtureYaml<unknown[]>('render/backups.yaml')[4]);
  if (!policy.ok || !backup.ok) throw new Error('fixtures must parse');
  const job = renderBackupJob({
    backup: backup.value,
    backupUid: 'backup-uid',
    policy: policy.value,
    settings: DEFAULT_RUN_SETTINGS,
  });

  it("runs the policy's runner once for the Backup, which owns the Job", () => {
    expect(job.metadata.name).toBe('minimal-now-run');
    expect(job.metadata.ownerReferences[0]).toMatchObject({
      kind: 'Backup',
      name: 'minimal-now',
      uid: 'backup-uid',
    });
    const spec = job.spec as { template: { spec: { containers: { args: string[] }[] } } };
    expect(spec.template.spec.containers[0]?.args).toEqual([
      'run',
      '--policy',
      'db/minimal',
      '--type',
      'logical',
      '--backup',
      'minimal-now',
    ]);
  });
});
