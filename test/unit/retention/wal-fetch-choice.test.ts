import { describe, expect, it } from 'vitest';
import { chooseWalObject } from '../../../src/retention/wal-fetch-choice.js';

const SEG5 = '000000010000000000000005';

describe('which object answers a recovery’s request for a WAL file', () => {
  it('serves a completed segment under whatever compression it was stored with', () => {
    expect(chooseWalObject(SEG5, [`${SEG5}.zst`])).toEqual({
      kind: 'stored',
      name: `${SEG5}.zst`,
      compression: 'zstd',
      partial: false,
      encrypted: false,
    });
    expect(chooseWalObject(SEG5, [SEG5])).toMatchObject({ name: SEG5, compression: 'none' });
    expect(chooseWalObject(SEG5, [`${SEG5}.lz4`])).toMatchObject({ compression: 'lz4' });
  });

  it('prefers the completed segment to a partial of it left behind', () => {
    expect(chooseWalObject(SEG5, [`${SEG5}.gz.partial`, `${SEG5}.gz`])).toMatchObject({
      name: `${SEG5}.gz`,
      partial: false,
    });
  });

  it('serves the partial under the segment’s name when it is the newest WAL there is', () => {
    const names = ['000000010000000000000004.zst', `${SEG5}.zst.partial`, '00000001.history'];
    expect(chooseWalObject(SEG5, names)).toEqual({
      kind: 'stored',
      name: `${SEG5}.zst.partial`,
      compression: 'zstd',
      partial: true,
      encrypted: false,
    });
  });

  it('does not serve a partial that newer WAL follows, on its timeline or a later one', () => {
    const later = chooseWalObject(SEG5, [`${SEG5}.zst.partial`, '000000010000000000000006.zst']);
    expect(later).toMatchObject({ kind: 'missing' });
    // After a promotion the new timeline's copy of the segment is the one to read.
    const promoted = chooseWalObject(SEG5, [
      `${SEG5}.zst.partial`,
      '000000020000000000000005.zst.partial',
      '00000002.history',
    ]);
    expect(promoted).toMatchObject({ kind: 'missing' });
    expect(
      chooseWalObject('000000020000000000000005', [
        `${SEG5}.zst.partial`,
        '000000020000000000000005.zst.partial',
      ]),
    ).toMatchObject({ kind: 'stored', partial: true });
  });

  it('serves history files and answers missing for one not stored', () => {
    expect(chooseWalObject('00000002.history', ['00000002.history'])).toMatchObject({
      kind: 'stored',
      name: '00000002.history',
      compression: 'none',
    });
    expect(chooseWalObject('00000003.history', ['00000002.history'])).toEqual({
      kind: 'missing',
      reason: '00000003.history is not in the bucket',
    });
  });

  it('serves an encrypted object as it serves a plain one, saying it is encrypted', () => {
    expect(chooseWalObject(SEG5, [`${SEG5}.zst.age`])).toEqual({
      kind: 'stored',
      name: `${SEG5}.zst.age`,
      compression: 'zstd',
      partial: false,
      encrypted: true,
    });
    expect(chooseWalObject('00000002.history', ['00000002.history.age'])).toMatchObject({
      kind: 'stored',
      name: '00000002.history.age',
      compression: 'none',
      encrypted: true,
    });
    const names = ['000000010000000000000004.zst', `${SEG5}.zst.partial.age`];
    expect(chooseWalObject(SEG5, names)).toMatchObject({
      kind: 'stored',
      name: `${SEG5}.zst.partial.age`,
      partial: true,
      encrypted: true,
    });
    // Newer encrypted WAL after a plain partial: the partial ends early, as with plain WAL.
    expect(
      chooseWalObject(SEG5, [`${SEG5}.zst.partial`, '000000010000000000000006.zst.age']),
    ).toMatchObject({ kind: 'missing' });
  });

  it('prefers a plain copy when a bucket holds both (stored before encryption was turned on)', () => {
    expect(chooseWalObject(SEG5, [`${SEG5}.zst.age`, `${SEG5}.zst`])).toMatchObject({
      name: `${SEG5}.zst`,
      encrypted: false,
    });
    expect(
      chooseWalObject('00000002.history', ['00000002.history', '00000002.history.age']),
    ).toMatchObject({ name: '00000002.history', encrypted: false });
    // A completed encrypted segment still wins over a plain partial of it.
    expect(chooseWalObject(SEG5, [`${SEG5}.zst.partial`, `${SEG5}.zst.age`])).toMatchObject({
      name: `${SEG5}.zst.age`,
      partial: false,
    });
  });

  it('answers missing for a segment not stored and for names that are not WAL files', () => {
    expect(chooseWalObject(SEG5, ['000000010000000000000004.zst'])).toMatchObject({
      kind: 'missing',
    });
    expect(chooseWalObject('000000010000000000000005.00000028.backup', [])).toMatchObject({
      kind: 'missing',
    });
    expect(chooseWalObject(`${SEG5}.partial`, [`${SEG5}.partial`])).toMatchObject({
      kind: 'missing',
    });
    // Recovery asks by the plain name only: `%f` never ends in `.age` or a compression.
    expect(chooseWalObject(`${SEG5}.age`, [`${SEG5}.age`])).toMatchObject({ kind: 'missing' });
    expect(chooseWalObject(`${SEG5}.zst`, [`${SEG5}.zst`])).toMatchObject({ kind: 'missing' });
  });
});
