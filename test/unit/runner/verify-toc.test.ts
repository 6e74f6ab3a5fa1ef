import { describe, expect, it } from 'vitest';
import { drillTypesOf } from '../../../src/runner/verify-in-cluster.js';
import {
  type CatalogObject,
  CopyRowCounter,
  compareWithCatalog,
  describeKinds,
  describeShortfall,
  isQualifiedName,
  isShort,
  parseToc,
} from '../../../src/runner/verify-toc.js';

/** `pg_restore -l` of a PostgreSQL 15 dump, as it printed it. */
const LISTING = `;
; Archive created at 2026-12-03 14:55:10 UTC
;     dbname: p2_toc
;
; Selected TOC Entries:
;
6; 2615 16768 SCHEMA - Odd Schema postgres
217; 1255 16776 FUNCTION public add(integer, text) postgres
215; 1259 16769 TABLE Odd Schema My Table postgres
216; 1259 16777 TABLE public t postgres
3348; 0 16769 TABLE DATA Odd Schema My Table postgres
3349; 0 16777 TABLE DATA public t postgres
3203; 2606 16775 CONSTRAINT Odd Schema My Table My Table_pkey postgres
3204; 1259 16785 INDEX public t_x postgres
3205; 2606 16780 FK CONSTRAINT public t t_x_fkey postgres
`;

/** What the restored database holds when everything restored (plus public, not in the dump). */
const RESTORED: CatalogObject[] = [
  { kind: 'SCHEMA', prefix: '- Odd Schema ' },
  { kind: 'SCHEMA', prefix: '- public ' },
  { kind: 'FUNCTION', prefix: 'public add(' },
  { kind: 'TABLE', prefix: 'Odd Schema My Table ' },
  { kind: 'TABLE', prefix: 'public t ' },
  { kind: 'CONSTRAINT', prefix: 'Odd Schema My Table My Table_pkey ' },
  { kind: 'INDEX', prefix: 'public t_x ' },
  { kind: 'FK CONSTRAINT', prefix: 'public t t_x_fkey ' },
];

describe('the logical drill’s table of contents', () => {
  it('reads the entries, multi-word kinds and names with spaces included, skipping comments', () => {
    const entries = parseToc(LISTING);

    expect(entries.map((entry) => entry.desc)).toEqual([
      'SCHEMA',
      'FUNCTION',
      'TABLE',
      'TABLE',
      'TABLE DATA',
      'TABLE DATA',
      'CONSTRAINT',
      'INDEX',
      'FK CONSTRAINT',
    ]);
    expect(entries[2]?.rest).toBe('Odd Schema My Table postgres');
  });

  it('finds every listed object restored, and counts only the kinds the dump lists', () => {
    const comparisons = compareWithCatalog(parseToc(LISTING), RESTORED);

    expect(comparisons.filter(isShort)).toEqual([]);
    expect(describeKinds(comparisons)).toBe(
      '1 schema, 2 tables, 1 index, 1 constraint, 1 foreign key, 1 function',
    );
  });

  it('names an object that was not restored, with how many of its kind were listed', () => {
    const restored = RESTORED.filter((object) => object.prefix !== 'public t_x ');

    const short = compareWithCatalog(parseToc(LISTING), restored).filter(isShort);

    expect(short.map(describeShortfall)).toEqual([
      'index public.t_x (1 of 1 index listed) not restored',
    ]);
  });

  it('counts fewer objects than entries as short even when each name matched (an overload lost)', () => {
    const entries = [
      ...parseToc(LISTING),
      ...parseToc('218; 1255 16790 FUNCTION public add(integer) postgres'),
    ];

    const short = compareWithCatalog(entries, RESTORED).filter(isShort);

    expect(short.map(describeShortfall)).toEqual(['1 of 2 functions listed were restored']);
  });
});

describe('the rows of the dump’s COPY data', () => {
  it('counts one row a line until \\., a value’s newline being escaped', () => {
    const counter = new CopyRowCounter();
    const lines = [
      '\\restrict abc',
      'COPY "Odd Schema"."My Table" (id, v) FROM stdin;',
      '1\ta\\nb',
      '2\tc',
      '\\.',
      'COPY public.t (x) FROM stdin;',
      '\\.',
      '\\unrestrict abc',
    ];
    for (const line of lines) counter.line(line);

    expect(counter.counts).toEqual(
      new Map([
        ['"Odd Schema"."My Table"', 2],
        ['public.t', 0],
      ]),
    );
  });

  it('puts only names pg_dump quoted into a count query', () => {
    expect(isQualifiedName('"Odd Schema"."My ""Table"""')).toBe(true);
    expect(isQualifiedName('public.t')).toBe(true);
    expect(isQualifiedName('public.t; DROP TABLE x')).toBe(false);
    expect(isQualifiedName('"a".b c')).toBe(false);
  });
});

describe('which drills a verify run does', () => {
  const spec = (binary: boolean, logical: boolean) => ({
    binary: { enabled: binary },
    logical: { enabled: logical },
  });

  it('runs the type asked for, and binary when none is asked for outside the CronJob', () => {
    expect(drillTypesOf(spec(true, true), 'logical', true)).toEqual(['logical']);
    expect(drillTypesOf(spec(false, true), undefined, false)).toEqual(['binary']);
  });

  it('runs, for the CronJob, each type the policy enables, binary first (binary when neither)', () => {
    expect(drillTypesOf(spec(true, true), undefined, true)).toEqual(['binary', 'logical']);
    expect(drillTypesOf(spec(false, true), undefined, true)).toEqual(['logical']);
    expect(drillTypesOf(spec(false, false), undefined, true)).toEqual(['binary']);
  });
});
