/** The command line of `pgbackup controller`. */
import { hostname } from 'node:os';
import { parseOptions, UsageError } from './command.js';

/** How `pgbackup controller` is called. */
export const CONTROLLER_USAGE = `usage: pgbackup controller [options]

Runs the controller: turns BackupPolicies into CronJobs, keeps their status, starts
on-demand Backups. One replica leads (a Lease); the others wait to take over.

options:
      --kubeconfig FILE            kubeconfig to use (default: $KUBECONFIG, else the pod's
                                   service account, else ~/.kube/config)
      --namespaces NS[,NS…]        namespaces to watch (default: all)
      --metrics-address HOST:PORT  /metrics, /healthz and /readyz (default 0.0.0.0:8080)
      --runner-image IMAGE         image of the backup runs (default: $PGBACKUP_RUNNER_IMAGE)
      --verify-image IMAGE         image of the restore drills, with the PostgreSQL servers
                                   (default: $PGBACKUP_VERIFY_IMAGE, else the runner image's
                                   tag + "-drill")
      --lease-namespace NS         namespace of the leader Lease (default: $POD_NAMESPACE or default)
      --lease-name NAME            name of the leader Lease (default pgbackup-operator)
      --identity ID                this replica's identity (default: the host name and a random suffix)
      --lease-duration-seconds N   how long a silent leader keeps the Lease (default 15)
      --renew-deadline-seconds N   how long a leader may fail to renew before stepping down (default 10)
      --retry-period-seconds N     how often to renew or try to take the Lease (default 2)
      --resync-seconds N           reconcile every policy this often (default 300)
      --watchdog-seconds N         restart a watch silent this long (default 120)
      --workers N                  policies reconciled at once (default 4)
      --run-deadline-seconds N     longest a backup run may take (default 82800, 23 hours)
  -h, --help                       show this help
`;

/** The options of one `pgbackup controller` invocation. */
export interface ControllerArguments {
  readonly kubeconfig: string | undefined;
  readonly namespaces: string[];
  readonly metricsAddress: string;
  readonly runnerImage: string | undefined;
  readonly verifyImage: string | undefined;
  readonly leaseNamespace: string | undefined;
  readonly leaseName: string;
  readonly identity: string;
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineSeconds: number;
  readonly retryPeriodSeconds: number;
  readonly resyncSeconds: number;
  readonly watchdogSeconds: number;
  readonly workers: number;
  readonly runDeadlineSeconds: number;
}

const NUMBERS = {
  'lease-duration-seconds': '15',
  'renew-deadline-seconds': '10',
  'retry-period-seconds': '2',
  'resync-seconds': '300',
  'watchdog-seconds': '120',
  workers: '4',
  'run-deadline-seconds': '82800',
} as const;

const OPTIONS = {
  kubeconfig: { type: 'string' },
  namespaces: { type: 'string', default: '' },
  'metrics-address': { type: 'string', default: '0.0.0.0:8080' },
  'runner-image': { type: 'string' },
  'verify-image': { type: 'string' },
  'lease-namespace': { type: 'string' },
  'lease-name': { type: 'string', default: 'pgbackup-operator' },
  identity: { type: 'string' },
  ...Object.fromEntries(
    Object.entries(NUMBERS).map(([name, value]) => [name, { type: 'string', default: value }]),
  ),
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function positiveNumber(values: Record<string, unknown>, name: keyof typeof NUMBERS): number {
  const text = String(values[name] ?? NUMBERS[name]);
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--${name} "${text}" is not a positive number`);
  }
  return value;
}

/** Parses the arguments, or returns 'help'. */
export function parseControllerArguments(argv: readonly string[]): ControllerArguments | 'help' {
  const values: Record<string, unknown> = parseOptions(argv, OPTIONS, CONTROLLER_USAGE);
  if (values.help === true) return 'help';
  const text = (name: string) =>
    typeof values[name] === 'string' ? (values[name] as string) : undefined;
  return {
    kubeconfig: text('kubeconfig'),
    namespaces: (text('namespaces') ?? '')
      .split(',')
      .map((namespace) => namespace.trim())
      .filter(Boolean),
    metricsAddress: text('metrics-address') ?? '0.0.0.0:8080',
    runnerImage: text('runner-image'),
    verifyImage: text('verify-image'),
    leaseNamespace: text('lease-namespace'),
    leaseName: text('lease-name') ?? 'pgbackup-operator',
    identity: text('identity') ?? `${hostname()}-${Math.random().toString(36).slice(2, 8)}`,
    leaseDurationSeconds: positiveNumber(values, 'lease-duration-seconds'),
    renewDeadlineSeconds: positiveNumber(values, 'renew-deadline-seconds'),
    retryPeriodSeconds: positiveNumber(values, 'retry-period-seconds'),
    resyncSeconds: positiveNumber(values, 'resync-seconds'),
    watchdogSeconds: positiveNumber(values, 'watchdog-seconds'),
    workers: Math.floor(positiveNumber(values, 'workers')),
    runDeadlineSeconds: Math.floor(positiveNumber(values, 'run-deadline-seconds')),
  };
}
