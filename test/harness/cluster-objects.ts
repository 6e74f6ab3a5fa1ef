/**
 * Objects tests put into the control plane the way a user would: applied with kubectl,
 * Secrets holding the environment's credentials, and PostgreSQL pods that stand for the
 * environment's real servers (there is no kubelet, so tests report them Running themselves).
 */
import { stringify } from 'yaml';
import { fixtureYaml } from './fixtures.js';
import { runKubectl } from './kube.js';
import { requireEnv } from './variables.js';

/** Runs kubectl as the admin and returns its output; a non-zero exit throws. */
export async function kubectl(args: string[], input?: string): Promise<string> {
  const result = await runKubectl(args, input === undefined ? {} : { input });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** `kubectl apply` of objects into a namespace. */
export async function kubectlApply(namespace: string, objects: readonly unknown[]): Promise<void> {
  const input = objects.map((object) => stringify(object)).join('---\n');
  await kubectl(['apply', '-n', namespace, '-f', '-'], input);
}

/** A Secret with string data. */
export function secretObject(name: string, data: Record<string, string>) {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: data };
}

/**
 * The three Secrets the `orders` policy fixtures name, holding the environment's superuser,
 * replication and S3 credentials.
 */
export function environmentSecrets() {
  return [
    secretObject('orders-superuser', {
      username: requireEnv('PGUSER'),
      password: requireEnv('PGPASSWORD'),
    }),
    secretObject('orders-replication', {
      username: requireEnv('PGBACKUP_REPLICATION_USER'),
      password: requireEnv('PGBACKUP_REPLICATION_PASSWORD'),
    }),
    secretObject('orders-s3', {
      accessKeyId: requireEnv('AWS_ACCESS_KEY_ID'),
      secretAccessKey: requireEnv('AWS_SECRET_ACCESS_KEY'),
    }),
  ];
}

/**
 * Creates the pod of a fixture file, named after `address` (`host:port` of one of the
 * environment's servers) with `labels` added, and reports it Running at that host's IP.
 */
export async function createPostgresPod(
  namespace: string,
  pod: { fixture: string; address: string; labels?: Record<string, string> },
): Promise<void> {
  const object = fixtureYaml<{ metadata: { name: string; labels: Record<string, string> } }>(
    pod.fixture,
  );
  const ip = pod.address.split(':')[0] ?? '';
  object.metadata.name = `pg-${ip.replaceAll('.', '-')}`;
  Object.assign(object.metadata.labels, pod.labels);
  await kubectlApply(namespace, [object]);
  const status = { status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] } };
  await kubectl([
    'patch',
    'pod',
    object.metadata.name,
    '-n',
    namespace,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify(status),
  ]);
}
