/**
 * The logical drill's comparison (pure): a dump's table of contents (`pg_restore -l`) read into
 * entries, the objects the drill checks counted by kind, each compared with what the restored
 * database holds, and the rows of each table's COPY data counted as `pg_restore --data-only`
 * prints them. What the catalog holds is read by the caller.
 */

/** One line of `pg_restore -l`: `215; 1259 16386 TABLE public orders postgres`. */
export interface TocEntry {
  /** The entry's kind as pg_dump names it: `TABLE`, `FK CONSTRAINT`, `MATERIALIZED VIEW`. */
  readonly desc: string;
  /** What follows the kind: `<schema or -> <tag> <owner>`, e.g. `public orders postgres`. */
  readonly rest: string;
}

/** The kinds of entry the drill checks, and how a message names them (singular, plural). */
export const CHECKED_KINDS = {
  SCHEMA: ['schema', 'schemas'],
  TABLE: ['table', 'tables'],
  VIEW: ['view', 'views'],
  'MATERIALIZED VIEW': ['materialized view', 'materialized views'],
  SEQUENCE: ['sequence', 'sequences'],
  INDEX: ['index', 'indexes'],
  CONSTRAINT: ['constraint', 'constraints'],
  'FK CONSTRAINT': ['foreign key', 'foreign keys'],
  TRIGGER: ['trigger', 'triggers'],
  FUNCTION: ['function', 'functions'],
  PROCEDURE: ['procedure', 'procedures'],
  AGGREGATE: ['aggregate', 'aggregates'],
} as const;

/** One of the kinds in {@link CHECKED_KINDS}. */
export type CheckedKind = keyof typeof CHECKED_KINDS;

/** Every kind pg_dump writes whose name has a space, longest first, so the first match wins. */
const MULTI_WORD_KINDS = [
  'MATERIALIZED VIEW DATA',
  'PUBLICATION TABLES IN SCHEMA',
  'DEFAULT ACL',
  'TABLE DATA',
  'SEQUENCE SET',
  'SEQUENCE OWNED BY',
  'MATERIALIZED VIEW',
  'FK CONSTRAINT',
  'CHECK CONSTRAINT',
  'INDEX ATTACH',
  'FOREIGN TABLE',
  'FOREIGN SERVER',
  'FOREIGN DATA WRAPPER',
  'TEXT SEARCH CONFIGURATION',
  'TEXT SEARCH DICTIONARY',
  'TEXT SEARCH PARSER',
  'TEXT SEARCH TEMPLATE',
  'OPERATOR CLASS',
  'OPERATOR FAMILY',
  'PUBLICATION TABLE',
  'EVENT TRIGGER',
  'ROW SECURITY',
  'LARGE OBJECT',
  'BLOB METADATA',
  'SECURITY LABEL',
  'USER MAPPING',
  'ACCESS METHOD',
  'STATISTICS DATA',
].sort((a, b) => b.length - a.length);

const ENTRY_LINE = /^\d+; \d+ \d+ (.*)$/;

function entryOf(line: string): TocEntry | undefined {
  const match = ENTRY_LINE.exec(line);
  if (match?.[1] === undefined) return undefined;
  const body = match[1];
  const multi = MULTI_WORD_KINDS.find((kind) => body.startsWith(`${kind} `));
  const desc = multi ?? body.split(' ', 1)[0] ?? '';
  return { desc, rest: body.slice(desc.length + 1) };
}

/** One line of `pg_restore -l`'s output as an entry; undefined for a comment line (`;`). */
export function parseTocLine(line: string): TocEntry | undefined {
  return entryOf(line.trimEnd());
}

/** The entries of `pg_restore -l`'s output; comment lines (`;`) are skipped. */
export function parseToc(listing: string): TocEntry[] {
  return listing.split('\n').flatMap((line) => {
    const entry = parseTocLine(line);
    return entry === undefined ? [] : [entry];
  });
}

/**
 * An object the restored database holds, as the table of contents names it: the start of an
 * entry's `rest`, e.g. `public orders ` for a table, `public orders orders_pkey ` for a
 * constraint, `- app ` for a schema, `public total(` for a function.
 */
export interface CatalogObject {
  readonly kind: CheckedKind;
  readonly prefix: string;
}

/** What the drill found for one kind. */
export interface KindComparison {
  readonly kind: CheckedKind;
  /** Entries of the table of contents. */
  readonly listed: number;
  /** Objects of the kind in the restored database. */
  readonly restored: number;
  /** The entries with no object restored, as the table of contents names them. */
  readonly missing: readonly string[];
}

/** The name a message gives an entry: its `rest` without the owner, `public.orders`. */
export function entryName(entry: TocEntry): string {
  const words = entry.rest.split(' ');
  // The owner is the last word (empty for an entry without one); the schema the first.
  const [schema, ...tag] = words.slice(0, -1);
  return schema === '-' || schema === undefined ? tag.join(' ') : `${schema}.${tag.join(' ')}`;
}

/** Each start of `text` that ends at a space or an opening parenthesis: what a prefix can be. */
function prefixesOf(text: string): string[] {
  const prefixes: string[] = [];
  for (let index = 0; index < text.length; index += 1) {
    if (text[index] === ' ' || text[index] === '(') prefixes.push(text.slice(0, index + 1));
  }
  return prefixes;
}

/** Compares the checked kinds of the table of contents with what the restored database holds. */
export function compareWithCatalog(
  entries: readonly TocEntry[],
  catalog: readonly CatalogObject[],
): KindComparison[] {
  return (Object.keys(CHECKED_KINDS) as CheckedKind[]).flatMap((kind) => {
    const listed = entries.filter((entry) => entry.desc === kind);
    const present = catalog.filter((object) => object.kind === kind);
    if (listed.length === 0 && present.length === 0) return [];
    const prefixes = new Set(present.map((object) => object.prefix));
    const missing = listed
      .filter((entry) => !prefixesOf(`${entry.rest} `).some((prefix) => prefixes.has(prefix)))
      .map(entryName);
    return [{ kind, listed: listed.length, restored: present.length, missing }];
  });
}

/** Whether a kind's comparison found a problem: an entry not restored, or fewer objects than entries. */
export function isShort(comparison: KindComparison): boolean {
  return comparison.missing.length > 0 || comparison.restored < comparison.listed;
}

function plural(count: number, kind: CheckedKind): string {
  const [one, many] = CHECKED_KINDS[kind];
  return `${count} ${count === 1 ? one : many}`;
}

/** `3 tables, 2 indexes` (what the table of contents listed and was restored). */
export function describeKinds(comparisons: readonly KindComparison[]): string {
  return comparisons
    .filter((comparison) => comparison.listed > 0)
    .map((comparison) => plural(comparison.listed, comparison.kind))
    .join(', ');
}

/** What is wrong with one kind: `index public.t_known (1 of 2 indexes listed) was not restored`. */
export function describeShortfall(comparison: KindComparison): string {
  const listed = plural(comparison.listed, comparison.kind);
  const [one, many] = CHECKED_KINDS[comparison.kind];
  if (comparison.missing.length === 0) {
    return `${comparison.restored} of ${listed} listed were restored`;
  }
  const names = comparison.missing.slice(0, 10).join(', ');
  const more = comparison.missing.length > 10 ? ` and ${comparison.missing.length - 10} more` : '';
  const noun = comparison.missing.length === 1 ? one : many;
  return `${noun} ${names}${more} (${comparison.missing.length} of ${listed} listed) not restored`;
}

/** A table's rows in the dump's COPY data, by the COPY statement's (quoted) qualified name. */
export type RowCounts = Map<string, number>;

const COPY_LINE = /^COPY (.+?) (?:\(.*\) )?FROM stdin;$/;

/**
 * Counts the rows of `pg_restore --data-only --file=-` line by line: a `COPY <table> ... FROM
 * stdin;` line starts a table's data, each line until `\.` is one row (COPY's text format
 * escapes newlines within values).
 */
export class CopyRowCounter {
  readonly counts: RowCounts = new Map();
  private table: string | undefined;

  line(line: string): void {
    if (this.table !== undefined) {
      if (line === '\\.') this.table = undefined;
      else this.counts.set(this.table, (this.counts.get(this.table) ?? 0) + 1);
      return;
    }
    const match = COPY_LINE.exec(line);
    if (match?.[1] !== undefined) {
      this.table = match[1];
      this.counts.set(this.table, this.counts.get(this.table) ?? 0);
    }
  }
}

/** An identifier as pg_dump writes it: plain lower case, or double-quoted. */
const IDENTIFIER = '(?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)';
const QUALIFIED = new RegExp(`^${IDENTIFIER}\\.${IDENTIFIER}$`);

/** Whether a COPY statement's table is a qualified name the drill may put into a query. */
export function isQualifiedName(name: string): boolean {
  return QUALIFIED.test(name);
}
