import { describe, expect, it } from 'vitest';
import { fixtureText } from '../../harness/fixtures.js';
import { parseStrace } from '../../harness/strace.js';

describe('parseStrace', () => {
  it('reads calls split by another thread, with the paths of their arguments and descriptors', () => {
    expect(parseStrace(fixtureText('storage/strace-split.txt'))).toEqual([
      {
        syscall: 'openat',
        paths: ['/v/b/base.tar.gz.partial'],
        result: '20</v/b/base.tar.gz.partial>',
        beganAt: 0,
        endedAt: 0,
      },
      {
        syscall: 'rename',
        paths: ['/v/b/x.partial', '/v/b/x'],
        result: '0',
        beganAt: 2,
        endedAt: 2,
      },
      {
        syscall: 'fsync',
        paths: ['/v/b/base.tar.gz.partial'],
        result: '0',
        beganAt: 1,
        endedAt: 3,
      },
      {
        syscall: 'renameat2',
        paths: ['/v/b/manifest.json.partial', '/v/b/manifest.json'],
        result: '0',
        beganAt: 4,
        endedAt: 4,
      },
    ]);
  });
});
