/**
 * The on-demand binary Backup that closes a gap in a policy's WAL: instants inside the gap
 * cannot be restored, and nor can any after it until a binary backup that starts after the
 * gap is committed. Taking one at once makes the policy recoverable again without waiting for
 * the night's run. Its name is a function of the policy and the gap, so a retried reconcile
 * or a restarted controller never takes two for one gap.
 */
import { API_VERSION, BACKUP_KIND, type ContinuousStatus } from '../api/index.js';
import { LABELS, policyLabels } from './labels.js';
import { boundedName, LABEL_VALUE_MAX, shortHashOf } from './object-name.js';

/** The gap a receiver reports. */
export type WalGap = NonNullable<ContinuousStatus['gap']>;

/** The annotation that says why the controller took a Backup. */
export const GAP_BACKUP_ANNOTATION = 'pgbackup.dev/wal-gap';

/**
 * `<policy>-gap-<hash of the gap's timeline and first missing LSN>`, cut to 63 characters (the
 * Backup's Job is named after it). The end of a gap may move while the receiver finds it; its
 * start does not, so it is what names the Backup.
 */
export function gapBackupNameOf(policyName: string, gap: WalGap): string {
  const digest = shortHashOf(`${gap.timeline}/${gap.fromLsn}`);
  // The head is cut, never the digest, so two gaps of one long-named policy stay apart.
  const suffix = `-gap-${digest}`;
  const head = boundedName(policyName, LABEL_VALUE_MAX - '-run'.length - suffix.length);
  return `${head}${suffix}`;
}

/** The Backup that closes the gap: binary, on demand (no line), labelled with its policy. */
export function renderGapBackup(
  policy: { readonly name: string; readonly namespace: string },
  gap: WalGap,
): {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  spec: { policy: string; type: 'binary' };
} {
  return {
    apiVersion: API_VERSION,
    kind: BACKUP_KIND,
    metadata: {
      name: gapBackupNameOf(policy.name, gap),
      namespace: policy.namespace,
      labels: {
        [LABELS.policy]: policyLabels(policy.name)[LABELS.policy] ?? '',
        [LABELS.type]: 'binary',
      },
      annotations: {
        [GAP_BACKUP_ANNOTATION]: `timeline ${gap.timeline} from ${gap.fromLsn} to ${gap.toLsn}`,
      },
    },
    // No owner reference: like every on-demand Backup it outlives its policy (DESIGN.md §1).
    spec: { policy: policy.name, type: 'binary' },
  };
}
