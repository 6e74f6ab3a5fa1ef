/**
 * The PostgreSQL adapter: connections, discovery of the primary and replicas, the runner's
 * session on the server it backs up (lock, replication slot, sizes, databases) and
 * pg_basebackup, pg_dump and pg_dumpall as streams.
 */

export { acquireAdvisoryLock, advisoryLockKeyOf } from './advisory-lock.js';
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
  type BinaryCompressionSettings,
  baseBackupArguments,
  compressArguments,
  startBaseBackup,
  toolVersion,
} from './base-backup.js';
export { type ConnectInput, connectTo } from './connect.js';
export { type Credentials, type Endpoint, formatEndpoint, parseEndpoint } from './credentials.js';
export { type DiscoverInput, discoverPrimary, type Primary } from './discover-primary.js';
export {
  type DatabaseDumpInput,
  type DumpCompressionSettings,
  type DumpConnection,
  type DumpProcess,
  databaseDumpArguments,
  dumpCompressArguments,
  dumpConninfo,
  type GlobalsDumpInput,
  globalsDumpArguments,
  startDatabaseDump,
  startGlobalsDump,
} from './dump.js';
export {
  canReadRolePasswords,
  type DatabaseEntry,
  listDumpableDatabases,
  readStandbySettings,
  type StandbySettings,
} from './dump-session.js';
export {
  AuthenticationError,
  NoPrimaryError,
  NoServerError,
  PostgresError,
  RecoveryConflictError,
  ToolNotFoundError,
} from './errors.js';
export { DEFAULT_PG_ROOT, type LocateToolInput, locatePgTool } from './locate-tool.js';
export {
  createReplicationSlot,
  dropReplicationSlot,
  findReplicationSlot,
  listUserTablespaces,
  type ReplicationSlotState,
  replicationSlotNameOf,
  totalDatabaseSizeBytes,
  walSlotNameOf,
} from './primary-session.js';
export {
  APPLICATION_NAME_MAX,
  classifyReceiveWalExit,
  ReceiveWalError,
  type ReceiveWalExit,
  type ReceiveWalExitReason,
  type ReceiveWalInput,
  type ReceiveWalProcess,
  receiveWalArguments,
  receiveWalConninfo,
  startReceiveWal,
} from './receive-wal.js';
export { readServerClock } from './server-clock.js';
export {
  dropWalSlot,
  ensureWalSlot,
  type PrimaryWalPosition,
  readPrimaryWalPosition,
  readWalSegmentSize,
  readWalSlot,
  type WalSlotState,
} from './wal-slot.js';
