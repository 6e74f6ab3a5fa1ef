import { stringify } from 'yaml';
import { BACKUP_PLURAL, BACKUP_POLICY_PLURAL, GROUP } from '../group-version.js';
import { RESTORE_PLURAL } from '../restore.js';
import { buildRestoreCrd } from '../restore-crd.js';
import { buildBackupCrd, buildBackupPolicyCrd } from './crds.js';

/** A file the generator writes, relative to the repository root. */
export interface GeneratedFile {
  path: string;
  content: string;
}

const HEADER = '# Generated from the zod schemas in src/api by `npm run gen:crds`. Do not edit.\n';

/**
 * The CRD files exactly as committed under `crds/`, so a test can detect drift by comparing
 * text.
 */
export function renderCrdFiles(): GeneratedFile[] {
  return [
    { path: `crds/${BACKUP_POLICY_PLURAL}.${GROUP}.yaml`, crd: buildBackupPolicyCrd() },
    { path: `crds/${BACKUP_PLURAL}.${GROUP}.yaml`, crd: buildBackupCrd() },
    { path: `crds/${RESTORE_PLURAL}.${GROUP}.yaml`, crd: buildRestoreCrd() },
  ].map(({ path, crd }) => ({
    path,
    content: HEADER + stringify(crd, { lineWidth: 0 }),
  }));
}
