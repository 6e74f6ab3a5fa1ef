/**
 * A machine that lacks what an image build needs is told what to install, before any build
 * starts (the build itself is tested in test/integration/packaging/image.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { podmanRuntimeFlags, requireImageTools } from '../../harness/image/podman.js';

const isRoot = process.getuid?.() === 0;
const savedPath = process.env.PATH;

afterEach(() => {
  process.env.PATH = savedPath;
});

describe('an image build on this machine', () => {
  it.skipIf(!isRoot)('names the Debian packages to install when its programs are missing', () => {
    const empty = mkdtempSync(join(tmpdir(), 'pgbackup-empty-path-'));
    try {
      process.env.PATH = empty;
      // runc lies in /usr/sbin, which is looked at whatever PATH says.
      expect(() => requireImageTools()).toThrow(
        /needs podman, buildah, mmdebstrap: apt-get install -y --no-install-recommends podman buildah mmdebstrap \(listed in \.ci\/debian-packages\.txt/,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('asks for runc and for no more open files or processes than the machine allows', () => {
    const flags = podmanRuntimeFlags();
    expect(flags.slice(0, 2)).toEqual(['--runtime', 'runc']);
    const ulimits = Object.fromEntries(
      flags
        .filter((_, index) => flags[index - 1] === '--ulimit')
        .map((value) => {
          const [name = '', limits = ''] = value.split('=');
          const [soft, hard] = limits.split(':').map(Number);
          return [name, { soft, hard }];
        }),
    );
    expect(Object.keys(ulimits).sort()).toEqual(['nofile', 'nproc']);
    expect(ulimits.nproc?.hard).toBeLessThanOrEqual(32_768);
    expect(ulimits.nofile?.hard).toBeLessThanOrEqual(1_048_576);
  });
});
