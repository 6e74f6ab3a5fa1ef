import { describe, expect, it } from 'vitest';
import {
  formatIssues,
  parseBackupPolicy,
  runnerConfigMapNamesOf,
  runnerSecretNamesOf,
} from '../../../src/api/index.js';
import { loadFixture } from '../../fixtures/policies/load-fixtures.js';

const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

const minimal = loadFixture('test/fixtures/policies/minimal.yaml').doc as {
  spec: Record<string, unknown> & { storage: Record<string, unknown> };
};

/** The minimal policy with `edit` applied to a copy of its spec. */
function policyWith(edit: (spec: (typeof minimal)['spec']) => void) {
  const doc = structuredClone(minimal);
  edit(doc.spec);
  return parseBackupPolicy(doc);
}

const encryption = {
  recipients: [
    { publicKey: RECIPIENT },
    { secretKeyRef: { name: 'backup-keys', key: 'recipients' } },
    { configMapKeyRef: { name: 'public-keys', key: 'recipients' } },
    { configMapKeyRef: { name: 'public-keys', key: 'more' } },
  ],
  identity: { secretKeyRef: { name: 'backup-identity', key: 'key.txt' } },
};

describe('what the runner reads', () => {
  it('is the logins, the bucket keys and the recipients, never the identity', () => {
    const result = policyWith((spec) => {
      (spec.target as Record<string, unknown>).replicationCredentials = { secretName: 'repl' };
      (spec.storage.s3 as Record<string, unknown>).credentials = { secretName: 's3-creds' };
      spec.storage.encryption = encryption;
    });
    expect(result.issues).toBeUndefined();
    const spec = result.value?.spec;
    if (spec === undefined) throw new Error('not parsed');
    const credentials = spec.target.credentials.secretName;
    expect(runnerSecretNamesOf(spec)).toEqual([credentials, 'repl', 's3-creds', 'backup-keys']);
    expect(runnerSecretNamesOf(spec)).not.toContain('backup-identity');
    expect(runnerConfigMapNamesOf(spec)).toEqual(['public-keys']);
  });

  it('holds no ConfigMap without encryption', () => {
    const spec = parseBackupPolicy(minimal).value?.spec;
    if (spec === undefined) throw new Error('not parsed');
    expect(runnerConfigMapNamesOf(spec)).toEqual([]);
  });
});

describe('the rules on the identity', () => {
  it('accept an identity in a Secret of its own, with restore drills', () => {
    const result = policyWith((spec) => {
      spec.storage.encryption = encryption;
      spec.verify = { schedule: 'weekly' };
    });
    expect(result.issues).toBeUndefined();
  });

  it('accept encryption without an identity when no drill runs', () => {
    const result = policyWith((spec) => {
      spec.storage.encryption = { recipients: [{ publicKey: RECIPIENT }] };
    });
    expect(result.issues).toBeUndefined();
  });

  it('refuse an identity in the S3 credentials Secret, naming the field and the fix', () => {
    const result = policyWith((spec) => {
      (spec.storage.s3 as Record<string, unknown>).credentials = { secretName: 'shared' };
      spec.storage.encryption = {
        recipients: [{ publicKey: RECIPIENT }],
        identity: { secretKeyRef: { name: 'shared', key: 'key.txt' } },
      };
    });
    expect(formatIssues('BackupPolicy', 'minimal', result.issues ?? [])).toContain(
      'spec.storage.encryption.identity.secretKeyRef.name: Invalid value: names a Secret the backup runner also reads',
    );
    expect(result.issues?.[0]?.message).toMatch(/put the identity in a Secret of its own/);
  });

  it('refuse restore drills of encrypted backups without an identity, saying what to do', () => {
    const result = policyWith((spec) => {
      spec.storage.encryption = { recipients: [{ publicKey: RECIPIENT }] };
      spec.verify = { schedule: 'daily' };
    });
    expect(result.issues).toEqual([
      {
        path: 'spec.storage.encryption.identity',
        message: expect.stringMatching(
          /^Required value: is required while verify.schedule is not "never".*or set verify.schedule to "never"$/,
        ),
      },
    ]);
  });
});
