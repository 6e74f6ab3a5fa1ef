/**
 * A thin HTTPS client of the Kubernetes API: JSON requests and watch streams, with the
 * credentials of a kubeconfig. Every request is reported to `onRequest`, so the controller
 * can count its writes (a steady state must make none).
 */

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent, type RequestOptions, request } from 'node:https';
import type { KubeConnection } from './kube-config.js';
import { KubeApiError, KubeConnectionError } from './kube-errors.js';

/** The verbs requests are counted by. */
export type RequestVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

/** Verbs that change something on the server. */
export const WRITE_VERBS: ReadonlySet<RequestVerb> = new Set([
  'create',
  'update',
  'patch',
  'delete',
]);

/** One request. */
export interface KubeRequest {
  readonly verb: RequestVerb;
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  /** Defaults to JSON; patches name their kind (apply, merge). */
  readonly contentType?: string;
  /** What the request is for, for error messages: `apply CronJob shop/orders-binary-daily`. */
  readonly what: string;
}

/** An event of a watch stream. */
export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: Record<string, unknown>;
}

/** Options of {@link KubeClient}. */
export interface KubeClientOptions {
  /** Called after every request with its verb, HTTP status (0: no answer) and path. */
  readonly onRequest?: (verb: RequestVerb, statusCode: number, path: string) => void;
  /** How long a non-watch request may take. */
  readonly requestTimeoutMs?: number;
}

const METHODS: Readonly<Record<RequestVerb, string>> = {
  get: 'GET',
  list: 'GET',
  watch: 'GET',
  create: 'POST',
  update: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
};

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      body += chunk;
    });
    response.on('end', () => resolve(body));
    response.on('error', reject);
  });
}

function parseStatus(body: string): { reason?: string; message?: string } {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? parsed : {};
  } catch {
    return { message: body.slice(0, 500) };
  }
}

/** Talks to one API server as one identity. */
export class KubeClient {
  readonly #connection: KubeConnection;
  readonly #agent: Agent | HttpAgent;
  readonly #options: KubeClientOptions;

  private constructor(
    connection: KubeConnection,
    agent: Agent | HttpAgent,
    options: KubeClientOptions,
  ) {
    this.#connection = connection;
    this.#agent = agent;
    this.#options = options;
  }

  /** A client for a connection (see `loadKubeConnection`). */
  static async create(
    connection: KubeConnection,
    options: KubeClientOptions = {},
  ): Promise<KubeClient> {
    const tls: RequestOptions = {};
    await connection.apply(tls);
    // Plain HTTP only where the kubeconfig says so, e.g. a test double.
    if (connection.server.startsWith('http:')) {
      return new KubeClient(connection, new HttpAgent({ keepAlive: true }), options);
    }
    // One keep-alive agent for every request: the kubeconfig's own agent is rebuilt per call.
    const agent = new Agent({
      keepAlive: true,
      maxSockets: 32,
      ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
      ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
      ...(tls.key !== undefined ? { key: tls.key } : {}),
      ...(tls.rejectUnauthorized !== undefined
        ? { rejectUnauthorized: tls.rejectUnauthorized }
        : {}),
      ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
    });
    return new KubeClient(connection, agent, options);
  }

  /** Closes idle connections. */
  close(): void {
    this.#agent.destroy();
  }

  async #open(req: KubeRequest, signal?: AbortSignal): Promise<IncomingMessage> {
    const options: RequestOptions = { method: METHODS[req.verb], headers: {} };
    // Re-applied per request: a token read from a file may have been rotated.
    await this.#connection.apply(options);
    const url = new URL(req.path, this.#connection.server);
    for (const [key, value] of Object.entries(req.query ?? {})) url.searchParams.set(key, value);
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers = {
      ...(options.headers as Record<string, string>),
      accept: 'application/json',
      ...(body !== undefined ? { 'content-type': req.contentType ?? 'application/json' } : {}),
    };
    return new Promise((resolve, reject) => {
      const send = url.protocol === 'http:' ? httpRequest : request;
      const outgoing = send(url, { ...options, agent: this.#agent, headers, signal }, resolve);
      if (req.verb !== 'watch') {
        outgoing.setTimeout(this.#options.requestTimeoutMs ?? 30_000, () =>
          outgoing.destroy(new Error('no answer within the request timeout')),
        );
      }
      outgoing.on('error', (error) => {
        this.#options.onRequest?.(req.verb, 0, req.path);
        reject(new KubeConnectionError(`${req.what}: ${error.message}`, { cause: error }));
      });
      outgoing.end(body);
    });
  }

  /** Sends a request and returns the parsed JSON answer; throws on any error status. */
  async request<T>(req: KubeRequest): Promise<T> {
    const response = await this.#open(req);
    const text = await readBody(response).catch((error: unknown) => {
      throw new KubeConnectionError(`${req.what}: the answer broke off`, { cause: error });
    });
    const statusCode = response.statusCode ?? 0;
    this.#options.onRequest?.(req.verb, statusCode, req.path);
    if (statusCode >= 400) throw new KubeApiError(req.what, statusCode, parseStatus(text));
    return (text === '' ? {} : JSON.parse(text)) as T;
  }

  /**
   * Opens a watch and yields its events until the server ends it, the connection breaks
   * (throws {@link KubeConnectionError}) or `signal` aborts (returns).
   */
  async *watch(req: Omit<KubeRequest, 'verb'>, signal: AbortSignal): AsyncGenerator<WatchEvent> {
    const watchRequest: KubeRequest = { ...req, verb: 'watch' };
    const response = await this.#open(watchRequest, signal);
    const statusCode = response.statusCode ?? 0;
    this.#options.onRequest?.('watch', statusCode, req.path);
    if (statusCode >= 400) {
      throw new KubeApiError(req.what, statusCode, parseStatus(await readBody(response)));
    }
    response.setEncoding('utf8');
    let buffered = '';
    try {
      for await (const chunk of response) {
        buffered += chunk as string;
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line !== '') yield JSON.parse(line) as WatchEvent;
          newline = buffered.indexOf('\n');
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      throw new KubeConnectionError(`${req.what}: the watch broke off`, { cause: error });
    } finally {
      // Also when the consumer stops early: the connection must not linger.
      response.destroy();
    }
  }
}
