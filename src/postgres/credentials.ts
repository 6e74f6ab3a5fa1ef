/** How the runner logs in to PostgreSQL, and where the password came from (never the password in words). */

/** A role and its password; `source` names where both came from, for error messages. */
export interface Credentials {
  readonly username: string;
  /** Omitted: libpq's password file (PGPASSFILE or ~/.pgpass) supplies it. */
  readonly password?: string | undefined;
  /** Where the credentials came from, e.g. `Secret db/orders-backup` or `environment variable PGPASSWORD`. */
  readonly source: string;
}

/** A server address. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** `host:port`, with brackets around an IPv6 address. */
export function formatEndpoint(endpoint: Endpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${host}:${endpoint.port}`;
}

/**
 * Parses `host` or `host:port` (IPv6 in brackets) as `target.hosts` holds them.
 * `defaultPort` applies when the entry has no port.
 */
export function parseEndpoint(entry: string, defaultPort: number): Endpoint {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed !== null) {
    return { host: bracketed[1] ?? '', port: Number(bracketed[2] ?? defaultPort) };
  }
  const [host = '', port] = entry.split(':');
  return { host, port: port === undefined ? defaultPort : Number(port) };
}
