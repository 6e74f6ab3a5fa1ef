#!/usr/bin/env node
/**
 * The one entry point of the `pgbackup` program: controller, runner and CLI commands are
 * subcommands of it, so the image has a single entrypoint. This file only wires: each
 * command lives in its own module and receives its arguments and output streams.
 */
// First: it must run before any module that loads the AWS SDK (see the module).
import './node-version-warning.js';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Command, type CommandIo, UsageError } from './command.js';

const commands: ReadonlyMap<string, () => Promise<Command>> = new Map<
  string,
  () => Promise<Command>
>([
  ['plan', async () => (await import('./plan-command.js')).runPlanCommand],
  ['run', async () => (await import('./run-command.js')).runRunCommand],
  ['controller', async () => (await import('./controller-command.js')).runControllerCommand],
  ['verify', async () => (await import('./verify-command.js')).runVerifyCommand],
  ['list', async () => (await import('./list-command.js')).runListCommand],
  ['restore', async () => (await import('./restore-command.js')).runRestoreCommand],
  ['backup', async () => (await import('./backup-command.js')).runBackupCommand],
  ['wal-receive', async () => (await import('./wal-receive-command.js')).runWalReceiveCommand],
  ['wal-fetch', async () => (await import('./wal-fetch-command.js')).runWalFetchCommand],
  ['wal-status', async () => (await import('./wal-status-command.js')).runWalStatusCommand],
  ['wal-prune', async () => (await import('./wal-prune-command.js')).runWalPruneCommand],
]);

function readVersion(): string {
  const packageJson = fileURLToPath(new URL('../../package.json', import.meta.url));
  const parsed: unknown = JSON.parse(readFileSync(packageJson, 'utf8'));
  if (typeof parsed === 'object' && parsed !== null && 'version' in parsed) {
    return String(parsed.version);
  }
  return 'unknown';
}

function usage(): string {
  const names = [...commands.keys(), 'version', 'help'];
  return `usage: pgbackup <command> [options]\n\ncommands: ${names.join(', ')}\n`;
}

/** Runs one command line and returns the process exit status. */
export async function runMain(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    io.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === 'version' || name === '--version') {
    io.stdout.write(`pgbackup ${readVersion()}\n`);
    return 0;
  }
  const load = commands.get(name);
  if (load === undefined) {
    io.stderr.write(`pgbackup: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  try {
    const command = await load();
    return await command(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`pgbackup ${name}: ${error.message}\n`);
      return 2;
    }
    io.stderr.write(`pgbackup ${name}: ${describeError(error)}\n`);
    return 1;
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
  return `${error.message}${cause}`;
}

// Through a symlink (npm's bin link) argv[1] is the link: compare real paths.
const invokedDirectly =
  process.argv[1] !== undefined &&
  realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (invokedDirectly) {
  process.exitCode = await runMain(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
  });
}
