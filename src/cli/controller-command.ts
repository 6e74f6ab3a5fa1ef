/**
 * `pgbackup controller`: the command the Helm chart's Deployment runs. Wires the kubeconfig,
 * the logger, the controller and its HTTP endpoints, and shuts down cleanly on SIGTERM or
 * SIGINT (the leader releases its Lease so a standby takes over at once).
 */
import { pino } from 'pino';
import { Controller, serveEndpoints } from '../controller/index.js';
import { DEFAULT_QUEUE_BACKOFF, type KubeConnection, loadKubeConnection } from '../kube/index.js';
import { DEFAULT_RUN_SETTINGS, drillImageOf } from '../render/index.js';
import { createPolicySlotAccess } from '../runner/policy-replication-slot.js';
import type { Command } from './command.js';
import {
  CONTROLLER_USAGE,
  type ControllerArguments,
  parseControllerArguments,
} from './controller-arguments.js';

/**
 * The images of backup runs and of restore drills, from the flags, the environment, or the
 * defaults. A runner image named by digest has no drill image to derive: the drills then use
 * the runner image (and say that it has no server) unless --verify-image names one.
 */
export function imagesOf(
  options: Pick<ControllerArguments, 'runnerImage' | 'verifyImage'>,
  env: NodeJS.ProcessEnv,
): { defaultImage: string; verifyImage: string } {
  const defaultImage =
    options.runnerImage ?? env.PGBACKUP_RUNNER_IMAGE ?? DEFAULT_RUN_SETTINGS.defaultImage;
  const verifyImage =
    options.verifyImage ?? env.PGBACKUP_VERIFY_IMAGE ?? drillImageOf(defaultImage) ?? defaultImage;
  return { defaultImage, verifyImage };
}

function controllerOf(
  options: ControllerArguments,
  connection: KubeConnection,
  log: pino.Logger,
): Controller {
  return new Controller({
    connection,
    namespaces: options.namespaces,
    settings: {
      ...DEFAULT_RUN_SETTINGS,
      ...imagesOf(options, process.env),
      runDeadlineSeconds: options.runDeadlineSeconds,
    },
    resyncMs: options.resyncSeconds * 1000,
    watchdogMs: options.watchdogSeconds * 1000,
    workers: options.workers,
    leaderElection: {
      namespace: options.leaseNamespace ?? process.env.POD_NAMESPACE ?? 'default',
      name: options.leaseName,
      identity: options.identity,
      leaseDurationMs: options.leaseDurationSeconds * 1000,
      renewDeadlineMs: options.renewDeadlineSeconds * 1000,
      retryPeriodMs: options.retryPeriodSeconds * 1000,
    },
    queueBackoff: DEFAULT_QUEUE_BACKOFF,
    log,
    now: () => new Date(),
    slotAccess: createPolicySlotAccess,
  });
}

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => resolve(signal);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

/** Runs the controller until SIGTERM or SIGINT; exits 0 after a clean shutdown. */
export const runControllerCommand: Command = async (argv, io) => {
  const options = parseControllerArguments(argv);
  if (options === 'help') {
    io.stdout.write(CONTROLLER_USAGE);
    return 0;
  }
  const log = pino({ base: { identity: options.identity } }, io.stdout);
  const connection = await loadKubeConnection(process.env, options.kubeconfig, '--kubeconfig');
  const controller = controllerOf(options, connection, log);
  const endpoints = await serveEndpoints(options.metricsAddress, {
    registry: controller.metrics.registry,
    ready: () => controller.ready,
  });
  log.info({ address: endpoints.address }, 'serving /metrics, /healthz and /readyz');
  const signalled = untilSignal();
  await controller.start();
  const signal = await signalled;
  log.info({ signal }, 'shutting down');
  await controller.stop();
  await endpoints.close();
  log.info('stopped');
  return 0;
};
