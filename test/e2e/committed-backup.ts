/**
 * What "committed" means in the bucket (DESIGN §3), as the e2e tests check it: the Backup is
 * Completed, its manifest is stored with the SHA-256 the Backup records, and every object the
 * manifest lists is there with the size and SHA-256 it says.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import type { KubeObject } from '../../src/kube/index.js';
import { testBucket, testS3Client } from '../harness/s3.js';
import { listKeys, readObjectText } from '../integration/binary/policy-file.js';

/** The parts of a Backup the e2e tests read. */
export interface BackupObject extends KubeObject {
  spec: { type: string; line?: string };
  status?: {
    phase?: string;
    slot?: number;
    artifact?: { bucket: string; key: string };
    sizeBytes?: number;
    checksum?: string;
    message?: string;
  };
}

/** The SHA-256 and size of a stored object, read whole from the bucket. */
export async function sha256OfObject(key: string): Promise<{ sha256: string; sizeBytes: number }> {
  const object = await testS3Client().send(
    new GetObjectCommand({ Bucket: testBucket(), Key: key }),
  );
  const hash = createHash('sha256');
  let sizeBytes = 0;
  for await (const chunk of object.Body as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    sizeBytes += chunk.byteLength;
  }
  return { sha256: hash.digest('hex'), sizeBytes };
}

/**
 * The Backup is Completed under `policyKeyPrefix` (`<prefix>/<namespace>/<policy>/`), and the
 * bucket holds it committed.
 */
export async function expectCommitted(
  backup: BackupObject,
  policyKeyPrefix: string,
): Promise<void> {
  expect(backup.status, JSON.stringify(backup.status)).toMatchObject({
    phase: 'Completed',
    artifact: { bucket: testBucket() },
    checksum: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
  });
  const key = backup.status?.artifact?.key ?? '';
  const { type, line } = backup.spec;
  expect(key.startsWith(`${policyKeyPrefix}${type}/${line}/`)).toBe(true);
  const manifestKey = `${key}manifest.json`;
  expect(await listKeys(key)).toContain(manifestKey);
  const manifestText = await readObjectText(manifestKey);
  expect(`sha256:${createHash('sha256').update(manifestText).digest('hex')}`).toBe(
    backup.status?.checksum,
  );
  const manifest = JSON.parse(manifestText) as {
    objects: { name: string; sizeBytes: number; sha256: string }[];
  };
  for (const object of manifest.objects) {
    expect(await sha256OfObject(`${key}${object.name}`)).toEqual({
      sha256: object.sha256,
      sizeBytes: object.sizeBytes,
    });
  }
}
