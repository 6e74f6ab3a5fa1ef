import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  backupKeyPrefix,
  formatKeyTimestamp,
  MANIFEST_NAME,
  policyKeyPrefix,
  walKeyPrefix,
} from '../../../src/storage/key-scheme.js';

const location = {
  prefix: 'pg',
  namespace: 'shop',
  policy: 'orders',
  type: 'binary' as const,
};

describe('the storage key scheme (DESIGN.md §3)', () => {
  it("keeps a policy's WAL under <prefix>/<namespace>/<policy>/wal/, beside its backup types", () => {
    expect(walKeyPrefix(location)).toBe('pg/shop/orders/wal/');
    expect(walKeyPrefix({ ...location, prefix: '' })).toBe('shop/orders/wal/');
  });

  it('lays a line backup out as <prefix>/<namespace>/<policy>/<type>/<line>/<slot>/<UTC timestamp>-<id>/', () => {
    const key = backupKeyPrefix({
      ...location,
      line: 'daily',
      slot: 3,
      startedAtMs: Date.UTC(2026, 10, 25, 8, 27, 55, 123),
      id: 'a1b2c3',
    });
    expect(key).toBe('pg/shop/orders/binary/daily/3/20261125T082755Z-a1b2c3/');
    expect(`${key}${MANIFEST_NAME}`).toBe(
      'pg/shop/orders/binary/daily/3/20261125T082755Z-a1b2c3/manifest.json',
    );
  });

  it('puts on-demand backups under on-demand/ with no slot, and an empty prefix at the bucket root', () => {
    const key = backupKeyPrefix({
      ...location,
      prefix: '',
      line: 'on-demand',
      slot: undefined,
      startedAtMs: Date.UTC(2026, 0, 1),
      id: 'x',
    });
    expect(key).toBe('shop/orders/binary/on-demand/20260101T000000Z-x/');
    expect(policyKeyPrefix({ ...location, prefix: '' })).toBe('shop/orders/binary/');
  });

  it('writes timestamps whose text order is their time order', () => {
    const instant = fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) });
    fc.assert(
      fc.property(instant, instant, (a, b) => {
        const [x, y] = [formatKeyTimestamp(a), formatKeyTimestamp(b)];
        const second = (ms: number) => Math.floor(ms / 1000);
        // S3 lists keys in binary (UTF-8 byte) order.
        const textOrder = Math.sign(Buffer.compare(Buffer.from(x), Buffer.from(y)));
        expect(textOrder).toBe(Math.sign(second(a) - second(b)));
      }),
    );
  });
});
