/**
 * The PostgreSQL adapter: connections, discovery of the primary, the runner's session on it
 * (lock, replication slot, sizes) and pg_basebackup as a stream.
 */

export {
  type AskInput,
  askServer,
  askServers,
  lsnToBigInt,
  type ServerAnswer,
  type ServerSession,
} from './ask-server.js';
export {
  ARCHIVE_NAMES,
  type BaseBackupCompression,
  type BaseBackupInput,
  type BaseBackupProcess,
  type BaseBackupResult,
  baseBackupArguments,
  startBaseBackup,
  toolVersion,
} from './base-backup.js';
export { type ConnectInput, connectTo } from './connect.js';
export { type Credentials, type Endpoint, formatEndpoint, parseEndpoint } from './credentials.js';
export { type DiscoverInput, discoverPrimary, type Primary } from './discover-primary.js';
export { AuthenticationError, NoPrimaryError, PostgresError, ToolNotFoundError } from './errors.js';
export { DEFAULT_PG_ROOT, type LocateToolInput, locatePgTool } from './locate-tool.js';
export {
  acquireAdvisoryLock,
  advisoryLockKeyOf,
  createReplicationSlot,
  dropReplicationSlot,
  findReplicationSlot,
  listUserTablespaces,
  replicationSlotNameOf,
  totalDatabaseSizeBytes,
} from './primary-session.js';
