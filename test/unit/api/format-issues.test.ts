import { describe, expect, it } from 'vitest';
import { formatIssues, parseBackupPolicy } from '../../../src/api/index.js';
import { loadFixture } from '../../fixtures/policies/load-fixtures.js';

function messagesFor(file: string): string {
  const result = parseBackupPolicy(loadFixture(`test/fixtures/policies/invalid/${file}`).doc);
  return formatIssues('BackupPolicy', 'orders', result.issues ?? []);
}

describe('formatIssues', () => {
  it('writes one line per issue: resource, field, what is wrong', () => {
    const text = formatIssues('BackupPolicy', 'orders', [
      { path: 'spec.a', message: 'Required value' },
      { path: 'spec.b', message: 'Invalid value: 0: must be from 1 to 100' },
    ]);
    expect(text).toBe(
      'BackupPolicy "orders": spec.a: Required value\n' +
        'BackupPolicy "orders": spec.b: Invalid value: 0: must be from 1 to 100',
    );
  });

  it('names only the kind when the manifest has no name, and omits an empty path', () => {
    const result = parseBackupPolicy('not a manifest');
    expect(formatIssues('BackupPolicy', undefined, result.issues ?? [])).toBe(
      'BackupPolicy: Invalid value: "not a manifest": must be an object',
    );
  });

  it.each([
    [
      'keep-zero.yaml',
      'BackupPolicy "orders": spec.binary.lines.daily: Invalid value: 0: must be from 1 to 100 (the number of slots kept)',
    ],
    [
      'unknown-binary-line.yaml',
      'BackupPolicy "orders": spec.binary.lines.hourly: Unknown field: allowed fields are daily, weekly, monthly, quarterly, yearly',
    ],
    [
      'compression-brotli.yaml',
      'BackupPolicy "orders": spec.binary.compression: Unsupported value: "brotli": supported values: "zstd", "gzip", "lz4", "none"',
    ],
    [
      'target-two-kinds.yaml',
      'BackupPolicy "orders": spec.target: Invalid value: exactly one of selector, preset or hosts must be set',
    ],
    [
      'storage-missing.yaml',
      'BackupPolicy "orders": spec.storage: Required value: storage.s3 is required while binary or logical backups are enabled',
    ],
    ['credentials-missing.yaml', 'BackupPolicy "orders": spec.target.credentials: Required value'],
    [
      'time-of-day-25.yaml',
      'BackupPolicy "orders": spec.schedule.time: Invalid value: "25:00": must be a 24-hour time of day HH:MM, such as "01:30"',
    ],
    [
      'lateness-number.yaml',
      'BackupPolicy "orders": spec.schedule.lateness: Invalid value: 6: must be a string',
    ],
    [
      'hosts-duplicate.yaml',
      'BackupPolicy "orders": spec.target.hosts[1]: Duplicate value: "db1.example.com"',
    ],
    [
      'kms-key-without-kms.yaml',
      'BackupPolicy "orders": spec.storage.s3.serverSideEncryption.kmsKeyId: Forbidden: kmsKeyId is only allowed with algorithm aws:kms',
    ],
    [
      'timezone-unknown.yaml',
      'BackupPolicy "orders": spec.timeZone: Invalid value: "Mars/Olympus_Mons": not a known IANA time zone; use a name such as "UTC" or "Europe/Berlin"',
    ],
  ])("explains %s in the API server's terms", (file, expected) => {
    expect(messagesFor(file)).toBe(expected);
  });

  it('brackets map keys that are not plain names, as the API server does', () => {
    const doc = loadFixture('test/fixtures/policies/minimal.yaml').doc as {
      spec: Record<string, unknown>;
    };
    const result = parseBackupPolicy({
      ...doc,
      spec: { ...doc.spec, jobTemplate: { nodeSelector: { 'kubernetes.io/os': 3 } } },
    });
    expect(result.issues?.map((issue) => issue.path)).toEqual([
      'spec.jobTemplate.nodeSelector[kubernetes.io/os]',
    ]);
  });
});
