/**
 * Client certificates of the node's programs and of the scheduler, signed by the
 * environment's CA on first use (the PKI of a running environment predates them). Each
 * program has its own identity, as in a cluster: the kubelet is `system:node:<name>` in
 * `system:nodes` (so the Node authorizer and NodeRestriction limit it to its own Node and
 * pods), kube-proxy and the scheduler have the users their default RBAC bindings name, and
 * the API server has a client certificate to call the kubelet (logs, exec).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Pki, signLeaf } from '../env/certs.js';

/** A client certificate and its key. */
export interface ClientCert {
  readonly cert: string;
  readonly key: string;
}

/** The identities, as certificate subjects. */
export function clientSubjects(nodeName: string) {
  return {
    kubelet: `/O=system:nodes/CN=system:node:${nodeName}`,
    kubeProxy: '/CN=system:kube-proxy',
    scheduler: '/CN=system:kube-scheduler',
    // In system:masters the kubelet's x509 authentication admits it for logs and exec.
    apiserverKubeletClient: '/O=system:masters/CN=kube-apiserver-kubelet-client',
  } as const;
}

/** The certificate of `name` (a file stem in the PKI directory), signed once. */
export async function ensureClientCert(
  pki: Pki,
  name: string,
  subject: string,
): Promise<ClientCert> {
  const cert = join(pki.dir, `${name}.crt`);
  const key = join(pki.dir, `${name}.key`);
  if (!existsSync(cert)) {
    await signLeaf(pki, { cert, key, subject, extensions: ['extendedKeyUsage=clientAuth'] });
  }
  return { cert, key };
}
