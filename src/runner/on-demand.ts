/**
 * How a manifest records an on-demand backup, which belongs to no line and fills no slot: line
 * `''`, period and slot 0, label `on-demand`. Backups already in buckets are written so; inside
 * the runner an on-demand run is simply one whose line is undefined.
 */
import type { BackupManifest } from '../storage/index.js';

/** The placement fields of an on-demand backup's manifest. */
export const ON_DEMAND_MANIFEST = {
  line: '',
  period: 0,
  slot: 0,
  slotLabel: 'on-demand',
} as const satisfies Pick<BackupManifest, 'line' | 'period' | 'slot' | 'slotLabel'>;

/** Whether the manifest's backup was taken on demand (it belongs to no line and no slot). */
export function isOnDemand(manifest: Pick<BackupManifest, 'line'>): boolean {
  return manifest.line === ON_DEMAND_MANIFEST.line;
}
