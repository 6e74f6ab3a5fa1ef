import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runMain } from '../../../src/cli/main.js';
import { WAL_FETCH_FAILED } from '../../../src/cli/wal-fetch-command.js';

class Capture extends Writable {
  text = '';

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function pgbackup(...argv: string[]) {
  const stdout = new Capture();
  const stderr = new Capture();
  const status = await runMain(argv, { stdout, stderr });
  return { status, stdout: stdout.text, stderr: stderr.text };
}

describe('the WAL commands’ arguments', () => {
  it('prints each command’s usage on --help', async () => {
    for (const command of ['wal-fetch', 'wal-status', 'wal-prune']) {
      const result = await pgbackup(command, '--help');
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^usage: pgbackup ${command} `));
    }
  });

  it('wal-fetch wants FILE and DEST, and one of -f or --policy; wrong arguments stop recovery', async () => {
    const noDestination = await pgbackup('wal-fetch', '000000010000000000000001', '-f', 'p.yaml');
    expect(noDestination.status).toBe(WAL_FETCH_FAILED);
    expect(noDestination.stderr).toContain('give the WAL file name and the destination path');
    const noPolicy = await pgbackup('wal-fetch', '000000010000000000000001', 'RECOVERYXLOG');
    expect(noPolicy.status).toBe(WAL_FETCH_FAILED);
    const unknown = await pgbackup('wal-fetch', 'A', 'B', '-f', 'p.yaml', '--bucket', 'x');
    expect(unknown.status).toBe(WAL_FETCH_FAILED);
    expect(unknown.stderr).toContain('usage: pgbackup wal-fetch');
    expect(noPolicy.stderr).toContain('give exactly one of -f POLICY.yaml or --policy');
  });

  it('wal-fetch fails above 125, so recovery stops, when the policy cannot be read', async () => {
    const result = await pgbackup(
      'wal-fetch',
      '000000010000000000000001',
      '/nonexistent/RECOVERYXLOG',
      '-f',
      '/nonexistent/policy.yaml',
    );
    expect(WAL_FETCH_FAILED).toBeGreaterThan(125);
    expect(result.status).toBe(WAL_FETCH_FAILED);
    expect(result.stderr).toMatch(
      /could not fetch 000000010000000000000001: .*\/nonexistent\/policy\.yaml/,
    );
  });

  it('wal-prune refuses an --at that is no RFC 3339 time, with its own usage', async () => {
    const result = await pgbackup('wal-prune', '-f', 'p.yaml', '--at', 'yesterday');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--at "yesterday" is not an RFC 3339 time');
    expect(result.stderr).toContain('usage: pgbackup wal-prune');
  });

  it('wal-status refuses an output format other than text or json', async () => {
    const result = await pgbackup('wal-status', '-f', 'p.yaml', '-o', 'yaml');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--output "yaml" is not supported; use text or json');
  });
});
