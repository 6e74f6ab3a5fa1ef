/**
 * The public keys a run encrypts for: `spec.storage.encryption.recipients` resolved into age
 * recipients and the fingerprints manifests record. Inline keys are used as written; a
 * Secret's or ConfigMap's key is read through a {@link RecipientReader} (the API, with the
 * runner's own service account) and may hold several keys, one a line, as `age -R` reads them.
 * Errors name the field, the object and its key, never a key's text.
 */
import type { EncryptionSpec, RecipientSpec } from '../api/index.js';
import { type AgeRecipient, parseRecipients, toAgeRecipient } from '../encryption/index.js';
import type { KubeClient } from '../kube/kube-client.js';
import { RESOURCES, resourcePath } from '../kube/resource.js';
import { readSecretKeys } from './cluster-sources.js';
import { RunError } from './errors.js';

/** What a run encrypts for. */
export interface ResolvedRecipients {
  /** Every distinct recipient, in the policy's order. */
  readonly recipients: readonly AgeRecipient[];
  /** Their fingerprints, as `manifest.encryption.recipients` and WAL metadata record them. */
  readonly fingerprints: readonly string[];
}

/** Reads a key of a Secret or ConfigMap in the policy's namespace. */
export interface RecipientReader {
  /** Where the objects are read, for messages (`namespace orders`). */
  readonly namespace: string;
  /** The data of the object, decoded; rejects when it cannot be read (not found, forbidden). */
  readData(kind: 'Secret' | 'ConfigMap', name: string): Promise<Readonly<Record<string, string>>>;
}

const FIELD = 'spec.storage.encryption.recipients';

/** The reference of a recipient entry, if it is not inline. */
function referenceOf(
  recipient: RecipientSpec,
): { kind: 'Secret' | 'ConfigMap'; field: string; name: string; key: string } | undefined {
  if (recipient.secretKeyRef !== undefined) {
    return { kind: 'Secret', field: 'secretKeyRef', ...recipient.secretKeyRef };
  }
  if (recipient.configMapKeyRef !== undefined) {
    return { kind: 'ConfigMap', field: 'configMapKeyRef', ...recipient.configMapKeyRef };
  }
  return undefined;
}

async function resolveEntry(
  recipient: RecipientSpec,
  index: number,
  reader: RecipientReader | undefined,
): Promise<AgeRecipient[]> {
  const field = `${FIELD}[${index}]`;
  const reference = referenceOf(recipient);
  if (reference === undefined) {
    // The schema guarantees exactly one source; an inline key is checked again here, as the
    // API server does not check its checksum.
    return [toAgeRecipient(recipient.publicKey ?? '', `${field}.publicKey`)];
  }
  const { kind, name, key } = reference;
  if (reader === undefined) {
    throw new RunError(
      `${field}.${reference.field} names ${kind} "${name}", which a run outside a cluster (-f) cannot read: write the public key inline as ${field}.publicKey (\`age-keygen -y key.txt\` prints it)`,
    );
  }
  const where = `${kind} ${reader.namespace}/${name}`;
  const data = await reader.readData(kind, name);
  const text = data[key];
  if (text === undefined || text.trim() === '') {
    throw new RunError(
      `${where} has no "${key}" key (named by ${field}.${reference.field}): add the age public keys there, one a line, or correct the key's name`,
    );
  }
  return parseRecipients(text, `${where} key "${key}" (${field}.${reference.field})`);
}

/**
 * Resolves the policy's recipients, in their order, without duplicates.
 *
 * @param reader - reads Secrets and ConfigMaps; absent outside a cluster, where a reference
 *   is refused naming the field and the fix (inline the public key)
 * @throws RunError for a reference that cannot be followed, KeyFormatError (src/encryption)
 *   naming the field or object, key and line for a value that is not an age public key
 */
export async function resolveRecipients(
  encryption: EncryptionSpec,
  reader: RecipientReader | undefined,
): Promise<ResolvedRecipients> {
  const resolved: AgeRecipient[] = [];
  for (const [index, entry] of encryption.recipients.entries()) {
    for (const recipient of await resolveEntry(entry, index, reader)) {
      if (!resolved.some((known) => known.recipient === recipient.recipient)) {
        resolved.push(recipient);
      }
    }
  }
  return {
    recipients: resolved,
    fingerprints: resolved.map((recipient) => recipient.fingerprint),
  };
}

/** A {@link RecipientReader} through the API, with the client's (the runner's) credentials. */
export function clusterRecipientReader(client: KubeClient, namespace: string): RecipientReader {
  return {
    namespace,
    readData: async (kind, name) => {
      if (kind === 'Secret') return readSecretKeys(client, namespace, name);
      const configMap = await client.request<{ data?: Record<string, string> }>({
        verb: 'get',
        path: resourcePath(RESOURCES.configMap, { namespace, name }),
        what: `get ConfigMap ${namespace}/${name}`,
      });
      return configMap.data ?? {};
    },
  };
}
