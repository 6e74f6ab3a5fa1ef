/**
 * The pod sandbox image (what `registry.k8s.io/pause` is in a cluster, which cannot be pulled
 * here): a static Go program that holds the pod's namespaces and sleeps until it is told to
 * stop. Built once per Go version and cached beside the other built tools.
 */
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheDir } from '../env/layout.js';
import { runTool } from '../env/processes.js';
import { goEnv } from '../env/tools.js';
import { writeDockerArchive } from './docker-archive.js';

/** A pause process: exits on SIGINT/SIGTERM, reaps nothing else (each pod has its own init). */
const PAUSE_SOURCE = `package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
`;

/** Version of the image's contents; bump it when PAUSE_SOURCE changes. */
const PAUSE_VERSION = '1';

/** The sandbox image: its reference and the archive `ctr images import` takes. */
export interface PauseImage {
  readonly reference: string;
  readonly archive: string;
}

/** Builds (or finds) the sandbox image's archive. */
export async function ensurePauseImage(): Promise<PauseImage> {
  const goVersion = (await runTool('go', ['env', 'GOVERSION'])).trim();
  const tag = `${PAUSE_VERSION}-${goVersion}`;
  const reference = `localhost/pgbackup-pause:${tag}`;
  const dir = join(cacheDir(), 'images');
  const archive = join(dir, `pause-${tag}.tar`);
  if (existsSync(archive)) return { reference, archive };
  mkdirSync(dir, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'pgbackup-pause-'));
  try {
    writeFileSync(join(scratch, 'go.mod'), 'module pgbackup.dev/pause\n\ngo 1.22\n');
    writeFileSync(join(scratch, 'main.go'), PAUSE_SOURCE);
    const rootfs = join(scratch, 'rootfs');
    mkdirSync(rootfs);
    await runTool(
      'go',
      ['build', '-trimpath', '-ldflags=-s -w', '-o', join(rootfs, 'pause'), '.'],
      {
        cwd: scratch,
        env: { ...goEnv(), CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
      },
    );
    const partial = `${archive}.tmp-${process.pid}`;
    await writeDockerArchive(rootfs, { reference, entrypoint: ['/pause'], user: '65535' }, partial);
    renameSync(partial, archive);
    return { reference, archive };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
