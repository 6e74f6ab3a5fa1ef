/**
 * A thin HTTPS client of the Kubernetes API: JSON requests and watch streams, with the
 * credentials of a kubeconfig. Every attempt is reported to `onRequest`, so the controller
 * can count its writes (a steady state must make none).
 *
 * Transient failures are retried here, once for every caller, within a bounded number of
 * attempts and a total deadline, waiting as long as the server's `Retry-After` asks (else an
 * exponential backoff with jitter):
 * - 429 Too Many Requests, for every verb: the API server's flow control refused the request
 *   before any handler saw it, so nothing happened and a create is as safe to send again as
 *   a get;
 * - 500, 502, 503, 504 and connections that broke or gave no answer in time, only for
 *   requests that are safe to send twice ({@link isIdempotentRequest}): the first may have
 *   taken effect.
 * Callers keep their own loops for what outlasts the deadline (the informer's watch, the
 * work queue's backoff); those loops are the slow tier, the client the fast one.
 */

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent, type RequestOptions, request } from 'node:https';
import { type BackoffPolicy, backoffDelayMs, sleepUnlessAborted } from './backoff.js';
import type { KubeConnection } from './kube-config.js';
import {
  isTooManyRequests,
  isTransient,
  KubeApiError,
  KubeConnectionError,
  KubeRequestAbortedError,
} from './kube-errors.js';

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
  /** Aborts the request, and any wait before a retry, at once. */
  readonly signal?: AbortSignal;
  /**
   * The longest the request may take, retries and waits included; defaults to the client's
   * retry deadline. Every attempt is cut off when it runs out, so the caller hears back by then.
   */
  readonly deadlineMs?: number;
}

/** An event of a watch stream. */
export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: Record<string, unknown>;
}

/** How the client retries transient failures. */
export interface RetryPolicy {
  /** Attempts in all, the first included; 1 turns retries off. */
  readonly maxAttempts: number;
  /** The wait between attempts when the server names none (`Retry-After`). */
  readonly backoff: BackoffPolicy;
  /** No attempt starts, and no wait reaches, past this long after the first attempt began. */
  readonly deadlineMs: number;
}

/**
 * Five attempts within a minute, 200 ms doubling to 5 s between them: a restarting API
 * server or a burst of flow control is ridden out; a longer outage is the caller's to handle.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  backoff: { baseMs: 200, maxMs: 5000 },
  deadlineMs: 60_000,
};

/** Options of {@link KubeClient}. */
export interface KubeClientOptions {
  /** Called after every attempt with its verb, HTTP status (0: no answer) and path. */
  readonly onRequest?: (verb: RequestVerb, statusCode: number, path: string) => void;
  /** How long one attempt of a non-watch request may take. */
  readonly requestTimeoutMs?: number;
  /** Defaults to {@link DEFAULT_RETRY_POLICY}. */
  readonly retry?: RetryPolicy;
  /** Waits between attempts; tests inject one that records the delays asked for. */
  readonly sleep?: (delayMs: number, signal: AbortSignal) => Promise<void>;
  /**
   * Asked before every request: once the signal it returns aborts, requests in flight are
   * cut off and new ones refused ({@link KubeRequestAbortedError}). The controller fences its
   * reconciles with its leadership, so a deposed leader stops writing at once.
   */
  readonly fence?: () => AbortSignal;
}

/** Patch kinds that give the same object however often they are applied. */
const IDEMPOTENT_PATCHES: ReadonlySet<string> = new Set([
  'application/apply-patch+yaml',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
]);

/**
 * Whether a request may be sent twice without harm, should the first have taken effect:
 * reads and watches; deletes (a second one finds nothing: 404, which deleters accept);
 * replaces that carry `metadata.resourceVersion` (a second one meets 409 Conflict, never
 * overwrites a change made in between); apply and merge patches (the same result however
 * often applied). Not creates: a replay of one that worked is 409 AlreadyExists, which
 * callers read as "someone else made it" (or, with `generateName`, a second object); not
 * JSON patches, whose array operations add twice.
 */
export function isIdempotentRequest(
  req: Pick<KubeRequest, 'verb' | 'body' | 'contentType'>,
): boolean {
  switch (req.verb) {
    case 'get':
    case 'list':
    case 'watch':
    case 'delete':
      return true;
    case 'update': {
      const metadata = (req.body as { metadata?: { resourceVersion?: unknown } } | undefined)
        ?.metadata;
      return typeof metadata?.resourceVersion === 'string' && metadata.resourceVersion !== '';
    }
    case 'patch':
      return IDEMPOTENT_PATCHES.has(req.contentType ?? '');
    case 'create':
      return false;
  }
}

/** Whether a failed attempt of `req` is worth another: see the module comment. */
function isRetryable(req: KubeRequest, error: unknown): boolean {
  if (isTooManyRequests(error)) return true;
  return isTransient(error) && isIdempotentRequest(req);
}

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined
 * when absent or unreadable.
 */
export function retryAfterMsOf(
  header: string | string[] | undefined,
  nowMs: number,
): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const dateMs = Date.parse(value);
  return Number.isNaN(dateMs) ? undefined : Math.max(0, dateMs - nowMs);
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
    // Destroyed (aborted, timed out) before the end: no 'end' will come.
    response.on('close', () => {
      if (!response.complete) reject(new Error('the connection closed before the answer ended'));
    });
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

/** The error of an error answer, with the wait its `Retry-After` asks for. */
function apiErrorOf(req: KubeRequest, response: IncomingMessage, text: string): KubeApiError {
  return new KubeApiError(
    req.what,
    response.statusCode ?? 0,
    parseStatus(text),
    retryAfterMsOf(response.headers['retry-after'], Date.now()),
  );
}

const NEVER_ABORTED = new AbortController().signal;

/**
 * How long to wait before trying `req` again after `error`: the server's `Retry-After`, else
 * the backoff; undefined when it is not to be tried again (not retryable, out of attempts, or
 * the wait would end past the deadline, after which no attempt may start).
 */
function retryWaitMs(
  req: KubeRequest,
  error: unknown,
  progress: { readonly attempts: number; readonly policy: RetryPolicy; readonly endMs: number },
): number | undefined {
  const { attempts, policy, endMs } = progress;
  if (attempts >= policy.maxAttempts || !isRetryable(req, error)) return undefined;
  const waitMs =
    (error instanceof KubeApiError ? error.retryAfterMs : undefined) ??
    backoffDelayMs(policy.backoff, attempts);
  return Date.now() + waitMs >= endMs ? undefined : waitMs;
}

function abandoned(req: KubeRequest, cause: unknown): KubeRequestAbortedError {
  return new KubeRequestAbortedError(`${req.what}: abandoned by the caller`, { cause });
}

/**
 * One attempt, with a signal that fires when the caller aborts or the attempt has run past
 * `timeoutMs` (a request that hangs counts as a failure, not as a wait without end).
 */
async function attemptOnce<T>(
  req: KubeRequest,
  attempt: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
): Promise<T> {
  const cutOff = new AbortController();
  const abort = () => cutOff.abort();
  req.signal?.addEventListener('abort', abort, { once: true });
  const timer = setTimeout(abort, timeoutMs);
  try {
    return await attempt(cutOff.signal);
  } catch (error) {
    if (req.signal?.aborted) throw abandoned(req, error);
    if (cutOff.signal.aborted && !(error instanceof KubeApiError)) {
      throw new KubeConnectionError(`${req.what}: no answer within ${timeoutMs} ms`, {
        cause: error,
      });
    }
    throw error;
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', abort);
  }
}

/** The last failure, saying how many attempts it took when there were several. */
function gaveUp(error: unknown, attempts: number): unknown {
  if (attempts > 1 && error instanceof Error) {
    error.message = `${error.message} (gave up after ${attempts} attempts)`;
  }
  return error;
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

  /**
   * This client with some options changed (e.g. a fence), sharing its connections: close
   * only the original.
   */
  withOptions(options: KubeClientOptions): KubeClient {
    return new KubeClient(this.#connection, this.#agent, { ...this.#options, ...options });
  }

  /** Closes idle connections. */
  close(): void {
    this.#agent.destroy();
  }

  async #open(req: KubeRequest, signal: AbortSignal): Promise<IncomingMessage> {
    const options: RequestOptions = { method: METHODS[req.verb], headers: {} };
    // Re-applied per request: a token read from a file may have been rotated.
    await this.#connection.apply(options);
    const url = new URL(req.path, this.#connection.server);
    for (const [key, value] of Object.entries(req.query ?? {})) url.searchParams.set(key, value);
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers = {
      ...(options.headers as Record<string, string>),
      accept: 'application/json',
      // Content-Length always: Node frames a DELETE's body neither by length nor by chunks, so
      // the API server would ignore its preconditions and read the body as the next request.
      ...(body !== undefined
        ? {
            'content-type': req.contentType ?? 'application/json',
            'content-length': String(Buffer.byteLength(body)),
          }
        : {}),
    };
    return new Promise((resolve, reject) => {
      const send = url.protocol === 'http:' ? httpRequest : request;
      const outgoing = send(url, { ...options, agent: this.#agent, headers, signal }, resolve);
      outgoing.on('error', (error) => {
        this.#options.onRequest?.(req.verb, 0, req.path);
        reject(new KubeConnectionError(`${req.what}: ${error.message}`, { cause: error }));
      });
      outgoing.end(body);
    });
  }

  /**
   * Runs `attempt` until it succeeds, fails for good, or the attempts or the deadline run
   * out, waiting between attempts as the server or the backoff says.
   */
  async #withRetries<T>(
    req: KubeRequest,
    attempt: (signal: AbortSignal) => Promise<T>,
    timeoutMs: number,
  ): Promise<T> {
    const policy = this.#options.retry ?? DEFAULT_RETRY_POLICY;
    const endMs = Date.now() + (req.deadlineMs ?? policy.deadlineMs);
    for (let attempts = 1; ; attempts += 1) {
      const attemptTimeoutMs = Math.min(timeoutMs, Math.max(1, endMs - Date.now()));
      try {
        return await attemptOnce(req, attempt, attemptTimeoutMs);
      } catch (error) {
        const waitMs = retryWaitMs(req, error, { attempts, policy, endMs });
        if (waitMs === undefined) throw gaveUp(error, attempts);
        await (this.#options.sleep ?? sleepUnlessAborted)(waitMs, req.signal ?? NEVER_ABORTED);
        if (req.signal?.aborted) throw abandoned(req, error);
      }
    }
  }

  /** Sends a request and returns the parsed JSON answer; throws on any error status. */
  async request<T>(req: KubeRequest): Promise<T> {
    const fence = this.#options.fence?.();
    if (fence === undefined) return this.#request(req);
    if (fence.aborted) throw new KubeRequestAbortedError(`${req.what}: refused by the fence`);
    const linked = new AbortController();
    const abort = () => linked.abort();
    fence.addEventListener('abort', abort, { once: true });
    req.signal?.addEventListener('abort', abort, { once: true });
    if (req.signal?.aborted) linked.abort();
    try {
      return await this.#request({ ...req, signal: linked.signal });
    } finally {
      fence.removeEventListener('abort', abort);
      req.signal?.removeEventListener('abort', abort);
    }
  }

  async #request<T>(req: KubeRequest): Promise<T> {
    const requestTimeoutMs = this.#options.requestTimeoutMs ?? 30_000;
    return this.#withRetries(
      req,
      async (signal) => {
        const response = await this.#open(req, signal);
        const text = await readBody(response).catch((error: unknown) => {
          throw new KubeConnectionError(`${req.what}: the answer broke off`, { cause: error });
        });
        const statusCode = response.statusCode ?? 0;
        this.#options.onRequest?.(req.verb, statusCode, req.path);
        if (statusCode >= 400) throw apiErrorOf(req, response, text);
        return (text === '' ? {} : JSON.parse(text)) as T;
      },
      requestTimeoutMs,
    );
  }

  /**
   * Opens a watch and yields its events until the server ends it, the connection breaks
   * (throws {@link KubeConnectionError}) or `signal` aborts (returns).
   */
  async *watch(req: Omit<KubeRequest, 'verb'>, signal: AbortSignal): AsyncGenerator<WatchEvent> {
    const watchRequest: KubeRequest = { ...req, verb: 'watch', signal };
    // Only opening the watch is retried here; a stream that breaks later is the caller's
    // to resume from its last resource version.
    const response = await this.#withRetries(
      watchRequest,
      async (attemptSignal) => {
        // The attempt's timeout covers the wait for the answer's headers, not the stream.
        const opened = new AbortController();
        const cancel = () => opened.abort();
        attemptSignal.addEventListener('abort', cancel, { once: true });
        signal.addEventListener('abort', cancel, { once: true });
        let answered: IncomingMessage;
        try {
          answered = await this.#open(watchRequest, opened.signal);
        } finally {
          attemptSignal.removeEventListener('abort', cancel);
        }
        const statusCode = answered.statusCode ?? 0;
        this.#options.onRequest?.('watch', statusCode, req.path);
        if (statusCode >= 400) {
          signal.removeEventListener('abort', cancel);
          throw apiErrorOf(watchRequest, answered, await readBody(answered).catch(() => ''));
        }
        answered.once('close', () => signal.removeEventListener('abort', cancel));
        return answered;
      },
      this.#options.requestTimeoutMs ?? 30_000,
    ).catch((error: unknown) => {
      // Stopped while opening: like a stop while streaming, the watch simply ends.
      if (error instanceof KubeRequestAbortedError) return undefined;
      throw error;
    });
    if (response === undefined) return;
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
