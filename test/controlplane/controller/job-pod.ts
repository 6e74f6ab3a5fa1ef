/**
 * A Job's runner pod, played by the test: the container's own arguments, the environment its
 * Secret references resolve to, and the runner service account the controller made, so what
 * runs is exactly what the controller wrote.
 */
import { writeKubeConfigFile } from '../../harness/controller-process.js';
import { serviceAccountKubeConfig } from '../../harness/kube.js';
import { type RunOutcome, runEnvironment, startPgbackupRun } from '../../harness/pgbackup-run.js';
import type { ControllerTestEnv } from './controller-setup.js';

interface EnvVar {
  name: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

interface JobSpec {
  template: { spec: { containers: { args: string[]; env?: EnvVar[] }[] } };
}

/** The environment variables of a container, with its Secret references resolved. */
async function containerEnv(env: ControllerTestEnv, vars: readonly EnvVar[]) {
  const resolved: Record<string, string> = {};
  for (const variable of vars) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref === undefined) continue;
    const found = await env.client.request<{ data: Record<string, string> }>({
      verb: 'get',
      path: `/api/v1/namespaces/${env.namespace}/secrets/${ref.name}`,
      what: 'get Secret',
    });
    resolved[variable.name] = Buffer.from(found.data[ref.key] ?? '', 'base64').toString();
  }
  return resolved;
}

/**
 * Runs a Job's `pgbackup run` container as its pod would, as the policy `orders`'s runner
 * service account.
 */
export async function runLikeThePod(env: ControllerTestEnv, jobSpec: unknown): Promise<RunOutcome> {
  const container = (jobSpec as JobSpec).template.spec.containers[0];
  if (container === undefined) throw new Error('the Job has no container');
  const [command, ...args] = container.args;
  if (command !== 'run') throw new Error(`the Job runs "${command}", not "run"`);
  const runner = await serviceAccountKubeConfig(env.admin, {
    namespace: env.namespace,
    name: 'orders-runner',
  });
  return startPgbackupRun(
    args,
    runEnvironment({
      ...(await containerEnv(env, container.env ?? [])),
      KUBECONFIG: writeKubeConfigFile(runner),
    }),
  ).outcome;
}
