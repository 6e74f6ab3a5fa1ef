/**
 * Where the receiver reports `status.continuous`: the BackupPolicy's status subresource in a
 * cluster (server-side apply under its own field manager, so the controller's status writes
 * and the receiver's never clobber each other), a JSON file outside one.
 */
import { rename, writeFile } from 'node:fs/promises';
import { API_VERSION, BACKUP_POLICY_KIND, type ContinuousStatus } from '../api/index.js';
import type { KubeClient } from '../kube/kube-client.js';
import { RESOURCES, resourcePath } from '../kube/resource.js';

/** The field manager of the receiver's status writes; the controller never sends `continuous`. */
export const WAL_RECEIVER_FIELD_MANAGER = 'pgbackup-wal-receiver';

/** Takes each status the receiver reports. */
export interface StatusSink {
  write(status: ContinuousStatus): Promise<void>;
}

/** Writes the status to `path` as JSON, atomically (a temporary file renamed over it). */
export function fileStatusSink(path: string): StatusSink {
  return {
    async write(status) {
      const temporary = `${path}.tmp-${process.pid}`;
      await writeFile(temporary, `${JSON.stringify(status, null, 2)}\n`);
      await rename(temporary, path);
    },
  };
}

/** Applies `status.continuous` of the policy through its status subresource. */
export function policyStatusSink(
  client: KubeClient,
  policy: { readonly namespace: string; readonly name: string },
): StatusSink {
  return {
    async write(status) {
      await client.request({
        verb: 'patch',
        path: resourcePath(RESOURCES.backupPolicy, { ...policy, subresource: 'status' }),
        query: { fieldManager: WAL_RECEIVER_FIELD_MANAGER, force: 'true' },
        body: {
          apiVersion: API_VERSION,
          kind: BACKUP_POLICY_KIND,
          metadata: { name: policy.name, namespace: policy.namespace },
          status: { continuous: status },
        },
        contentType: 'application/apply-patch+yaml',
        what: `apply status.continuous of BackupPolicy ${policy.namespace}/${policy.name}`,
        deadlineMs: 10_000,
      });
    },
  };
}
