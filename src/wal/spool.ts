/**
 * The receiver's spool: a directory (a PersistentVolumeClaim in a cluster) holding `wal/`,
 * where pg_receivewal writes. WAL leaves it only once the bucket holds it. The uploader's
 * compressed copies go elsewhere (the system's temporary directory, an emptyDir in a
 * cluster): a full spool must still drain, which a copy on the spool itself would prevent.
 */
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWalFileName } from '../retention/wal-names.js';

/** The spool's directories. */
export interface SpoolLayout {
  readonly root: string;
  /** pg_receivewal's `--directory`. */
  readonly walDir: string;
  /** The uploader's compressed copies, each removed once stored; the directory on stop. */
  readonly tmpDir: string;
}

/** Creates `<root>/wal` and a temporary directory of this process for the uploader. */
export async function prepareSpool(root: string): Promise<SpoolLayout> {
  const walDir = join(root, 'wal');
  await mkdir(walDir, { recursive: true });
  const tmpDir = await mkdtemp(join(tmpdir(), 'pgbackup-wal-upload-'));
  return { root, walDir, tmpDir };
}

/** One WAL file on the spool. */
export type SpoolFile =
  | {
      readonly kind: 'segment' | 'partial';
      /** The file name, e.g. `000000010000000000000003.partial`. */
      readonly name: string;
      /** The 24-hex name. */
      readonly segmentName: string;
      readonly timeline: number;
      readonly segment: bigint;
      readonly sizeBytes: number;
    }
  | {
      readonly kind: 'history';
      readonly name: string;
      readonly timeline: number;
      readonly sizeBytes: number;
    };

/** Orders files as WAL runs: by segment, then timeline; history files first. */
export function compareSpoolFiles(a: SpoolFile, b: SpoolFile): number {
  if (a.kind === 'history' || b.kind === 'history') {
    if (a.kind === 'history' && b.kind === 'history') return a.timeline - b.timeline;
    return a.kind === 'history' ? -1 : 1;
  }
  if (a.segment !== b.segment) return a.segment < b.segment ? -1 : 1;
  if (a.timeline !== b.timeline) return a.timeline - b.timeline;
  // A completed segment before a partial of the same name (never both, but be total).
  return a.kind === b.kind ? 0 : a.kind === 'segment' ? -1 : 1;
}

/**
 * The WAL files in `wal/`, oldest first. Temporary files (pg_receivewal's `.tmp` of a history
 * file being written) and anything else are left out. A file that vanishes while it is read
 * (the uploader removed it) is skipped.
 */
export async function scanSpool(walDir: string, segmentSizeBytes: number): Promise<SpoolFile[]> {
  const names = await readdir(walDir);
  const files: SpoolFile[] = [];
  for (const name of names) {
    const parsed = parseWalFileName(name, segmentSizeBytes);
    if (parsed === undefined) continue;
    if (parsed.kind === 'segment' && parsed.compression !== 'none') continue;
    const sizeBytes = await stat(join(walDir, name)).then(
      (stats) => stats.size,
      () => undefined,
    );
    if (sizeBytes === undefined) continue;
    files.push(
      parsed.kind === 'history'
        ? { kind: 'history', name, timeline: parsed.timeline, sizeBytes }
        : {
            kind: parsed.partial ? 'partial' : 'segment',
            name,
            segmentName: parsed.segmentName,
            timeline: parsed.timeline,
            segment: parsed.segment,
            sizeBytes,
          },
    );
  }
  return files.sort(compareSpoolFiles);
}

/**
 * Removes every segment and partial from `wal/` (history files stay): after the slot was lost
 * the spool's position is gone from the server, and pg_receivewal, finding an empty spool,
 * starts from the new slot instead.
 */
export async function clearSpoolSegments(walDir: string, segmentSizeBytes: number): Promise<void> {
  for (const file of await scanSpool(walDir, segmentSizeBytes)) {
    if (file.kind !== 'history') await rm(join(walDir, file.name), { force: true });
  }
}
