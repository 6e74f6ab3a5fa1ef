/**
 * A MinIO of its own served over TLS, for peers that refuse plain HTTP (pgBackRest's S3
 * repository): a throwaway CA and a serving certificate made with the openssl program, MinIO
 * reading them from `--certs-dir`, one bucket, and the CA's file for clients to trust
 * (pgBackRest's `repo1-storage-ca-file`, Node's NODE_EXTRA_CA_CERTS). Root credentials reach
 * MinIO through its environment, never its command line. Stopped and removed by `stop()`.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { logFile, runTool, startDaemon, stopDaemon, waitUntil } from '../env/processes.js';

/** A bucket on a TLS S3 server, and the root credentials to reach it. */
export interface TlsBucket {
  /** A loopback address nothing else listens on, e.g. 127.0.54.21. */
  readonly host: string;
  readonly port: number;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Where and how a TLS MinIO is started. */
export interface TlsMinioOptions extends TlsBucket {
  /** A directory of its own: certificates, data, pid file and log go under it. */
  readonly dir: string;
  /** The MinIO binary (`ensureToolModule('minio')`). */
  readonly binary: string;
}

/** A running TLS MinIO. */
export interface TlsMinio {
  /** `https://HOST:PORT`. */
  readonly endpoint: string;
  /** The PEM file of the CA that signed MinIO's certificate. */
  readonly caFile: string;
  /** An S3 client that trusts {@link caFile}; destroy it when done. */
  client(): S3Client;
  /** MinIO's pid, for measuring its CPU. */
  readonly pid: number;
  stop(): Promise<void>;
}

const DAEMON = 'minio-tls';

async function openssl(args: readonly string[]): Promise<void> {
  await runTool('openssl', args);
}

/**
 * A CA and a serving certificate for `host`, named as MinIO's `--certs-dir` wants them
 * (`public.crt`, `private.key`). The address is in the SAN both as an IP (what Node and Go
 * check) and as a DNS name (what pgBackRest checks: it matches DNS names and the CN only).
 */
async function makeCertificates(certsDir: string, host: string): Promise<string> {
  await mkdir(certsDir, { recursive: true, mode: 0o700 });
  const at = (file: string) => join(certsDir, file);
  const ecKey = (path: string) =>
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
  await ecKey(at('ca.key'));
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    at('ca.key'),
    '-subj',
    '/CN=pgbackup-peers-test-ca',
    '-days',
    '30',
    '-out',
    at('ca.crt'),
  ]);
  await ecKey(at('private.key'));
  await openssl([
    'req',
    '-new',
    '-key',
    at('private.key'),
    '-subj',
    `/CN=${host}`,
    '-out',
    at('server.csr'),
  ]);
  await writeFile(
    at('server.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=IP:${host},DNS:${host}`,
      '',
    ].join('\n'),
  );
  await openssl([
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.crt'),
    '-CAkey',
    at('ca.key'),
    '-set_serial',
    `0x${Date.now().toString(16)}`,
    '-days',
    '30',
    '-extfile',
    at('server.ext'),
    '-out',
    at('public.crt'),
  ]);
  return at('ca.crt');
}

/** An S3 client of `endpoint` that trusts the CA in `caFile` (and only it, besides Node's own). */
export function tlsS3Client(
  options: Pick<TlsMinioOptions, 'region' | 'accessKeyId' | 'secretAccessKey'>,
  endpoint: string,
  caFile: string,
): S3Client {
  return new S3Client({
    endpoint,
    region: options.region,
    forcePathStyle: true,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    // The SDK takes the Node handler's options in place of a handler.
    requestHandler: { httpsAgent: new Agent({ ca: readFileSync(caFile), keepAlive: true }) },
  });
}

/** Starts MinIO over TLS on `host:port` with a fresh CA, and creates the bucket. */
export async function startTlsMinio(options: TlsMinioOptions): Promise<TlsMinio> {
  const certsDir = join(options.dir, 'certs');
  const caFile = await makeCertificates(certsDir, options.host);
  const data = join(options.dir, 'data');
  await mkdir(data, { recursive: true });
  const pid = startDaemon(options.dir, {
    name: DAEMON,
    command: options.binary,
    args: [
      'server',
      '--quiet',
      '--certs-dir',
      certsDir,
      '--address',
      `${options.host}:${options.port}`,
      '--console-address',
      `${options.host}:${options.port + 1}`,
      data,
    ],
    env: {
      MINIO_ROOT_USER: options.accessKeyId,
      MINIO_ROOT_PASSWORD: options.secretAccessKey,
      MINIO_BROWSER: 'off',
      MINIO_UPDATE: 'off',
      HOME: options.dir,
    },
  });
  const endpoint = `https://${options.host}:${options.port}`;
  const stop = () => stopDaemon(options.dir, DAEMON);
  const client = () => tlsS3Client(options, endpoint, caFile);
  try {
    const probe = client();
    try {
      // Ready when the bucket can be made over TLS with the CA: that proves the certificate too.
      await waitUntil(
        `MinIO over TLS on ${endpoint}`,
        async () => {
          try {
            await probe.send(new CreateBucketCommand({ Bucket: options.bucket }));
          } catch (error) {
            // An earlier try that reached MinIO made it.
            if (!(error instanceof Error && error.name === 'BucketAlreadyOwnedByYou')) throw error;
          }
          return true;
        },
        { timeoutMs: 60_000, log: logFile(options.dir, DAEMON), intervalMs: 250 },
      );
    } finally {
      probe.destroy();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, caFile, client, pid, stop };
}
