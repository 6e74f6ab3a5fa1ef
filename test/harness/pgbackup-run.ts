/**
 * `pgbackup run` as a child process, as a CronJob runs it: exit status, output and signals
 * are the process's own. The child is `node --import tsx` itself (not npx), so a signal sent
 * to it reaches the runner and nothing else.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './env/layout.js';
import { buildForOtherUsers } from './shared-build.js';
import { requireEnv } from './variables.js';

/** How a run ended. */
export interface RunOutcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A started run. */
export interface StartedRun {
  readonly child: ChildProcess;
  readonly outcome: Promise<RunOutcome>;
}

/**
 * The environment a run gets: libpq's login as the superuser, the replication role for
 * pg_basebackup, the AWS SDK's credentials; `overrides` replace (or, as undefined, remove) any.
 */
export function runEnvironment(
  overrides: Readonly<Record<string, string | undefined>> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PGUSER: requireEnv('PGUSER'),
    PGPASSWORD: requireEnv('PGPASSWORD'),
    PGBACKUP_REPLICATION_USER: requireEnv('PGBACKUP_REPLICATION_USER'),
    PGBACKUP_REPLICATION_PASSWORD: requireEnv('PGBACKUP_REPLICATION_PASSWORD'),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Starts `pgbackup run ARGS`. */
export function startPgbackupRun(
  args: readonly string[],
  env: NodeJS.ProcessEnv = runEnvironment(),
): StartedRun {
  return startPgbackup(['run', ...args], env);
}

/** Collects a started program's output until it ends. */
function collectOutput(child: ChildProcess): StartedRun {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const outcome = new Promise<RunOutcome>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, outcome };
}

/** Starts `pgbackup ARGV` (any command) from the source, as this process's user. */
export function startPgbackup(argv: readonly string[], env: NodeJS.ProcessEnv): StartedRun {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts'), ...argv],
    { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return collectOutput(child);
}

/**
 * Runs `pgbackup ARGV` to the end as another user when `runAs` is given (else as
 * {@link startPgbackup}): the built operator and a node that user can reach
 * ({@link buildForOtherUsers}), since the checkout may lie where only its owner can enter.
 */
export async function runPgbackupAs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  runAs: { readonly uid: number; readonly gid: number } | undefined,
): Promise<RunOutcome> {
  if (runAs === undefined) return startPgbackup(argv, env).outcome;
  const runtime = await buildForOtherUsers();
  const child = spawn(runtime.node, [runtime.bundle, ...argv], {
    cwd: runtime.appDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: runAs.uid,
    gid: runAs.gid,
  });
  return collectOutput(child).outcome;
}

/** Runs `pgbackup run ARGS` to the end. */
export function runPgbackup(
  args: readonly string[],
  env: NodeJS.ProcessEnv = runEnvironment(),
): Promise<RunOutcome> {
  return startPgbackupRun(args, env).outcome;
}

/** Resolves once the run has written `text` to stderr; rejects if it ends without. */
export function stderrContains(run: StartedRun, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    run.child.stderr?.on('data', (chunk: Buffer | string) => {
      seen += chunk.toString();
      if (seen.includes(text)) resolve();
    });
    run.child.on('close', () => reject(new Error(`the run ended without writing "${text}"`)));
  });
}
