/** The controller's HTTP endpoints: `/metrics` (Prometheus), `/healthz` and `/readyz`. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** What the endpoints report on. */
export interface EndpointSources {
  readonly registry: Registry;
  /** Ready to serve: the caches are filled. */
  readonly ready: () => boolean;
}

/** Listening endpoints and how to close them. */
export interface Endpoints {
  readonly address: string;
  close(): Promise<void>;
}

function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  return { host: host === '' ? '0.0.0.0' : host, port: Number(address.slice(colon + 1)) };
}

/** Serves the endpoints on `host:port` (port 0: any free port, reported in `address`). */
export async function serveEndpoints(
  address: string,
  sources: EndpointSources,
): Promise<Endpoints> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      sources.registry
        .metrics()
        .then((text) => {
          response.writeHead(200, { 'content-type': sources.registry.contentType });
          response.end(text);
        })
        .catch((error: unknown) => {
          response.writeHead(500);
          response.end(String(error));
        });
      return;
    }
    if (path === '/healthz') {
      response.writeHead(200).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      const ready = sources.ready();
      response.writeHead(ready ? 200 : 503).end(ready ? 'ok\n' : 'caches not synced yet\n');
      return;
    }
    response.writeHead(404).end('not found\n');
  });
  const { host, port } = splitAddress(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    address: `${bound.address}:${bound.port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
