import { backupPolicySpecSchema } from '../backup-policy-spec.js';
import { backupPolicyStatusSchema } from '../backup-policy-status.js';
import { backupSpecSchema } from '../backup-spec.js';
import { backupStatusSchema } from '../backup-status.js';
import {
  BACKUP_KIND,
  BACKUP_PLURAL,
  BACKUP_POLICY_KIND,
  BACKUP_POLICY_PLURAL,
} from '../group-version.js';
import {
  buildCustomResourceDefinition,
  type CustomResourceDefinition,
} from './custom-resource-definition.js';

/** The CRD of `BackupPolicy`. */
export function buildBackupPolicyCrd(): CustomResourceDefinition {
  return buildCustomResourceDefinition({
    kind: BACKUP_POLICY_KIND,
    plural: BACKUP_POLICY_PLURAL,
    singular: 'backuppolicy',
    shortNames: ['bp'],
    description:
      'A BackupPolicy is the backup plan of one PostgreSQL cluster: binary backups of the primary and logical backups of a replica, taken on a calendar, stored in S3 and rotated through fixed retention slots.',
    spec: backupPolicySpecSchema,
    status: backupPolicyStatusSchema,
    printerColumns: [
      {
        name: 'Ready',
        type: 'string',
        jsonPath: '.status.conditions[?(@.type=="Ready")].status',
        description: 'Whether the policy is valid and its CronJobs are in place.',
      },
      {
        name: 'WAL',
        type: 'string',
        jsonPath: '.status.conditions[?(@.type=="Continuous")].reason',
        description:
          'Continuous protection: Streaming, or why not (Lagging, Gap, SlotLost, NoPrimary, Starting, ReceiverDown, Suspended); empty while it is disabled.',
      },
      {
        name: 'Last Backup',
        type: 'date',
        jsonPath: '.status.lastBackupTime',
        description: 'When the newest successful backup finished.',
      },
      {
        name: 'Next Backup',
        type: 'date',
        jsonPath: '.status.nextBackupTime',
        description: 'When the next backup is scheduled.',
      },
    ],
  });
}

/** The CRD of `Backup`. */
export function buildBackupCrd(): CustomResourceDefinition {
  return buildCustomResourceDefinition({
    kind: BACKUP_KIND,
    plural: BACKUP_PLURAL,
    singular: 'backup',
    shortNames: ['pgb'],
    description:
      'A Backup records one backup of a BackupPolicy, taken for a retention line or on demand. Create one with a policy and a type to take an on-demand backup.',
    spec: backupSpecSchema,
    status: backupStatusSchema,
    printerColumns: [
      { name: 'Type', type: 'string', jsonPath: '.spec.type', description: 'binary or logical.' },
      {
        name: 'Line',
        type: 'string',
        jsonPath: '.spec.line',
        description: 'Retention line; empty for on-demand backups.',
      },
      {
        name: 'Slot',
        type: 'string',
        jsonPath: '.status.slotLabel',
        description: 'Slot the backup occupies.',
      },
      {
        name: 'Phase',
        type: 'string',
        jsonPath: '.status.phase',
        description: 'Where the backup is.',
      },
      {
        name: 'Size',
        type: 'integer',
        jsonPath: '.status.sizeBytes',
        description: 'Stored size in bytes.',
      },
      {
        name: 'Started',
        type: 'date',
        jsonPath: '.status.startedAt',
        description: 'When the run started.',
      },
    ],
  });
}
