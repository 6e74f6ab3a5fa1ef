import { describe, expect, it } from 'vitest';
import { parseBackupPolicy } from '../../../src/api/index.js';
import { policyOwnerOf, renderRunnerRbac } from '../../../src/render/index.js';
import { fixtureYaml } from '../../harness/fixtures.js';

function everyField() {
  const result = parseBackupPolicy(fixtureYaml('render/every-field.yaml'));
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value;
}

describe('renderRunnerRbac', () => {
  const policy = everyField();
  const [account, role, binding] = renderRunnerRbac(policy, policyOwnerOf(policy, 'uid-1'));

  it('gives the runner its own ServiceAccount, bound to its own Role', () => {
    expect(account).toMatchObject({ kind: 'ServiceAccount', metadata: { name: 'orders-runner' } });
    expect(binding).toMatchObject({
      kind: 'RoleBinding',
      roleRef: { kind: 'Role', name: 'orders-runner' },
      subjects: [{ kind: 'ServiceAccount', name: 'orders-runner', namespace: 'shop' }],
    });
    for (const object of [account, role, binding]) {
      expect(object?.metadata.ownerReferences[0]).toMatchObject({
        kind: 'BackupPolicy',
        uid: 'uid-1',
      });
    }
  });

  it('grants its policy and only the Secrets the policy names', () => {
    expect(role?.rules).toContainEqual({
      apiGroups: ['pgbackup.dev'],
      resources: ['backuppolicies'],
      resourceNames: ['orders'],
      verbs: ['get'],
    });
    expect(role?.rules).toContainEqual({
      apiGroups: [''],
      resources: ['secrets'],
      resourceNames: ['orders-backup', 'orders-repl', 's3-creds'],
      verbs: ['get'],
    });
  });

  it('lets the runner read its own pod and Job (its trigger time), never change them', () => {
    expect(role?.rules).toContainEqual({
      apiGroups: [''],
      resources: ['pods'],
      verbs: ['get', 'list'],
    });
    expect(role?.rules).toContainEqual({
      apiGroups: ['batch'],
      resources: ['jobs'],
      verbs: ['get'],
    });
  });

  it('lets the runner queue on Leases: the lock, and the tickets it lists and deletes', () => {
    expect(role?.rules).toContainEqual({
      apiGroups: ['coordination.k8s.io'],
      resources: ['leases'],
      verbs: ['get', 'list', 'create', 'update', 'patch', 'delete'],
    });
  });

  it('grants nothing cluster-wide and no wildcard', () => {
    expect(JSON.stringify(role?.rules)).not.toContain('*');
    expect(role?.kind).toBe('Role');
  });
});
