import { describe, expect, it } from 'vitest';
import { startTimelineOf } from '../../../src/postgres/base-backup.js';

describe("pg_basebackup's verbose output", () => {
  it('names the timeline the backup starts on', () => {
    const stderr = [
      'pg_basebackup: initiating base backup, waiting for checkpoint to complete',
      'pg_basebackup: checkpoint completed',
      'pg_basebackup: write-ahead log start point: 0/5000028 on timeline 2',
      'pg_basebackup: write-ahead log end point: 0/5000100',
    ].join('\n');
    expect(startTimelineOf(stderr)).toBe(2);
  });

  it('names none when the output has no start point', () => {
    expect(startTimelineOf('pg_basebackup: error: connection failed')).toBeUndefined();
  });
});
