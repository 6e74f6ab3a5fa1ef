/**
 * Runs `pgbackup controller` as a child process, the way the chart's Deployment runs it,
 * authenticated by a kubeconfig file, and reads its /metrics. The process is stopped with
 * SIGTERM (a clean shutdown) or SIGKILL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { repoRoot } from './env/layout.js';

/** A running controller process. */
export interface ControllerProcess {
  readonly metricsUrl: string;
  /** Everything it logged so far (pino JSON lines). */
  logs(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Kills it without a chance to clean up. */
  kill(): Promise<void>;
}

/** Writes a kubeconfig to a private temporary file; returns its path. */
export function writeKubeConfigFile(kubeConfig: KubeConfig): string {
  const path = join(mkdtempSync(join(tmpdir(), 'pgbackup-controller-')), 'kubeconfig');
  writeFileSync(path, kubeConfig.exportConfig(), { mode: 0o600 });
  return path;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Starts a controller and waits until its HTTP endpoints listen. */
export async function startControllerProcess(
  kubeconfigPath: string,
  args: readonly string[],
): Promise<ControllerProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'src/cli/main.ts'),
      'controller',
      '--kubeconfig',
      kubeconfigPath,
      '--metrics-address',
      '127.0.0.1:0',
      ...args,
    ],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: kubeconfigPath },
    },
  );
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the controller did not start:\n${output}`)),
      60_000,
    );
    const poll = setInterval(() => {
      const match = /"address":"([^"]+)"/.exec(output);
      if (match?.[1] !== undefined) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(match[1]);
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`the controller exited with ${code}:\n${output}`));
    });
  });
  return {
    metricsUrl: `http://${address}/metrics`,
    logs: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      return exited(child);
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited(child);
    },
  };
}

/** The sum of a metric's samples whose labels include `labels`, from Prometheus text. */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const matches = Object.entries(labels).every(([key, value]) =>
      line.includes(`${key}="${value}"`),
    );
    if (matches) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Reads a controller's /metrics. */
export async function readMetrics(controller: ControllerProcess): Promise<string> {
  return (await fetch(controller.metricsUrl)).text();
}
