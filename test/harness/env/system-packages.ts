/**
 * Debian packages the environment needs (PostgreSQL's server and client programs, openssl).
 * .ci/debian-packages.txt is the one list; as root the harness installs what is missing, so
 * the README's commands work on a fresh machine; otherwise it says what to run.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './layout.js';
import { HarnessError, runTool } from './processes.js';

function packageList(): string[] {
  return readFileSync(join(repoRoot, '.ci', 'debian-packages.txt'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function hasPostgresServer(): boolean {
  const root = '/usr/lib/postgresql';
  return (
    existsSync(root) &&
    readdirSync(root).some((major) => existsSync(join(root, major, 'bin', 'postgres')))
  );
}

async function missingPackages(): Promise<string[]> {
  const missing: string[] = [];
  for (const name of packageList()) {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax.
    const format = '-f=${Status}';
    const installed = await runTool('dpkg-query', ['-W', format, name]).catch(() => '');
    if (!installed.includes('install ok installed')) missing.push(name);
  }
  return missing;
}

/** Installs missing Debian packages as root, or explains what to install. */
export async function ensureSystemPackages(log: (message: string) => void): Promise<void> {
  if (hasPostgresServer() && existsSync('/usr/bin/openssl')) return;
  const missing = await missingPackages();
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new HarnessError(
      `missing Debian packages: ${missing.join(', ')}; run as root: ${command}`,
    );
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  await runTool('apt-get', ['update'], { env });
  await runTool('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
}
