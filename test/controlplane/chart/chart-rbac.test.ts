/**
 * The controller's RBAC as the chart renders it with helm (hence the system tier): least
 * privilege, yet enough to grant every runner its Role.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBackupPolicy } from '../../../src/api/index.js';
import { runnerRoleRulesOf } from '../../../src/render/index.js';
import { renderChartObjects } from '../../harness/chart.js';
import { fixtureYaml } from '../../harness/fixtures.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

describe("the chart's controller RBAC", () => {
  let objects: Record<string, unknown>[] = [];
  let rules: Rule[] = [];
  beforeAll(async () => {
    objects = await renderChartObjects('controller-rbac.yaml', { name: 'rel', namespace: 'ops' });
    const clusterRole = objects.find((object) => object.kind === 'ClusterRole');
    rules = (clusterRole?.rules ?? []) as Rule[];
  }, 600_000);
  const allows = (group: string, resource: string, verb: string) =>
    rules.some(
      (rule) =>
        rule.apiGroups.includes(group) &&
        rule.resources.includes(resource) &&
        rule.verbs.includes(verb),
    );

  it('renders a ServiceAccount, a ClusterRole and a binding between them', () => {
    expect(objects.map((object) => object.kind)).toEqual([
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
    ]);
    expect(objects[2]).toMatchObject({
      roleRef: { kind: 'ClusterRole', name: 'rel-controller' },
      subjects: [{ kind: 'ServiceAccount', name: 'rel-controller', namespace: 'ops' }],
    });
  });

  it('grants no wildcard and cannot read Secrets or ConfigMaps in bulk', () => {
    expect(JSON.stringify(rules)).not.toContain('*');
    expect(allows('', 'secrets', 'list')).toBe(false);
    expect(allows('', 'secrets', 'watch')).toBe(false);
    expect(allows('', 'configmaps', 'list')).toBe(false);
    expect(allows('', 'configmaps', 'watch')).toBe(false);
    expect(allows('rbac.authorization.k8s.io', 'roles', 'escalate')).toBe(false);
    expect(allows('rbac.authorization.k8s.io', 'roles', 'bind')).toBe(false);
  });

  it.each(['render/every-field.yaml', 'render/continuous/policy.yaml', 'render/encrypted.yaml'])(
    'holds every permission it grants a runner of %s (RBAC refuses to grant more than one holds)',
    (fixture) => {
      const policy = parseBackupPolicy(fixtureYaml(fixture));
      if (!policy.ok) throw new Error('fixture must parse');
      const grants = (runnerRoleRulesOf(policy.value) as unknown as Rule[]).flatMap((rule) =>
        rule.apiGroups.flatMap((group) =>
          rule.resources.flatMap((resource) => rule.verbs.map((verb) => [group, resource, verb])),
        ),
      );
      const missing = grants.filter(
        ([group = '', resource = '', verb = '']) => !allows(group, resource, verb),
      );
      expect(missing).toEqual([]);
    },
  );

  it("may manage WAL receivers' Deployments and spool claims, and list their pods", () => {
    for (const verb of ['get', 'list', 'watch', 'create', 'patch', 'delete']) {
      expect(allows('apps', 'deployments', verb), verb).toBe(true);
      expect(allows('', 'persistentvolumeclaims', verb), verb).toBe(true);
    }
    expect(allows('', 'pods', 'list')).toBe(true);
  });
});
