/**
 * The local executor: plays the kubelet for the pods the real Job controller creates, on a
 * control plane that has no scheduler and no kubelet. It registers a Node, binds the pending
 * pods of Jobs in one namespace to it, and runs each pod's container as a local process of
 * the built operator, with the pod's environment (Secrets and ConfigMaps read through the
 * API), its service account's token (a TokenRequest bound to the pod, so the process works
 * under its real RBAC), and its volumes mapped to local directories. It reports the pod's
 * phase and container state, so the Job controller completes (or fails) the Job.
 *
 * Each pod's stdout and stderr go to `<workDir>/logs/<namespace>_<pod>.log` (`kubectl logs`
 * does not work: nothing serves it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { isNotFound, type KubeClient } from '../../../src/kube/index.js';
import { EXECUTOR_NODE_IP, type ExecutorNode, registerExecutorNode } from './executor-node.js';
import { ContainerConfigError, type DataLookup, resolveContainerEnv } from './pod-env.js';
import {
  apiServerAddressOf,
  localArguments,
  localEnvironment,
  type MappedMount,
  mapVolumeMounts,
} from './pod-paths.js';
import {
  exitCodeOf,
  logTail,
  type ProcessEnd,
  runningStatus,
  terminatedStatus,
  waitingStatus,
} from './pod-status.js';
import { writeProjectedVolumes } from './projected-volume.js';

/** How the executor is set up. */
export interface LocalExecutorOptions {
  /** A client with the rights of a kubelet and a scheduler (the admin, in tests). */
  readonly client: KubeClient;
  /** The API server's URL, given to the pods as the `kubernetes` Service. */
  readonly apiServer: string;
  /** The namespace whose Job pods it runs. */
  readonly namespace: string;
  /** The Node's name; unique per executor running at the same time. */
  readonly nodeName: string;
  /** Pod directories, claims and logs go under here. */
  readonly workDir: string;
  /** The built operator's entrypoint (see `ensureBuiltOperator`). */
  readonly operatorMain: string;
  readonly pollIntervalMs?: number;
}

/** A pod the executor ran to the end. */
export interface FinishedPod {
  readonly namespace: string;
  readonly name: string;
  readonly exitCode: number;
  readonly logFile: string;
}

/** A running executor. */
export interface LocalExecutor {
  readonly nodeName: string;
  readonly logDir: string;
  /** The pods run to the end so far, in the order they ended. */
  finished(): readonly FinishedPod[];
  /** The log of a pod (its stdout and stderr). */
  logOf(podName: string): string;
  /** What went wrong in the executor itself (API errors, config errors), newest last. */
  problems(): readonly string[];
  /** Stops polling, terminates running pods' processes, and removes the Node. */
  stop(): Promise<void>;
}

interface Tracked {
  child?: ChildProcess;
  /** The running pod's directory, and when its projected volumes are due to be written again. */
  podDir?: string;
  refreshAtMs?: number;
  /** A pod that could not be configured is retried after this instant. */
  retryAtMs?: number;
  /** How its process ended, until the pod's status says so. */
  end?: ProcessEnd;
  /** Its process ended and the end was reported: never run it again. */
  done?: boolean;
}

/** A pod's container as a local process. */
interface PreparedProcess {
  readonly args: string[];
  readonly env: Record<string, string>;
  readonly cwd: string;
  readonly fallbackToLogs: boolean;
}

/** Pods a Job controls; others in the namespace (the stand-in PostgreSQL pods) are left alone. */
function isJobPod(pod: V1Pod): boolean {
  return (pod.metadata?.ownerReferences ?? []).some((ref) => ref.kind === 'Job' && ref.controller);
}

/**
 * How often a running pod's projected volumes are written again: the kubelet refreshes a
 * token at 80 % of its lifetime (an hour), so a run longer than that keeps a valid token.
 */
const PROJECTED_REFRESH_MS = 45 * 60_000;

function dataLookup(client: KubeClient, namespace: string): DataLookup {
  return async (kind, name) => {
    const plural = kind === 'Secret' ? 'secrets' : 'configmaps';
    const object = await client
      .request<{ data?: Record<string, string> }>({
        verb: 'get',
        path: `/api/v1/namespaces/${namespace}/${plural}/${name}`,
        what: `get ${kind} ${namespace}/${name}`,
      })
      .catch((error: unknown) => {
        if (isNotFound(error)) return undefined;
        throw error;
      });
    if (object === undefined) return undefined;
    const data = object.data ?? {};
    if (kind === 'ConfigMap') return data;
    return Object.fromEntries(
      Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString()]),
    );
  };
}

function onlyContainer(pod: V1Pod): V1Container {
  const containers = pod.spec?.containers ?? [];
  const [container] = containers;
  if (container === undefined || containers.length > 1 || pod.spec?.initContainers?.length) {
    throw new ContainerConfigError(
      'the local executor runs pods with exactly one container and no init containers',
    );
  }
  return container;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

class Executor implements LocalExecutor {
  readonly logDir: string;
  readonly #options: LocalExecutorOptions;
  readonly #client: KubeClient;
  readonly #lookup: DataLookup;
  readonly #tracked = new Map<string, Tracked>();
  readonly #finished: FinishedPod[] = [];
  readonly #problems: string[] = [];
  #node: ExecutorNode | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> = Promise.resolve();
  #stopped = false;
  /** Reports of ended processes still being sent. */
  readonly #finishing = new Set<Promise<void>>();

  constructor(options: LocalExecutorOptions) {
    this.#options = options;
    this.#client = options.client;
    this.#lookup = dataLookup(options.client, options.namespace);
    this.logDir = join(options.workDir, 'logs');
    mkdirSync(this.logDir, { recursive: true });
  }

  get nodeName(): string {
    return this.#options.nodeName;
  }

  async start(): Promise<void> {
    this.#node = await registerExecutorNode(this.#client, {
      name: this.nodeName,
      labels: { 'kubernetes.io/hostname': this.nodeName, 'pgbackup.dev/local-executor': 'true' },
      onProblem: (message) => this.#problem(message),
    });
    const interval = this.#options.pollIntervalMs ?? 300;
    const loop = () => {
      if (this.#stopped) return;
      this.#ticking = this.#tick()
        .catch((error: unknown) => this.#problem(`poll: ${String(error)}`))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(loop, interval);
        });
    };
    loop();
  }

  finished(): readonly FinishedPod[] {
    return this.#finished;
  }

  problems(): readonly string[] {
    return this.#problems;
  }

  logOf(podName: string): string {
    try {
      return readFileSync(this.#logFile(podName), 'utf8');
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#ticking;
    const children = [...this.#tracked.values()].flatMap((entry) => entry.child ?? []);
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map(exited));
    await Promise.all(this.#finishing);
    await this.#node?.remove();
  }

  #logFile(podName: string): string {
    return join(this.logDir, `${this.#options.namespace}_${podName}.log`);
  }

  #problem(message: string): void {
    this.#problems.push(`${new Date().toISOString()} ${message}`);
    appendFileSync(join(this.logDir, 'executor.log'), `${message}\n`);
  }

  #podPath(pod: V1Pod, sub = ''): string {
    return `/api/v1/namespaces/${this.#options.namespace}/pods/${pod.metadata?.name}${sub}`;
  }

  async #tick(): Promise<void> {
    const list = await this.#client.request<{ items: V1Pod[] }>({
      verb: 'list',
      path: `/api/v1/namespaces/${this.#options.namespace}/pods`,
      what: `list pods in ${this.#options.namespace}`,
    });
    for (const pod of list.items.filter(isJobPod)) {
      const nodeName = pod.spec?.nodeName;
      if (nodeName === undefined || nodeName === '') {
        if (pod.metadata?.deletionTimestamp === undefined) await this.#bind(pod);
      } else if (nodeName === this.nodeName) {
        await this.#sync(pod);
      }
    }
  }

  /** What the scheduler would do: put the pod on this node. */
  async #bind(pod: V1Pod): Promise<void> {
    await this.#client.request({
      verb: 'create',
      path: this.#podPath(pod, '/binding'),
      body: {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: pod.metadata?.name },
        target: { apiVersion: 'v1', kind: 'Node', name: this.nodeName },
      },
      what: `bind pod ${pod.metadata?.name} to ${this.nodeName}`,
    });
  }

  async #sync(pod: V1Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const tracked = this.#tracked.get(uid);
    if (pod.metadata?.deletionTimestamp !== undefined) {
      if (tracked?.child !== undefined) {
        this.#terminate(tracked.child, pod.spec?.terminationGracePeriodSeconds ?? 30);
      } else {
        await this.#forget(pod);
      }
      return;
    }
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    if (tracked?.child !== undefined) {
      await this.#refreshProjected(pod, tracked);
      return;
    }
    if (tracked?.done) return;
    if (tracked?.end !== undefined) {
      await this.#finish(pod, tracked);
      return;
    }
    if ((tracked?.retryAtMs ?? 0) > Date.now()) return;
    if (tracked === undefined && phase === 'Running') {
      // Running here before this executor started: its process is gone.
      await this.#report(pod, terminatedStatus(pod, this.#lostProcess()));
      return;
    }
    await this.#run(pod);
  }

  async #refreshProjected(pod: V1Pod, tracked: Tracked): Promise<void> {
    if (tracked.podDir === undefined || (tracked.refreshAtMs ?? 0) > Date.now()) return;
    tracked.refreshAtMs = Date.now() + PROJECTED_REFRESH_MS;
    await writeProjectedVolumes(this.#client, pod, join(tracked.podDir, 'volumes'), this.#lookup);
  }

  #lostProcess() {
    const now = new Date().toISOString();
    return {
      exitCode: 137,
      signal: null,
      startedAt: now,
      finishedAt: now,
      message: 'the local executor that ran this pod stopped',
    };
  }

  #terminate(child: ChildProcess, graceSeconds: number): void {
    if (child.killed) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceSeconds * 1000);
    void exited(child).then(() => clearTimeout(timer));
  }

  /** The kubelet's last word on a deleted pod: delete it for good. */
  async #forget(pod: V1Pod): Promise<void> {
    this.#tracked.delete(pod.metadata?.uid ?? '');
    await this.#client
      .request({
        verb: 'delete',
        path: this.#podPath(pod),
        query: { gracePeriodSeconds: '0' },
        body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 },
        what: `delete pod ${pod.metadata?.name}`,
      })
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
  }

  async #report(pod: V1Pod, patch: unknown): Promise<void> {
    await this.#client.request({
      verb: 'patch',
      path: this.#podPath(pod, '/status'),
      contentType: 'application/strategic-merge-patch+json',
      body: patch,
      what: `report the status of pod ${pod.metadata?.name}`,
    });
  }

  async #prepare(pod: V1Pod, podDir: string): Promise<PreparedProcess> {
    const container = onlyContainer(pod);
    const containerEnv = await resolveContainerEnv(pod, container, this.#lookup);
    const mounts: MappedMount[] = mapVolumeMounts(pod, container, {
      podDir,
      claimsDir: join(this.#options.workDir, 'claims'),
    });
    for (const mount of mounts) await mkdir(mount.localPath, { recursive: true, mode: 0o700 });
    await writeProjectedVolumes(this.#client, pod, join(podDir, 'volumes'), this.#lookup);
    const home = join(podDir, 'home');
    await mkdir(home, { recursive: true, mode: 0o700 });
    return {
      args: localArguments(container, containerEnv, mounts),
      env: localEnvironment({
        pod,
        containerEnv,
        mounts,
        apiServer: apiServerAddressOf(this.#options.apiServer),
        home,
        path: process.env.PATH ?? '/usr/bin:/bin',
      }),
      cwd: home,
      fallbackToLogs: container.terminationMessagePolicy === 'FallbackToLogsOnError',
    };
  }

  async #run(pod: V1Pod): Promise<void> {
    const name = pod.metadata?.name ?? '';
    const uid = pod.metadata?.uid ?? '';
    const podDir = join(this.#options.workDir, 'pods', `${name}-${uid.slice(0, 8)}`);
    const entry: Tracked = {};
    this.#tracked.set(uid, entry);
    let prepared: PreparedProcess;
    try {
      prepared = await this.#prepare(pod, podDir);
    } catch (error) {
      if (!(error instanceof ContainerConfigError)) throw error;
      this.#problem(`pod ${name}: ${error.message}`);
      entry.retryAtMs = Date.now() + 2_000;
      await this.#report(pod, waitingStatus(pod, 'CreateContainerConfigError', error.message));
      return;
    }
    const logFile = this.#logFile(name);
    const fd = openSync(logFile, 'a', 0o600);
    const startedAt = new Date().toISOString();
    const child = spawn(process.execPath, [this.#options.operatorMain, ...prepared.args], {
      cwd: prepared.cwd,
      env: prepared.env,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    entry.child = child;
    entry.podDir = podDir;
    entry.refreshAtMs = Date.now() + PROJECTED_REFRESH_MS;
    child.once('error', (error) => this.#problem(`pod ${name}: ${error.message}`));
    // Listen before anything is awaited: a process that fails at once may exit meanwhile.
    const running = this.#report(pod, runningStatus(pod, startedAt, EXECUTOR_NODE_IP));
    child.once('exit', (exitCode, signal) => {
      delete entry.child;
      entry.end = {
        exitCode,
        signal,
        startedAt,
        finishedAt: new Date().toISOString(),
        ...(prepared.fallbackToLogs && exitCode !== 0
          ? { message: logTail(this.logOf(name)) }
          : {}),
      };
      // The end is reported after the start, whether or not the start's report got through
      // (its failure is the poll's to record).
      const finishing = running
        .catch(() => undefined)
        .then(() => this.#finish(pod, entry))
        .catch((error: unknown) => this.#problem(`pod ${name}: ${String(error)}`));
      this.#finishing.add(finishing);
      void finishing.finally(() => this.#finishing.delete(finishing));
    });
    await running;
  }

  /**
   * Reports how the pod's process ended (retried by the next poll if the API server refuses)
   * and removes its volumes: the token and scratch space die with the container; the log and
   * claims stay.
   */
  async #finish(pod: V1Pod, entry: Tracked): Promise<void> {
    const end = entry.end;
    if (end === undefined || entry.done) return;
    await this.#report(pod, terminatedStatus(pod, end)).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
    if (entry.done) return;
    entry.done = true;
    if (entry.podDir !== undefined) await rm(entry.podDir, { recursive: true, force: true });
    const name = pod.metadata?.name ?? '';
    this.#finished.push({
      namespace: this.#options.namespace,
      name,
      exitCode: exitCodeOf(end),
      logFile: this.#logFile(name),
    });
  }
}

/** Registers the executor's Node and starts running the namespace's Job pods. */
export async function startLocalExecutor(options: LocalExecutorOptions): Promise<LocalExecutor> {
  const executor = new Executor(options);
  await executor.start();
  return executor;
}
