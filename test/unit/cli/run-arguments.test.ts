import { describe, expect, it } from 'vitest';
import { parseBackupPolicy } from '../../../src/api/index.js';
import { parseRunArguments } from '../../../src/cli/run-arguments.js';
import { DEFAULT_RUN_SETTINGS, renderCronJobs } from '../../../src/render/index.js';
import { fixtureYaml } from '../../harness/fixtures.js';

/** The args of every container of the CronJobs a policy fixture wants, by CronJob name. */
function cronJobArgs(fixture: string): Map<string, string[]> {
  const parsed = parseBackupPolicy(fixtureYaml(fixture));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const cronJobs = renderCronJobs({
    policy: parsed.value,
    uid: 'u',
    settings: DEFAULT_RUN_SETTINGS,
  });
  return new Map(
    cronJobs.map((cronJob) => {
      const manifest = cronJob.manifest as unknown as {
        metadata: { name: string };
        spec: {
          jobTemplate: { spec: { template: { spec: { containers: { args: string[] }[] } } } };
        };
      };
      const [container] = manifest.spec.jobTemplate.spec.template.spec.containers;
      return [manifest.metadata.name, container?.args ?? []];
    }),
  );
}

describe('pgbackup run arguments', () => {
  it('accepts exactly what the logical CronJobs the controller renders call', () => {
    const logical = [...cronJobArgs('render/every-field.yaml')].filter(([name]) =>
      name.includes('-logical-'),
    );
    expect(logical.length).toBeGreaterThan(0);
    for (const [name, [command, ...argv]] of logical) {
      expect(command, name).toBe('run');
      const parsed = parseRunArguments(argv);
      expect(parsed, name).toMatchObject({ type: 'logical', source: { kind: 'cluster' } });
      expect(name).toContain(`-logical-${(parsed as { line: string }).line}`);
    }
  });

  it('takes a logical on-demand backup by name', () => {
    expect(
      parseRunArguments(['--policy', 'db/shop', '--type', 'logical', '--backup', 'by-hand']),
    ).toMatchObject({ type: 'logical', line: undefined, backup: 'by-hand' });
  });

  it('refuses a daily logical line, naming the lines logical backups have', () => {
    expect(() =>
      parseRunArguments(['-f', 'p.yaml', '--type', 'logical', '--line', 'daily']),
    ).toThrow(
      '--line of a logical backup must be one of weekly, monthly, quarterly, yearly, not "daily"',
    );
  });

  it('refuses an unknown type, naming both', () => {
    expect(() => parseRunArguments(['-f', 'p.yaml', '--type', 'sql', '--line', 'weekly'])).toThrow(
      '--type "sql" is not supported; use binary or logical',
    );
  });
});
