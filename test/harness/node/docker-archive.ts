/**
 * A one-layer image written as a `docker save` archive, which `ctr images import` loads. The
 * harness makes its small images (the pod sandbox) this way: no registry is reachable, and a
 * static binary needs no base image.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTool } from '../env/processes.js';

/** What the image runs. */
export interface ImageConfig {
  readonly reference: string;
  readonly entrypoint: readonly string[];
  readonly user: string;
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Writes `archive` from the directory `rootfs` (every file owned by root, times zeroed, so
 * the same files give the same image ID). Returns the image ID (`sha256:` of its config).
 */
export async function writeDockerArchive(
  rootfs: string,
  image: ImageConfig,
  archive: string,
): Promise<string> {
  const scratch = `${archive}.parts`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  try {
    const layerTar = join(scratch, 'layer.tar');
    const reproducible = ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner'];
    await runTool('tar', ['-cf', layerTar, ...reproducible, '-C', rootfs, '.']);
    const layerHex = sha256(readFileSync(layerTar));
    mkdirSync(join(scratch, layerHex));
    renameSync(layerTar, join(scratch, layerHex, 'layer.tar'));
    const config = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Entrypoint: image.entrypoint, User: image.user },
      rootfs: { type: 'layers', diff_ids: [`sha256:${layerHex}`] },
      created: '1970-01-01T00:00:00Z',
    });
    const configHex = sha256(config);
    writeFileSync(join(scratch, `${configHex}.json`), config);
    const manifest = [
      {
        Config: `${configHex}.json`,
        RepoTags: [image.reference],
        Layers: [`${layerHex}/layer.tar`],
      },
    ];
    writeFileSync(join(scratch, 'manifest.json'), JSON.stringify(manifest));
    await runTool('tar', ['-cf', archive, ...reproducible, '-C', scratch, '.']);
    return `sha256:${configHex}`;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
