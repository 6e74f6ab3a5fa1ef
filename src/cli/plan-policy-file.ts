/** Reading the BackupPolicy that `pgbackup plan` previews. */
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { type BackupPolicy, formatIssues, parseBackupPolicy } from '../api/index.js';
import { UsageError } from './command.js';

function nameOf(doc: unknown): string | undefined {
  if (typeof doc !== 'object' || doc === null || !('metadata' in doc)) {
    return undefined;
  }
  const { metadata } = doc;
  if (typeof metadata !== 'object' || metadata === null || !('name' in metadata)) {
    return undefined;
  }
  return typeof metadata.name === 'string' ? metadata.name : undefined;
}

function kindOf(doc: unknown): unknown {
  return typeof doc === 'object' && doc !== null && 'kind' in doc ? doc.kind : undefined;
}

/**
 * The one BackupPolicy document of a manifest: a file may hold other objects too (Secrets,
 * say), as files given to `kubectl apply -f` often do.
 */
function selectPolicyDocument(file: string, docs: readonly unknown[]): unknown {
  const policies = docs.filter((doc) => kindOf(doc) === 'BackupPolicy');
  const [only] = policies.length === 0 && docs.length === 1 ? docs : policies;
  if (only === undefined || policies.length > 1) {
    throw new UsageError(
      `${file} holds ${policies.length} BackupPolicy documents; give a file with exactly one`,
    );
  }
  return only;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UsageError(`cannot read the policy file: ${reason}`, { cause: error });
  }
}

/**
 * Reads and validates the BackupPolicy in a YAML (or JSON) file, applying its defaults.
 *
 * @throws UsageError when the file cannot be read, is not YAML, or is not a valid policy; the
 *   message then carries the API's validation messages, each naming the field.
 */
export async function readPolicyFile(file: string): Promise<BackupPolicy> {
  const list = parseAllDocuments(await readText(file));
  const broken = list.flatMap((document) => document.errors);
  if (broken.length > 0) {
    throw new UsageError(
      `${file} is not valid YAML: ${broken.map((error) => error.message).join('; ')}`,
    );
  }
  const doc = selectPolicyDocument(
    file,
    list.map((document) => document.toJS() as unknown).filter((value) => value != null),
  );
  const parsed = parseBackupPolicy(doc);
  if (!parsed.ok) {
    const issues = formatIssues('BackupPolicy', nameOf(doc), parsed.issues);
    throw new UsageError(`${file} is not a valid BackupPolicy:\n${issues}`);
  }
  return parsed.value;
}
