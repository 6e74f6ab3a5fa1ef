/**
 * Plain TCP forwarding from the host's end of the node's link to the environment's servers,
 * which listen on loopback addresses the pods cannot reach. Each connection is piped to the
 * server unchanged (TLS and the PostgreSQL protocol pass through), so pods talk to the same
 * servers the other tests use, without reconfiguring them.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** A listening forwarder. */
export interface Forwarder {
  readonly listen: string;
  close(): Promise<void>;
}

interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** Forwards connections to `listen` to `target` until closed. */
export async function startForwarder(listen: Endpoint, target: Endpoint): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolvePromise());
  });
  return {
    listen: `${listen.host}:${listen.port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
    },
  };
}
