/**
 * What "the data are equal" means for the logical tests: every table's row count and md5 of
 * its ordered rows, every large object's content, the extensions, views and table owners,
 * and the roles' attributes, password hashes and memberships.
 */
import type pg from 'pg';
import { fingerprintTables, type TableFingerprint } from '../../harness/restore.js';

/** A database's contents, comparable between the source and a restored copy. */
export interface DatabaseSnapshot {
  readonly tables: Record<string, TableFingerprint>;
  readonly largeObjects: string[];
  readonly extensions: string[];
  readonly views: string[];
  readonly owners: string[];
}

async function column(client: pg.Client, text: string): Promise<string[]> {
  const result = await client.query<{ value: string }>(text);
  return result.rows.map((row) => row.value);
}

/** Takes the snapshot of the database `client` is connected to. */
export async function snapshotDatabase(client: pg.Client): Promise<DatabaseSnapshot> {
  return {
    tables: await fingerprintTables(client),
    largeObjects: await column(
      client,
      "SELECT oid::text || ' ' || md5(lo_get(oid)) AS value FROM pg_largeobject_metadata ORDER BY oid",
    ),
    extensions: await column(
      client,
      "SELECT extname || ' ' || extversion AS value FROM pg_extension ORDER BY 1",
    ),
    views: await column(
      client,
      "SELECT viewname || ': ' || definition AS value FROM pg_views WHERE schemaname = 'public' ORDER BY 1",
    ),
    owners: await column(
      client,
      "SELECT tablename || ' ' || tableowner AS value FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    ),
  };
}

/** The roles' attributes, password hashes and memberships (a superuser reads pg_authid). */
export async function snapshotRoles(client: pg.Client, roles: readonly string[]) {
  const result = await client.query(
    `SELECT rolname, rolcanlogin, rolconnlimit, rolpassword,
       ARRAY(SELECT b.rolname FROM pg_auth_members m JOIN pg_authid b ON b.oid = m.roleid
             WHERE m.member = a.oid ORDER BY 1) AS member_of
     FROM pg_authid a WHERE rolname = ANY($1) ORDER BY rolname`,
    [roles],
  );
  return result.rows;
}
