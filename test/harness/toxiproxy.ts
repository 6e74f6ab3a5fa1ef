/**
 * Toxiproxy (github.com/Shopify/toxiproxy, built from test/tools/toxiproxy and cached like
 * the servers) as the fault matrix drives it: one server per test file on the environment's
 * fault-proxy address, TCP proxies in front of MinIO or the API server, and toxics (stalls,
 * resets, latency, a closed door) added and removed over its HTTP API while a run goes on.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { addresses } from './env/layout.js';
import { waitUntil } from './env/processes.js';
import { ensureToolModule } from './env/tools.js';

/** A toxic as toxiproxy's API takes it (see its README: latency, timeout, reset_peer, …). */
export interface Toxic {
  readonly name: string;
  readonly type: 'latency' | 'bandwidth' | 'timeout' | 'reset_peer' | 'limit_data' | 'slow_close';
  /** `upstream`: client to server; `downstream`: server to client. */
  readonly stream: 'upstream' | 'downstream';
  readonly attributes: Readonly<Record<string, number>>;
}

/** One TCP proxy: `listen` is `host:port` for clients. */
export interface ToxiProxy {
  readonly name: string;
  readonly listen: string;
  addToxic(toxic: Toxic): Promise<void>;
  removeToxic(name: string): Promise<void>;
  /** Disabled, the proxy closes its connections and refuses new ones (an outage). */
  setEnabled(enabled: boolean): Promise<void>;
}

/** A running toxiproxy-server. */
export interface ToxiproxyServer {
  /** A proxy to `upstream` (`host:port`) on a free port of the fault-proxy address. */
  createProxy(name: string, upstream: string): Promise<ToxiProxy>;
  stop(): Promise<void>;
}

const { host, port } = addresses.faultProxy;
const api = `http://${host}:${port}`;

async function request(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`toxiproxy ${method} ${path} answered ${response.status}: ${text}`);
  }
  return text === '' ? undefined : JSON.parse(text);
}

function proxyOf(name: string, listen: string): ToxiProxy {
  return {
    name,
    listen,
    addToxic: async (toxic) => {
      await request('POST', `/proxies/${name}/toxics`, { ...toxic, toxicity: 1 });
    },
    removeToxic: async (toxic) => {
      await request('DELETE', `/proxies/${name}/toxics/${toxic}`);
    },
    setEnabled: async (enabled) => {
      await request('POST', `/proxies/${name}`, { enabled });
    },
  };
}

/** Starts toxiproxy-server (building it on the first run on a machine). */
export async function startToxiproxy(): Promise<ToxiproxyServer> {
  const binary = `${await ensureToolModule('toxiproxy')}/toxiproxy-server`;
  const child: ChildProcess = spawn(binary, ['-host', host, '-port', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    // Only the tail matters when it fails to start.
    log = (log + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  try {
    await waitUntil(
      `toxiproxy on ${api}${log === '' ? '' : `\n${log}`}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`toxiproxy-server exited: ${log}`);
        return (await fetch(`${api}/version`)).ok;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    createProxy: async (name, upstream) => {
      const created = (await request('POST', '/proxies', {
        name,
        listen: `${host}:0`,
        upstream,
        enabled: true,
      })) as { listen: string };
      return proxyOf(name, created.listen);
    },
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
