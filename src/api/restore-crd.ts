import {
  buildCustomResourceDefinition,
  type CustomResourceDefinition,
} from './crd/custom-resource-definition.js';
import { RESTORE_KIND, RESTORE_PLURAL } from './restore.js';
import { restoreSpecSchema } from './restore-spec.js';
import { restoreStatusSchema } from './restore-status.js';

/** The CRD of `Restore`. */
export function buildRestoreCrd(): CustomResourceDefinition {
  return buildCustomResourceDefinition({
    kind: RESTORE_KIND,
    plural: RESTORE_PLURAL,
    singular: 'restore',
    shortNames: ['pgr'],
    description:
      'A Restore restores a binary backup of a BackupPolicy, or an instant of its continuous protection, into a PersistentVolumeClaim, with a Job the controller starts; any PostgreSQL image can then start from the claim.',
    spec: restoreSpecSchema,
    status: restoreStatusSchema,
    printerColumns: [
      {
        name: 'Policy',
        type: 'string',
        jsonPath: '.spec.policy',
        description: 'The BackupPolicy.',
      },
      {
        name: 'Phase',
        type: 'string',
        jsonPath: '.status.phase',
        description: 'Pending, Running, Succeeded or Failed.',
      },
      {
        name: 'Backup',
        type: 'string',
        jsonPath: '.status.backup',
        description: 'The key of the backup restored.',
      },
      {
        name: 'Target',
        type: 'string',
        jsonPath: '.status.reached.lastTransactionTime',
        description: 'Point in time: when the last transaction recovery replayed committed.',
      },
      {
        name: 'PVC',
        type: 'string',
        jsonPath: '.spec.pvc.name',
        description: 'The claim restored into.',
      },
      {
        name: 'Duration',
        type: 'number',
        jsonPath: '.status.restoreSeconds',
        description: 'How long the restore took, in seconds.',
      },
    ],
  });
}
