import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { locatePgTool, ToolNotFoundError } from '../../../src/postgres/index.js';

describe('locatePgTool', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'pgbackup-pg-root-'));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function install(major: number, tool: string): Promise<string> {
    const dir = join(root, String(major), 'bin');
    await mkdir(dir, { recursive: true });
    const path = join(dir, tool);
    await writeFile(path, '#!/bin/sh\n');
    await chmod(path, 0o755);
    return path;
  }

  it("prefers the server's own major version, then the oldest newer one for pg_dump", async () => {
    const own = await install(15, 'pg_dump');
    const sixteen = await install(16, 'pg_dump');
    await install(17, 'pg_dump');
    await install(14, 'pg_dump');
    expect(await locatePgTool({ tool: 'pg_dump', major: 15, root, orNewer: true })).toBe(own);
    expect(await locatePgTool({ tool: 'pg_dump', major: 13, root, orNewer: true })).toBe(
      join(root, '14', 'bin', 'pg_dump'),
    );
    await rm(own);
    expect(await locatePgTool({ tool: 'pg_dump', major: 15, root, orNewer: true })).toBe(sixteen);
  });

  it('never takes an older version, and says which it needs', async () => {
    await install(14, 'pg_dump');
    await expect(locatePgTool({ tool: 'pg_dump', major: 15, root, orNewer: true })).rejects.toThrow(
      new ToolNotFoundError(
        `no pg_dump for PostgreSQL 15 or newer: ${join(root, '15', 'bin', 'pg_dump')} does not exist or is not executable. Use a runner image that carries PostgreSQL 15's client tools, or point --pg-root at a directory holding 15/bin/pg_dump`,
      ),
    );
  });

  it('takes only the exact version without orNewer (pg_basebackup)', async () => {
    await install(16, 'pg_basebackup');
    await expect(locatePgTool({ tool: 'pg_basebackup', major: 15, root })).rejects.toThrow(
      'no pg_basebackup for PostgreSQL 15:',
    );
  });

  it("sends a drill missing the server to the drill's image", async () => {
    await install(15, 'pg_dump');
    await expect(locatePgTool({ tool: 'postgres', major: 15, root })).rejects.toThrow(
      `no postgres for PostgreSQL 15: ${join(root, '15', 'bin', 'postgres')} does not exist or is not executable. Use the restore drill's image (the release's tag + "-drill", the controller's --verify-image), which carries PostgreSQL 15's server, or point --pg-root at a directory holding 15/bin/postgres`,
    );
  });
});
