/**
 * Outside a cluster (`-f POLICY.yaml`) a run cannot read a Secret or ConfigMap: a recipient
 * named by reference is refused before anything is connected to or written, naming the field
 * and the fix.
 */
import { describe, expect, it } from 'vitest';
import { runPgbackup } from '../../harness/pgbackup-run.js';
import { listKeys, runArgs, writeTestPolicy } from '../binary/policy-file.js';

describe('an encrypting policy file whose recipient is a ConfigMap key', () => {
  it('is refused naming the field and the fix, and writes nothing', async () => {
    const policy = await writeTestPolicy('daily.yaml', (document) => {
      (document.spec.storage as Record<string, unknown>).encryption = {
        recipients: [
          { publicKey: 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p' },
          { configMapKeyRef: { name: 'backup-keys', key: 'recipients' } },
        ],
      };
    });

    const run = await runPgbackup(runArgs(policy, 'daily', '2026-03-02T02:00:00Z'));

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'spec.storage.encryption.recipients[1].configMapKeyRef names ConfigMap "backup-keys", which a run outside a cluster (-f) cannot read: write the public key inline as spec.storage.encryption.recipients[1].publicKey',
    );
    expect(await listKeys(`${policy.prefix}/`)).toEqual([]);
  });
});
