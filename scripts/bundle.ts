/**
 * Bundles the compiled CLI (`tsc`'s `dist/cli/main.js`) into one file, `dist/bin/pgbackup.mjs`,
 * which the image runs: Node then loads one file instead of the hundreds of small modules of
 * its dependencies (the AWS SDK's above all), which cost a runner about 0.3 s at every start.
 *
 * Kept out of the bundle, and loaded from node_modules when used: `@kubernetes/client-node`
 * (imported lazily, only for kubeconfigs whose user runs a program or an auth provider) and
 * `pg-native` (an optional native module `pg` tries; not installed). The bundle sits two
 * directories below the package root, as `dist/cli/main.js` does, so the CLI finds
 * `package.json` (its version) at the same relative place. Beside it: its source map (back to
 * src/*.ts through tsc's maps, without the sources' text) and the licences of what it bundles (`pgbackup.mjs.LEGAL.txt`).
 *
 * Usage: `tsx scripts/bundle.ts [distDir]` (default `dist`); `npm run build` runs it after tsc.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Where the bundle goes, relative to the tsc output directory. */
export const BUNDLE_PATH = 'bin/pgbackup.mjs';

/** Modules the bundle imports from node_modules at run time instead of carrying them. */
export const BUNDLE_EXTERNALS = ['@kubernetes/client-node', 'pg-native'] as const;

/**
 * CommonJS dependencies (pg, pino, ...) call `require` for Node's built-in modules; an ES
 * module has none, so the bundle makes one.
 */
const REQUIRE_SHIM =
  "import { createRequire as __pgbackupCreateRequire } from 'node:module';\n" +
  'const require = __pgbackupCreateRequire(import.meta.url);';

/** Bundles `<distDir>/cli/main.js` into `<distDir>/bin/pgbackup.mjs`; returns the bundle's path. */
export async function bundleOperator(distDir: string): Promise<string> {
  const outfile = resolve(distDir, BUNDLE_PATH);
  // Rejects, with esbuild's messages, when the build fails.
  await build({
    entryPoints: [resolve(distDir, 'cli', 'main.js')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    external: [...BUNDLE_EXTERNALS],
    banner: { js: REQUIRE_SHIM },
    // Mappings only: stack traces (the image runs with --enable-source-maps) need no sources,
    // and the map is 2 MB instead of 5.5 MB to read at every start.
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bundle = await bundleOperator(process.argv[2] ?? 'dist');
  process.stdout.write(`bundled ${bundle}\n`);
}
