/**
 * What can be checked of the image without building it: the Dockerfile carries the
 * PostgreSQL majors the runner supports where the runner looks for them, runs as the user the
 * pods are told to run as, and its entrypoint is the built CLI; its build arguments' defaults
 * make the public images, and the local build (test/harness/image/, which builds it for real:
 * test/integration/packaging/image.test.ts) only sets arguments the Dockerfile declares.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBackupPolicy } from '../../../src/api/index.js';
import { DEFAULT_PG_ROOT, locatePgTool } from '../../../src/postgres/locate-tool.js';
import { renderRunnerPodSpec } from '../../../src/render/index.js';
import { repoRoot } from '../../harness/env/layout.js';
import { fixtureYaml } from '../../harness/fixtures.js';
import { BUILD_INPUTS, LOCAL_BUILD_ARGS } from '../../harness/image/operator-image.js';

/** The shell variables of the Dockerfile's install loop, as written there. */
const MAJOR = ['$', '{major}'].join('');
const CODENAME = ['$', '{VERSION_CODENAME}'].join('');
const NODE_IMAGE = ['$', '{NODE_IMAGE}'].join('');
const PG_APT_REPO = ['$', '{PG_APT_REPO}'].join('');

/** The majors the runner supports (DESIGN §4; issue 8: "13 to 17"). */
const SUPPORTED_MAJORS = [13, 14, 15, 16, 17];

interface Instruction {
  readonly keyword: string;
  readonly value: string;
}

/** The Dockerfile's instructions, continuation lines joined and comments dropped. */
function instructions(): Instruction[] {
  const text = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const lines = text.split('\n').filter((line) => !/^\s*#/.test(line));
  return lines
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [keyword = '', ...rest] = line.trim().split(/\s+/);
      return { keyword: keyword.toUpperCase(), value: rest.join(' ') };
    });
}

function valuesOf(keyword: string): string[] {
  return instructions()
    .filter((instruction) => instruction.keyword === keyword)
    .map((instruction) => instruction.value);
}

function argDefault(name: string): string {
  const arg = valuesOf('ARG').find((value) => value.startsWith(`${name}=`));
  if (arg === undefined) throw new Error(`the Dockerfile has no ARG ${name}`);
  return arg.slice(name.length + 1).replace(/^"|"$/g, '');
}

interface Stage {
  readonly name: string;
  /** The image or stage it starts from. */
  readonly from: string;
  readonly instructions: Instruction[];
}

/** The Dockerfile's stages, in order. */
function stages(): Stage[] {
  const result: Stage[] = [];
  for (const instruction of instructions()) {
    if (instruction.keyword === 'FROM') {
      const [from = '', , name = ''] = instruction.value.split(' ');
      result.push({ name, from, instructions: [instruction] });
    } else {
      result.at(-1)?.instructions.push(instruction);
    }
  }
  return result;
}

/** The instructions an image built with `--target name` runs: its stage and those it is built on. */
function stageChain(name: string): Instruction[] {
  const all = stages();
  const stage = all.find((candidate) => candidate.name === name);
  if (stage === undefined) throw new Error(`the Dockerfile has no stage ${name}`);
  const parent = all.find((candidate) => candidate.name === stage.from);
  return [...(parent === undefined ? [] : stageChain(parent.name)), ...stage.instructions];
}

/** The image that ships by default: the last stage, with the stages it is built on. */
function runtimeStage(): Instruction[] {
  return stageChain(stages().at(-1)?.name ?? '');
}

/** What the drill image adds to the runtime's base. */
function drillStage(): Instruction[] {
  return stages().find((stage) => stage.name === 'drill')?.instructions ?? [];
}

/** The runtime stage's ENV instructions, joined. */
function runtimeEnv(): string {
  return runtimeStage()
    .filter((instruction) => instruction.keyword === 'ENV')
    .map((instruction) => instruction.value)
    .join(' ');
}

describe('the Dockerfile', () => {
  it('builds in one stage and ships Node 24 from another: runtime by default, drill on request', () => {
    const all = stages();
    expect(all.map((stage) => `${stage.name} from ${stage.from}`)).toEqual([
      `build from ${NODE_IMAGE}`,
      `base from ${NODE_IMAGE}`,
      'drill from base',
      'runtime from base',
    ]);
    expect(argDefault('NODE_IMAGE')).toBe('node:24-bookworm-slim');
  });

  it('builds locally with arguments it declares: the base, the majors, and no PostgreSQL repository', () => {
    const declared = valuesOf('ARG').map((value) => value.split('=')[0]);
    for (const name of ['NODE_IMAGE', ...Object.keys(LOCAL_BUILD_ARGS)])
      expect(declared, name).toContain(name);
    const run = runtimeStage()
      .filter((instruction) => instruction.keyword === 'RUN')
      .map((instruction) => instruction.value)
      .join('\n');
    // `none` skips the repository; the test -x loop below still fails a major Debian lacks.
    expect(LOCAL_BUILD_ARGS.PG_APT_REPO).toBe('none');
    expect(run).toContain(`if [ "${PG_APT_REPO}" != none ]; then`);
    // The build stage's optional secret `ca`, for npm behind a TLS-inspecting proxy.
    const npmCi = stages()[0]?.instructions.find((instruction) =>
      instruction.value.includes('npm ci'),
    );
    expect(npmCi?.value).toContain('--mount=type=secret,id=ca,target=/run/secrets/ca.crt');
    expect(npmCi?.value).toContain('export NODE_EXTRA_CA_CERTS=/run/secrets/ca.crt');
  });

  it("carries the client programs of every major the runner supports, from the PostgreSQL project's repository", () => {
    expect(argDefault('PG_MAJORS').split(' ').map(Number)).toEqual(SUPPORTED_MAJORS);
    const run = runtimeStage()
      .filter((instruction) => instruction.keyword === 'RUN')
      .map((instruction) => instruction.value)
      .join('\n');
    expect(run).toContain(`postgresql-client-${MAJOR}`);
    expect(argDefault('PG_APT_REPO')).toBe('https://apt.postgresql.org/pub/repos/apt');
    expect(run).toContain(`${PG_APT_REPO} ${CODENAME}-pgdg main`);
    // The key Debian's postgresql-common ships, trusted for that repository alone.
    const key = '/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc';
    expect(run).toContain(`[signed-by=${key}]`);
    expect(existsSync(key), `${key} (Debian's postgresql-common) on this Debian machine`).toBe(
      true,
    );
    for (const program of ['zstd', 'lz4', 'tini'])
      expect(run).toMatch(new RegExp(`\\b${program}\\b`));
    // The build fails unless each major's tools are where the runner looks.
    expect(run).toContain(`test -x "${DEFAULT_PG_ROOT}/${MAJOR}/bin/pg_basebackup"`);
    expect(run).toContain(`test -x "${DEFAULT_PG_ROOT}/${MAJOR}/bin/pg_dump"`);
    // pg_waldump, which the point-in-time restore needs, comes from the server package alone.
    expect(run).toContain(`apt-get download "postgresql-${MAJOR}"`);
    expect(run).toContain(`"./usr/lib/postgresql/${MAJOR}/bin/pg_waldump"`);
  });

  it('carries the server of every major in the drill image only, with amcheck, and creates no cluster', () => {
    const runtime = runtimeStage()
      .filter((instruction) => instruction.keyword === 'RUN')
      .map((instruction) => instruction.value)
      .join('\n');
    // The runtime installs no server: it only downloads the package, for pg_waldump.
    expect(runtime).not.toContain(`packages="\${packages} postgresql-${MAJOR}"`);
    const run = drillStage()
      .filter((instruction) => instruction.keyword === 'RUN')
      .map((instruction) => instruction.value)
      .join('\n');
    expect(run).toContain(`packages="\${packages} postgresql-${MAJOR}"`);
    expect(run).toContain("create_main_cluster = false' /etc/postgresql-common/createcluster.conf");
    // The build fails unless each major's drill programs are where `pgbackup verify` looks
    // (pg_verifybackup and pg_amcheck come with the clients, which the drill image has too).
    expect(run).toContain(`test -x "${DEFAULT_PG_ROOT}/${MAJOR}/bin/postgres"`);
    expect(run).toContain(`test -f "/usr/share/postgresql/${MAJOR}/extension/amcheck.control"`);
    expect(run).toContain(`test ! -e "/var/lib/postgresql/${MAJOR}/main"`);
    // Every glibc locale, so a restored en_US.UTF-8 (or any other) database accepts connections.
    expect(run).toMatch(/\blocales-all\b/);
    expect(run).toContain("locale -a | grep -qx 'en_US.utf8'");
    expect(runtime).toContain(`test -x "${DEFAULT_PG_ROOT}/${MAJOR}/bin/pg_verifybackup"`);
    // pg_amcheck exists from PostgreSQL 14 on; the drill skips it for 13.
    expect(runtime).toContain(`test -x "${DEFAULT_PG_ROOT}/${MAJOR}/bin/pg_amcheck"`);
    // It installs as root and runs as the runtime's user again.
    expect(
      drillStage()
        .filter((instruction) => instruction.keyword === 'USER')
        .at(-1)?.value,
    ).toBe('65532:65532');
  });

  // Debian's PostgreSQL packages use the same layout as the image; unit tests need only Node.
  it.skipIf(!existsSync(DEFAULT_PG_ROOT))(
    "puts each major's tools where the runner finds them (Debian's layout, as on this machine)",
    async () => {
      const majors = readdirSync(DEFAULT_PG_ROOT).filter((entry) =>
        existsSync(join(DEFAULT_PG_ROOT, entry, 'bin', 'pg_dump')),
      );
      expect(majors.length, `PostgreSQL client packages under ${DEFAULT_PG_ROOT}`).toBeGreaterThan(
        0,
      );
      for (const major of majors) {
        await expect(locatePgTool({ tool: 'pg_dump', major: Number(major) })).resolves.toBe(
          join(DEFAULT_PG_ROOT, major, 'bin', 'pg_dump'),
        );
      }
    },
  );

  it('runs as the non-root user the runner pods and the chart ask for', () => {
    const [user] = runtimeStage()
      .filter((instruction) => instruction.keyword === 'USER')
      .map((instruction) => instruction.value);
    expect(user).toBe('65532:65532');
    const parsed = parseBackupPolicy(fixtureYaml('controller/orders-policy.yaml'));
    if (!parsed.ok) throw new Error('fixture must parse');
    const pod = renderRunnerPodSpec({
      policy: parsed.value,
      defaultImage: 'img',
      serviceAccountName: 'sa',
      args: [],
      mountLocalCopy: false,
    });
    expect(pod.securityContext).toMatchObject({ runAsUser: 65532, runAsGroup: 65532 });
    const deployment = readFileSync(
      join(repoRoot, 'charts', 'pgbackup-operator', 'templates', 'deployment.yaml'),
      'utf8',
    );
    expect(deployment).toContain('runAsUser: 65532');
  });

  it('writes nothing outside /tmp: HOME and TMPDIR point there', () => {
    const env = runtimeEnv();
    expect(env).toContain('HOME=/tmp');
    expect(env).toContain('TMPDIR=/tmp');
    expect(valuesOf('VOLUME')).toEqual([]);
  });

  it("keeps the AWS SDK's warnings about Node versions out of every run's output", () => {
    const env = runtimeEnv();
    // The variable @aws-sdk/core reads (emitWarningIfUnsupportedVersion).
    expect(env).toContain('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true');
  });

  it('has one entrypoint, the bundle `npm run build` makes of the CLI compiled from src/cli/main.ts', () => {
    const entrypoints = valuesOf('ENTRYPOINT');
    expect(entrypoints).toHaveLength(1);
    const command = JSON.parse(entrypoints[0] ?? '[]') as string[];
    expect(command).toEqual(['/usr/bin/tini', '--', 'node', '/app/dist/bin/pgbackup.mjs']);
    const [workdir] = runtimeStage()
      .filter((instruction) => instruction.keyword === 'WORKDIR')
      .map((instruction) => instruction.value);
    expect(workdir).toBe('/app');
    expect(runtimeStage().map((instruction) => instruction.value)).toContain(
      '--from=build /app/dist ./dist',
    );
    const build = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.build.json'), 'utf8')) as {
      compilerOptions: { rootDir: string; outDir: string };
    };
    expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(existsSync(join(repoRoot, 'src', 'cli', 'main.ts'))).toBe(true);
    const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(packageJson.bin.pgbackup).toBe('dist/bin/pgbackup.mjs');
  });

  it('sends the build only what it copies (.dockerignore)', () => {
    const ignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const allowed = ignore.slice(1).map((line) => line.replace(/^!/, '').replace(/\/$/, ''));
    const copied = valuesOf('COPY')
      .filter((value) => !value.startsWith('--from'))
      .flatMap((value) => value.split(' ').slice(0, -1));
    expect(copied.length).toBeGreaterThan(0);
    for (const source of copied) {
      expect(allowed, source).toContain(source);
      expect(existsSync(join(repoRoot, source)), source).toBe(true);
    }
    // The local build stages exactly what .dockerignore lets through (and itself).
    expect([...BUILD_INPUTS].sort()).toEqual(['.dockerignore', 'Dockerfile', ...allowed].sort());
  });
});
