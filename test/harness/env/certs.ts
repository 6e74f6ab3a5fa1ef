/**
 * The control plane's PKI, made with the openssl program: one CA, the API server's serving
 * certificate, client certificates for the admin and the controller manager, and the
 * service-account signing key pair. Created once per environment.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addresses, names } from './layout.js';
import { runTool } from './processes.js';

/** Files of the PKI, all PEM. */
export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  readonly controllerManagerCert: string;
  readonly controllerManagerKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
}

function pkiPaths(state: string): Pki {
  const dir = join(state, 'pki');
  const at = (file: string) => join(dir, file);
  return {
    dir,
    caCert: at('ca.crt'),
    caKey: at('ca.key'),
    serverCert: at('apiserver.crt'),
    serverKey: at('apiserver.key'),
    adminCert: at('admin.crt'),
    adminKey: at('admin.key'),
    controllerManagerCert: at('controller-manager.crt'),
    controllerManagerKey: at('controller-manager.key'),
    serviceAccountKey: at('sa.key'),
    serviceAccountPub: at('sa.pub'),
  };
}

async function newKey(path: string): Promise<void> {
  await runTool('openssl', [
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-out',
    path,
  ]);
}

/** A certificate the CA signs: its files, subject and extensions. */
export interface LeafSpec {
  readonly cert: string;
  readonly key: string;
  readonly subject: string;
  readonly extensions: readonly string[];
}

/** Signs a new key's certificate with the environment's CA. */
export async function signLeaf(pki: Pki, leaf: LeafSpec): Promise<void> {
  await newKey(leaf.key);
  const csr = `${leaf.cert}.csr`;
  const ext = `${leaf.cert}.ext`;
  await runTool('openssl', ['req', '-new', '-key', leaf.key, '-subj', leaf.subject, '-out', csr]);
  writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      ...leaf.extensions,
      '',
    ].join('\n'),
  );
  const serial = (await runTool('openssl', ['rand', '-hex', '16'])).trim();
  await runTool('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    pki.caCert,
    '-CAkey',
    pki.caKey,
    '-set_serial',
    `0x${serial}`,
    '-days',
    '3650',
    '-extfile',
    ext,
    '-out',
    leaf.cert,
  ]);
}

/** Creates the PKI on first use and returns its file paths. */
export async function ensurePki(state: string): Promise<Pki> {
  const pki = pkiPaths(state);
  if (existsSync(pki.serviceAccountPub)) return pki;
  mkdirSync(pki.dir, { recursive: true, mode: 0o700 });
  await newKey(pki.caKey);
  await runTool('openssl', [
    'req',
    '-x509',
    '-new',
    '-key',
    pki.caKey,
    '-subj',
    '/CN=pgbackup-operator-test-ca',
    '-days',
    '3650',
    '-out',
    pki.caCert,
  ]);
  const serviceIp = names.serviceClusterIpRange.replace(/0\/\d+$/, '1');
  await signLeaf(pki, {
    cert: pki.serverCert,
    key: pki.serverKey,
    subject: '/CN=kube-apiserver',
    extensions: [
      'extendedKeyUsage=serverAuth',
      `subjectAltName=IP:${addresses.apiserver.host},IP:${serviceIp},DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc`,
    ],
  });
  await signLeaf(pki, {
    cert: pki.adminCert,
    key: pki.adminKey,
    subject: '/O=system:masters/CN=pgbackup-test-admin',
    extensions: ['extendedKeyUsage=clientAuth'],
  });
  await signLeaf(pki, {
    cert: pki.controllerManagerCert,
    key: pki.controllerManagerKey,
    subject: '/CN=system:kube-controller-manager',
    extensions: ['extendedKeyUsage=clientAuth'],
  });
  await newKey(pki.serviceAccountKey);
  await runTool('openssl', [
    'pkey',
    '-in',
    pki.serviceAccountKey,
    '-pubout',
    '-out',
    pki.serviceAccountPub,
  ]);
  return pki;
}
