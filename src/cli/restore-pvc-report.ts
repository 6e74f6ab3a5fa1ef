/**
 * What `pgbackup restore --to-pvc` prints once its Restore has ended: the outcome, and how to
 * start each preset's PostgreSQL from the claim (short; docs/restore-in-cluster.md has the
 * manifests). Pure.
 */
import type { RestoreStatus } from '../api/index.js';

/** The status of a Restore that has ended. */
export type RestoreOutcome = RestoreStatus & { readonly phase: 'Succeeded' | 'Failed' };

/** The outcome, one `field: value` line each after the phase, those that are set. */
export function describeRestoreOutcome(name: string, outcome: RestoreOutcome): string {
  const { backup, reached, restoreSeconds, message } = outcome;
  const lines = [
    `restore.pgbackup.dev/${name} ${outcome.phase}`,
    ...(backup === undefined ? [] : [`backup: ${backup}`]),
    ...(reached?.lsn === undefined ? [] : [`reached: ${reached.lsn}`]),
    ...(reached?.lastTransactionTime === undefined
      ? []
      : [`last transaction: ${reached.lastTransactionTime}`]),
    ...(reached?.timeline === undefined ? [] : [`timeline: ${reached.timeline}`]),
    ...(restoreSeconds === undefined ? [] : [`restore time: ${restoreSeconds} s`]),
    ...(message === undefined ? [] : [`message: ${message}`]),
  ];
  return `${lines.join('\n')}\n`;
}

/** How to start each preset's PostgreSQL on the claim's `pgdata`. */
export function describeStartFromClaim(claim: string): string {
  return [
    '',
    `The claim ${claim} holds the data directory in its subdirectory pgdata, owned by user 65532`,
    'with mode 0700. Start PostgreSQL of the same major on it:',
    `  StatefulSet/Pod  mount ${claim}, PGDATA=<mount>/pgdata, runAsUser/fsGroup 65532 (or chown`,
    "                   it to the image's user first, in an init container)",
    `  Bitnami chart    primary.persistence.existingClaim=${claim},`,
    '                   postgresqlDataDir=/bitnami/postgresql/pgdata, volumePermissions.enabled=true',
    `  Crunchy PGO      spec.dataSource.volumes.pgDataVolume: {pvcName: ${claim}, directory: pgdata}`,
    '  CloudNativePG    cannot adopt a claim: a plain pod on it, then a Cluster with',
    '                   bootstrap.pg_basebackup from that pod',
    '  Zalando          a plain pod on it, then a standby cluster of it (standby_host), promoted',
    'Step by step, with manifests: docs/restore-in-cluster.md',
    '',
  ].join('\n');
}
