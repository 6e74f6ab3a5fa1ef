import { describe, expect, it } from 'vitest';
import { isStartingUp, throwawaySettings } from '../../../src/postgres/throwaway-server.js';

describe('the throwaway server of a restore drill', () => {
  it('listens on a Unix socket in its own directory only, with its own pg_hba.conf', () => {
    const settings = throwawaySettings('/work/run');

    expect(settings).toContain('listen_addresses=');
    expect(settings).toContain('unix_socket_directories=/work/run');
    expect(settings).toContain('hba_file=/work/run/pg_hba.conf');
    expect(settings).toContain('archive_mode=off');
    expect(settings).toContain('shared_preload_libraries=');
  });

  it('is still starting while the socket is missing or recovery runs, and up once it answers', () => {
    expect(isStartingUp(Object.assign(new Error('no socket'), { code: 'ENOENT' }))).toBe(true);
    expect(isStartingUp(Object.assign(new Error('starting up'), { code: '57P03' }))).toBe(true);
    expect(isStartingUp(Object.assign(new Error('no such role'), { code: '28000' }))).toBe(false);
  });
});
