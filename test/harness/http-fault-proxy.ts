/**
 * An HTTP-aware fault proxy for the fault matrix (test/faults/). Toxiproxy works on TCP and
 * gives stalls, resets and latency, but cannot answer a request with an HTTP status; this
 * proxy forwards every request to its upstream (MinIO over HTTP, or the API server over
 * HTTPS) unless a rule says otherwise: answer with a status (S3's 500/503, the API server's
 * 429/500, with `Retry-After`), or hold the request unanswered so a test can kill the client
 * at that exact step (before the manifest is written, while rotation deletes).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { addresses } from './env/layout.js';

/** A request as rules see it. */
export interface SeenRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
}

/** What a rule does with the requests it matches. */
export type FaultAction =
  | {
      readonly kind: 'answer';
      readonly status: number;
      readonly headers?: Readonly<Record<string, string>>;
      readonly body: string;
    }
  | { readonly kind: 'hold' };

/** A rule: the first rule that matches a request, and has uses left, decides its fate. */
export interface FaultRule {
  readonly match: (request: SeenRequest) => boolean;
  readonly action: FaultAction;
  /** How many requests it takes; Infinity for all. */
  readonly times: number;
}

/** A request the proxy handled, for the matrix's "what the run did". */
export interface HandledRequest extends SeenRequest {
  /** The status sent back, `held` or `forwarded-failed`. */
  readonly outcome: number | 'held' | 'forwarding-failed';
  /** Its place in the order requests arrived in, from 0 (see {@link HttpFaultProxy.arrivals}). */
  readonly arrival: number;
}

/** A running proxy. */
export interface HttpFaultProxy {
  /** `http://host:port` or `https://host:port`. */
  readonly url: string;
  /** Adds a rule; returns a function that removes it. */
  addRule(rule: FaultRule): () => void;
  /** Removes every rule and answers the held requests' clients with 503. */
  clear(): void;
  /** Resolves with the first request matching `match` from now on (a held one included). */
  waitForRequest(match: (request: SeenRequest) => boolean, timeoutMs: number): Promise<SeenRequest>;
  readonly handled: readonly HandledRequest[];
  /**
   * How many requests have arrived so far. `handled` lists a request when it ends, so one that
   * arrived before a test's marker may be listed after it: compare `arrival` with this instead.
   */
  arrivals(): number;
  close(): Promise<void>;
}

/** Where the proxy forwards to; `https` upstreams are not verified (a loopback test server). */
export interface HttpFaultProxyOptions {
  readonly upstream: string;
  /** Serve TLS with a throwaway self-signed certificate (clients must skip verification). */
  readonly tls?: boolean;
}

interface LiveRule extends FaultRule {
  left: number;
}

interface Waiter {
  readonly match: (request: SeenRequest) => boolean;
  readonly resolve: (request: SeenRequest) => void;
}

async function selfSignedCertificate(): Promise<{ key: Buffer; cert: Buffer }> {
  const dir = await mkdtemp(join(tmpdir(), 'pgbackup-fault-proxy-'));
  try {
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=pgbackup-fault-proxy',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]);
    return {
      key: await readFile(join(dir, 'key.pem')),
      cert: await readFile(join(dir, 'cert.pem')),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function forward(upstream: URL, request: IncomingMessage, response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const transport = upstream.protocol === 'https:' ? https : http;
    const outgoing = transport.request(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        // The Host header as sent: S3 signatures (SigV4) cover it.
        headers: request.headers,
        rejectUnauthorized: false,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
        answer.on('end', () => resolve());
        answer.on('error', () => {
          response.destroy();
          resolve();
        });
      },
    );
    outgoing.on('error', () => {
      response.destroy();
      resolve();
    });
    // A client that goes away (killed) takes the upstream request with it.
    response.on('close', () => outgoing.destroy());
    request.pipe(outgoing);
  });
}

/** Starts a proxy on a free port of the environment's fault-proxy address. */
export async function startHttpFaultProxy(options: HttpFaultProxyOptions): Promise<HttpFaultProxy> {
  const upstream = new URL(options.upstream);
  const rules: LiveRule[] = [];
  const waiters: Waiter[] = [];
  const held = new Set<ServerResponse>();
  const handled: HandledRequest[] = [];
  let arrivals = 0;

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const seen = { method: request.method ?? 'GET', url: request.url ?? '/', arrival: arrivals };
    arrivals += 1;
    for (const waiter of waiters.splice(0)) {
      if (waiter.match(seen)) waiter.resolve(seen);
      else waiters.push(waiter);
    }
    const rule = rules.find((candidate) => candidate.left > 0 && candidate.match(seen));
    if (rule === undefined) {
      void forward(upstream, request, response).then(() =>
        handled.push({ ...seen, outcome: response.statusCode }),
      );
      return;
    }
    rule.left -= 1;
    const { action } = rule;
    if (action.kind === 'hold') {
      handled.push({ ...seen, outcome: 'held' });
      held.add(response);
      response.on('close', () => held.delete(response));
      return;
    }
    // Read the body first: answering while a client still sends a part would look like a
    // broken connection to it, not the status this rule means.
    request.resume();
    request.on('end', () => {
      handled.push({ ...seen, outcome: action.status });
      response.writeHead(action.status, { ...action.headers, connection: 'close' });
      response.end(action.body);
    });
  };

  const server =
    options.tls === true
      ? https.createServer(await selfSignedCertificate(), handle)
      : http.createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, addresses.faultProxy.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const scheme = options.tls === true ? 'https' : 'http';
  const clear = () => {
    rules.splice(0);
    for (const response of held) response.destroy();
    held.clear();
  };
  return {
    url: `${scheme}://${addresses.faultProxy.host}:${port}`,
    handled,
    arrivals: () => arrivals,
    addRule: (rule) => {
      const live = { ...rule, left: rule.times };
      rules.push(live);
      return () => {
        const index = rules.indexOf(live);
        if (index >= 0) rules.splice(index, 1);
      };
    },
    clear,
    waitForRequest: (match, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) waiters.splice(index, 1);
          reject(new Error(`no matching request reached the fault proxy within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter: Waiter = {
          match,
          resolve: (request) => {
            clearTimeout(timer);
            resolve(request);
          },
        };
        waiters.push(waiter);
      }),
    close: async () => {
      clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An S3 error answer, as S3 and MinIO write it (the SDK reads `Code`). */
export function s3ErrorAnswer(status: number, code: string, retryAfterS?: number): FaultAction {
  return {
    kind: 'answer',
    status,
    headers: {
      'content-type': 'application/xml',
      ...(retryAfterS === undefined ? {} : { 'retry-after': String(retryAfterS) }),
    },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by the fault matrix</Message><RequestId>fault</RequestId></Error>`,
  };
}

/** A Kubernetes API error answer (a `Status` object), optionally with `Retry-After`. */
export function kubeErrorAnswer(status: number, reason: string, retryAfterS?: number): FaultAction {
  return {
    kind: 'answer',
    status,
    headers: {
      'content-type': 'application/json',
      ...(retryAfterS === undefined ? {} : { 'retry-after': String(retryAfterS) }),
    },
    body: JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `injected by the fault matrix (${reason})`,
      reason,
      code: status,
    }),
  };
}
