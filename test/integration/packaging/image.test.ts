/**
 * The images built for real from the Dockerfile (test/harness/image/: podman with runc, from
 * a base made of Debian's packages and Node 24), and run as a pod runs them: the image's own
 * user, a read-only root with an emptyDir-like /tmp, every capability dropped, no network.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PG_ROOT } from '../../../src/postgres/locate-tool.js';
import { drillImageOf } from '../../../src/render/drill-image.js';
import { repoRoot } from '../../harness/env/layout.js';
import { runTool } from '../../harness/env/processes.js';
import {
  ensureImageInPodman,
  ensureOperatorImages,
  LOCAL_PG_MAJORS,
  type OperatorImages,
} from '../../harness/image/operator-image.js';
import { podmanRuntimeFlags, runContainerTool } from '../../harness/image/podman.js';

const isRoot = process.getuid?.() === 0;

/** What a pod under `restricted` with readOnlyRootFilesystem and an emptyDir at /tmp gets. */
const POD_LIKE = [
  '--network',
  'none',
  '--read-only',
  '--read-only-tmpfs=false',
  '--tmpfs',
  '/tmp:rw,mode=1777',
  '--cap-drop',
  'ALL',
  '--security-opt',
  'no-new-privileges',
];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `podman run --rm` of the image, pod-like; `entrypoint` replaces the image's. */
function runImage(
  reference: string,
  args: readonly string[],
  options: { entrypoint?: string; volumes?: readonly string[] } = {},
): Promise<Run> {
  const podmanArgs = [
    'run',
    '--rm',
    ...podmanRuntimeFlags(),
    ...POD_LIKE,
    ...(options.volumes ?? []).flatMap((volume) => ['--volume', volume]),
    ...(options.entrypoint === undefined ? [] : ['--entrypoint', options.entrypoint]),
    reference,
    ...args,
  ];
  return new Promise((resolve) => {
    execFile('podman', podmanArgs, { timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A shell inside the image, pod-like. */
function shellInImage(reference: string, script: string): Promise<Run> {
  return runImage(reference, ['-c', script], { entrypoint: '/bin/sh' });
}

describe.skipIf(!isRoot)('the images built from the Dockerfile', () => {
  let images: OperatorImages;

  beforeAll(async () => {
    // A first build on a fresh machine makes the base and both images (minutes); later runs
    // find them in the cache (.ci/run builds them before the tests).
    images = await ensureOperatorImages((message) => process.stderr.write(`image: ${message}\n`));
    await ensureImageInPodman(images.runtime);
    await ensureImageInPodman(images.drill);
  }, 45 * 60_000);

  it('are both targets, named as the controller derives the drill, in archives containerd imports', () => {
    expect(images.runtime.reference).toMatch(/^localhost\/pgbackup-operator:dev-[0-9a-f]{12}$/);
    expect(images.drill.reference).toBe(drillImageOf(images.runtime.reference));
    for (const image of [images.runtime, images.drill]) {
      expect(image.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(image.sizeBytes).toBeGreaterThan(0);
      expect(existsSync(image.archive), image.archive).toBe(true);
    }
    expect(images.runtime.imageId).not.toBe(images.drill.imageId);
  });

  it('carry the name and the configuration (the image ID) that a docker archive import keeps', async () => {
    for (const image of [images.runtime, images.drill]) {
      const manifest = JSON.parse(
        await runTool('tar', [
          '--extract',
          '--to-stdout',
          '--file',
          image.archive,
          'manifest.json',
        ]),
      ) as { Config: string; RepoTags: string[] }[];
      expect(manifest).toHaveLength(1);
      expect(manifest[0]?.RepoTags).toEqual([image.reference]);
      // The configuration blob, whose digest is the ID containerd reports too.
      expect(`sha256:${manifest[0]?.Config.replace(/\.json$/, '').replace(/^.*\//, '')}`).toBe(
        image.imageId,
      );
    }
  });

  it("run the Dockerfile's entrypoint as user 65532, on Node 24", async () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    for (const image of [images.runtime, images.drill]) {
      const config = JSON.parse(
        await runContainerTool('podman', [
          'image',
          'inspect',
          '--format',
          '{{json .Config}}',
          image.reference,
        ]),
      ) as { User: string; Entrypoint: string[]; WorkingDir: string };
      expect(config).toMatchObject({
        User: '65532:65532',
        Entrypoint: ['/usr/bin/tini', '--', 'node', '/app/dist/bin/pgbackup.mjs'],
        WorkingDir: '/app',
      });
      await expect(runImage(image.reference, ['version'])).resolves.toEqual({
        code: 0,
        stdout: `pgbackup ${version}\n`,
        stderr: '',
      });
      const identity = await shellInImage(image.reference, 'id -u; id -g; node --version');
      expect(identity).toMatchObject({ code: 0, stderr: '' });
      expect(identity.stdout).toMatch(/^65532\n65532\nv24\.\d+\.\d+\n$/);
    }
  });

  it('write nothing outside /tmp on a read-only root', async () => {
    for (const image of [images.runtime, images.drill]) {
      const outside = await shellInImage(image.reference, 'touch /app/written');
      expect(outside.code, image.reference).not.toBe(0);
      expect(outside.stderr).toContain('Read-only file system');
      for (const dir of ['/', '/var/lib/pgbackup/local', '/usr/lib/postgresql']) {
        const write = await shellInImage(image.reference, `touch ${dir}/written`);
        expect(write.code, `${image.reference}: ${dir}`).not.toBe(0);
      }
      const inside = await shellInImage(image.reference, 'touch /tmp/written && echo written');
      expect(inside).toEqual({ code: 0, stdout: 'written\n', stderr: '' });
    }
  });

  it("carry Debian's PostgreSQL client programs where the runner looks, and preview a policy", async () => {
    for (const major of LOCAL_PG_MAJORS) {
      for (const tool of [
        'pg_basebackup',
        'pg_dump',
        'pg_dumpall',
        'pg_verifybackup',
        'pg_amcheck',
        'pg_waldump',
      ]) {
        const path = `${DEFAULT_PG_ROOT}/${major}/bin/${tool}`;
        const run = await runImage(images.runtime.reference, ['--version'], { entrypoint: path });
        expect(run, path).toMatchObject({ code: 0, stderr: '' });
        expect(run.stdout).toContain(`(PostgreSQL) ${major}.`);
      }
    }
    // The runtime carries no server: that is the drill's.
    const server = await shellInImage(
      images.runtime.reference,
      `ls ${DEFAULT_PG_ROOT}/*/bin/postgres`,
    );
    expect(server.code).not.toBe(0);
    const plan = await runImage(
      images.runtime.reference,
      ['plan', '-f', '/policy.yaml', '--from', '2026-12-25', '--to', '2026-12-31'],
      { volumes: [`${join(repoRoot, 'examples', 'quickstart.yaml')}:/policy.yaml:ro`] },
    );
    expect(plan, plan.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(plan.stdout).toContain('runs from 2026-12-25 to 2026-12-31');
  });

  it('the drill carries the server of each major, with amcheck, every locale, and no cluster', async () => {
    for (const major of LOCAL_PG_MAJORS) {
      const path = `${DEFAULT_PG_ROOT}/${major}/bin/postgres`;
      const run = await runImage(images.drill.reference, ['--version'], { entrypoint: path });
      expect(run, path).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toContain(`(PostgreSQL) ${major}.`);
      const files = await shellInImage(
        images.drill.reference,
        `test -f /usr/share/postgresql/${major}/extension/amcheck.control && test ! -e /var/lib/postgresql/${major}/main && locale -a | grep -x en_US.utf8`,
      );
      expect(files).toEqual({ code: 0, stdout: 'en_US.utf8\n', stderr: '' });
    }
    // The logical drill's empty server: initdb as the image's user, who needs a passwd entry.
    const initdb = await shellInImage(
      images.drill.reference,
      `${DEFAULT_PG_ROOT}/15/bin/initdb --pgdata=/tmp/drill --username=postgres --auth=trust --no-sync --locale=C >/dev/null && echo created`,
    );
    expect(initdb, initdb.stderr).toMatchObject({ code: 0, stdout: 'created\n' });
  });
});
