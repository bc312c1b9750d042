// The storage contract: everything above src/storage sees only these types, never an engine.
//
// A store is a set of named collections of ordered byte keys (compared bytewise, unsigned,
// like memcmp). All access goes through transactions:
//   - read(fn):  fn sees one consistent snapshot for its whole run.
//   - write(fn): fn's puts and dels commit all together or not at all; its reads see its own
//                writes; write transactions are serialisable across every process that has the
//                store open (engines that cannot do that say so with supports.multiProcess=false).
// Transactions take async callbacks so that engines reached over a network (PostgreSQL) fit the
// same contract; local engines resolve at once. Callers must not start a transaction from inside
// another one on the same store (it would wait for itself); pass the open tx down instead.

export type Bytes = Uint8Array;

/** Collections the layers above use. Engines may create them up front or lazily. */
export const COLLECTIONS = {
  meta: { large: false }, // vault identity, format version, counters
  inodes: { large: false }, // ino -> inode record
  dirents: { large: false }, // parent ino + name -> child ino + type
  chunks: { large: true }, // sha256 -> content chunk
  manifests: { large: true }, // sha256 -> list of chunk hashes
  oplog: { large: false }, // seq -> operation record
  inode_log: { large: false }, // ino + seq -> inode record as of seq (history)
  dirent_log: { large: false }, // parent + name + seq -> child (or tombstone) as of seq
  // Agent memory (src/memory; layout in docs/memory.md). Created on open like the rest, so a
  // vault made before them gains them the first time it is opened for writing.
  memories: { large: false }, // id -> memory record (text, tags, time, actor)
  memory_tags: { large: false }, // tag + 0x00 + id -> empty
  memory_terms: { large: false }, // term -> document frequency; 0x00 'stats' -> corpus stats
  memory_postings: { large: false }, // term + 0x00 + id -> term frequency, length, positions
  kv: { large: true }, // key -> version, times, value bytes
  kv_expiry: { large: false }, // expiry ms + key -> empty (TTL clean-up)
  sessions: { large: false }, // id -> session record
  session_intents: { large: false }, // intent + 0x00 + id -> empty
  streams: { large: true }, // name + 0x00 + offset -> time + appended bytes
  stream_heads: { large: false }, // name -> first/next offset, counts, times
  agent_state: { large: false }, // version -> state record (the newest is the current state)
  // Tags and metadata on files (src/tags; docs/tags.md), keyed by inode so they follow renames.
  tag_defs: { large: false }, // tag name -> definition (colour, time created)
  file_tags: { large: false }, // ino + tag name -> empty
  tag_files: { large: false }, // tag name + 0x00 + ino -> empty
  file_meta: { large: false }, // ino + key -> value
  // Search over file content (src/search; docs/search.md).
  parents: { large: false }, // ino -> parent ino(8) + name: where a search hit lives (checked against dirents)
  search_queue: { large: false }, // seq + ino -> empty: files whose content changed, not yet indexed
  search_terms: { large: false }, // shared full-text index (engines without their own): term -> df
  search_postings: { large: false }, // shared full-text index: term + 0x00 + first ino -> block
  search_docs: { large: false }, // ino -> what the full-text index holds for it (content id)
  grep_trigrams: { large: false }, // trigram index for grep: trigram + first ino -> block of inos
  grep_docs: { large: false }, // ino -> the trigrams indexed for it (to remove them on change)
} as const;
export type Collection = keyof typeof COLLECTIONS;
export const COLLECTION_NAMES = Object.keys(COLLECTIONS) as Collection[];

/** Keys are 1..MAX_KEY_BYTES bytes: LMDB's default limit is 511, and every engine keeps to it. */
export const MAX_KEY_BYTES = 511;

export interface Entry {
  key: Buffer;
  value: Buffer;
}

/**
 * A range over one collection. Bounds are optional and combine (all must hold).
 * `prefix` is shorthand for gte=prefix, lt=the first key after every key with that prefix.
 * Results come in key order, or reverse key order with `reverse`; `limit` caps the count.
 */
export interface RangeOptions {
  gt?: Bytes;
  gte?: Bytes;
  lt?: Bytes;
  lte?: Bytes;
  prefix?: Bytes;
  reverse?: boolean;
  limit?: number;
}

export interface ReadTx {
  get(coll: Collection, key: Bytes): Promise<Buffer | undefined>;
  has(coll: Collection, key: Bytes): Promise<boolean>;
  /** Entries in the range, in order. Page large ranges with `limit` and `gt`/`lt` (see scan()). */
  range(coll: Collection, opts?: RangeOptions): Promise<Entry[]>;
  /** Number of entries in the range, capped by `limit` like range() (may be computed by scanning). */
  count(coll: Collection, opts?: RangeOptions): Promise<number>;
  /**
   * Optional, for listing big folders: what range({ prefix }) gives, for keys that are `prefix`
   * + UTF-8 text without NUL bytes and values of exactly `valueBytes`, as the texts and the
   * values end to end (no object per entry: better-sqlite3 spends more making a Buffer per key
   * and value than finding them). Only keys after `prefix` + `after` when given; at most
   * `limit`. Callers go through rangeTexts() below, which falls back to range().
   */
  rangeTexts?(coll: Collection, prefix: Bytes, valueBytes: number, opts?: TextRangeOptions): Promise<TextEntries>;
  /**
   * Optional, for engines where every get() is a round trip (postgres): the values of several
   * keys of one collection in one, in the order asked (undefined where absent; a key may come
   * twice). Callers go through getMany() below, which falls back to get() one by one.
   */
  getMany?(coll: Collection, keys: readonly Bytes[]): Promise<(Buffer | undefined)[]>;
  /** Optional, as getMany: whether each key is there, in one round trip (a big write asks this of every chunk). */
  hasMany?(coll: Collection, keys: readonly Bytes[]): Promise<boolean[]>;
  /** The engine's own full-text index (present exactly when supports.fullText). */
  readonly fullText?: FullTextRead;
}

/** ReadTx.getMany where the engine has it, else get() for each key in turn. */
export async function getMany(tx: ReadTx, coll: Collection, keys: readonly Bytes[]): Promise<(Buffer | undefined)[]> {
  if (tx.getMany) return tx.getMany(coll, keys);
  const out: (Buffer | undefined)[] = [];
  for (const k of keys) out.push(await tx.get(coll, k));
  return out;
}

/** ReadTx.hasMany where the engine has it, else has() for each key in turn. */
export async function hasMany(tx: ReadTx, coll: Collection, keys: readonly Bytes[]): Promise<boolean[]> {
  if (tx.hasMany) return tx.hasMany(coll, keys);
  const out: boolean[] = [];
  for (const k of keys) out.push(await tx.has(coll, k));
  return out;
}

export interface TextRangeOptions {
  after?: string;
  limit?: number;
}

export interface TextEntries {
  texts: string[];
  /** texts.length values of valueBytes each, in the same order. */
  values: Buffer;
}

export interface WriteTx extends ReadTx {
  /**
   * The engine may hold `value` itself (not a copy) until the transaction ends, so a caller does
   * not change a value it put before then (as with node:fs, whose writes do not copy either).
   * An engine that keeps values past the transaction copies them. Copying every value up front
   * cost a big write a third of its time here: fresh memory is slow to touch (docs/engines.md).
   */
  put(coll: Collection, key: Bytes, value: Bytes): Promise<void>;
  /**
   * Optional, for content-addressed collections (chunks, manifests: a key's value never
   * changes): put unless the key is there. Callers go through putNew() below (has(), then
   * put()); postgres sends it as an insert that skips a key it finds, saving has()'s round trip.
   */
  putNew?(coll: Collection, key: Bytes, value: Bytes): Promise<void>;
  del(coll: Collection, key: Bytes): Promise<void>;
  /** The engine's own full-text index (present exactly when supports.fullText). */
  readonly fullText?: FullTextWrite;
}

/** WriteTx.putNew where the engine has it, else has() and put(). */
export async function putNew(tx: WriteTx, coll: Collection, key: Bytes, value: Bytes): Promise<void> {
  if (tx.putNew) return tx.putNew(coll, key, value);
  if (!(await tx.has(coll, key))) await tx.put(coll, key, value);
}

/**
 * A full-text query, already parsed (src/text/query.ts parses the language): a phrase is one or
 * more folded words in a row (one word is a phrase of one), its last word a prefix when
 * `prefix`; AND, OR and NOT (documents of `pos` without those of `neg`) combine them.
 */
export type TextQuery =
  | { kind: 'phrase'; terms: string[]; prefix: boolean }
  | { kind: 'and'; children: TextQuery[] }
  | { kind: 'or'; children: TextQuery[] }
  | { kind: 'not'; pos: TextQuery; neg: TextQuery };

/**
 * An engine's own full-text index over documents numbered by the caller. The caller tokenizes
 * (src/text/tokenize.ts): a document is its words, folded, separated by single spaces, so every
 * engine and the shared index see exactly the same words. Scores are BM25 (k1 1.2, b 0.75,
 * FTS5's idf), higher is better. Reads see the transaction's own writes.
 */
export interface FullTextRead {
  /** Matching documents and their scores; the `limit` best only when given (ties: higher id first). */
  match(query: TextQuery, limit?: number): Promise<Map<number, number>>;
  /** Documents indexed. */
  count(): Promise<number>;
  has(id: number): Promise<boolean>;
}

export interface FullTextWrite extends FullTextRead {
  /** Index document `id` (not indexed now) with these words. */
  put(id: number, words: string): Promise<void>;
  /** Take document `id` out; `words` must be exactly those it was put with. */
  del(id: number, words: string): Promise<void>;
  clear(): Promise<void>;
}

export interface Capabilities {
  /** Data outlives the process. */
  persistent: boolean;
  /** Several processes may open the store at once, with serialisable writes. */
  multiProcess: boolean;
  /** The engine has its own full-text index (tx.fullText); others get the shared one in src/search. */
  fullText: boolean;
  /** A copy of the store can share unchanged data with the original (forks). */
  cheapCopy: boolean;
}

export interface EngineStats {
  engine: string;
  /** Bytes on disk (0 for memory). */
  bytesOnDisk: number;
  /** Entry count per collection. */
  entries: Partial<Record<Collection, number>>;
  /** Anything engine-specific worth showing (page size, map size, WAL size, ...). */
  details: Record<string, string | number | boolean>;
}

export interface CompactStats {
  bytesBefore: number;
  bytesAfter: number;
  /** What the engine did or could not do, when that is not the usual (shown by `avfs compact`). */
  note?: string;
}

export interface Engine {
  readonly kind: EngineKind;
  readonly supports: Capabilities;
  read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T>;
  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T>;
  /** Make every committed write durable (commits already are unless settings relax it). */
  sync(): Promise<void>;
  compact(): Promise<CompactStats>;
  stats(): Promise<EngineStats>;
  /** Engine-level integrity check: a list of problems, empty when sound. */
  check(): Promise<string[]>;
  /**
   * Optional: write a complete copy of the store to `path` (which must not exist: EEXIST; its
   * folder must), in the same format, compacted where the engine can, and durable when the
   * promise resolves. The copy is one committed state: a write running meanwhile is wholly in
   * it or wholly out of it. The store stays usable throughout. Forks use it to start from a
   * bulk copy; engines without it (memory) are forked by streaming their collections.
   */
  copyTo?(path: string): Promise<void>;
  /**
   * Optional (rocksdb, where one opener per process holds the database): keep the store open
   * until done() and give a helper thread of this process the native handle to read it through
   * (grep's helpers; src/api/grep-pool.ts).
   */
  lend?(): Promise<{ handle: bigint; done(): void }>;
  /**
   * Optional: change events from every process and machine, for engines that have their own
   * (postgres: LISTEN/NOTIFY). src/memory/notify.ts uses them instead of a marker file. `key`
   * names the store in this process (engines open on the same store share one listener);
   * `listen` calls onChange after commits of others (and may call it spuriously).
   */
  readonly changes?: { key: string; listen(onChange: () => void): { close(): void } };
  close(): Promise<void>;
}

export type EngineKind = 'sqlite' | 'lmdb' | 'memory' | 'log' | 'rocksdb' | 'postgres';
export const ENGINE_KINDS: readonly EngineKind[] = ['sqlite', 'lmdb', 'memory', 'log', 'rocksdb', 'postgres'];

export interface OpenOptions {
  /** Where the store lives (a file for sqlite, a folder for lmdb, log and rocksdb, a URL for postgres; ignored by memory). */
  path: string;
  /** Create the store if it does not exist; otherwise a missing store is ENOVAULT. */
  create: boolean;
  readOnly?: boolean;
  /** Per-engine settings from the config file's [backend.NAME] section. */
  settings?: Record<string, unknown>;
  /** Encryption at rest (log engine): creates an encrypted store, or opens one. */
  passphrase?: string;
}

export type EngineFactory = (opts: OpenOptions) => Promise<Engine>;

// ---- helpers shared by engines and callers -------------------------------------------------

/** The smallest key greater than every key that starts with `prefix`, or undefined if none. */
export function prefixEnd(prefix: Bytes): Buffer | undefined {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] !== 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

/** ReadTx.rangeTexts where the engine has it, else the same answer from range(). */
export async function rangeTexts(tx: ReadTx, coll: Collection, prefix: Bytes, valueBytes: number, opts: TextRangeOptions = {}): Promise<TextEntries> {
  return tx.rangeTexts ? tx.rangeTexts(coll, prefix, valueBytes, opts) : rangeTextsByRange(tx, coll, prefix, valueBytes, opts);
}

export async function rangeTextsByRange(tx: ReadTx, coll: Collection, prefix: Bytes, valueBytes: number, opts: TextRangeOptions = {}): Promise<TextEntries> {
  const limit = opts.limit ?? Infinity;
  const page = await tx.range(coll, opts.after === undefined ? { prefix, limit } : { gt: Buffer.concat([prefix, Buffer.from(opts.after)]), prefix, limit });
  const values = Buffer.allocUnsafe(page.length * valueBytes);
  const texts = page.map((e, i) => {
    if (e.value.length !== valueBytes) throw new Error(`rangeTexts: a value of ${e.value.length} bytes, expected ${valueBytes}`);
    e.value.copy(values, i * valueBytes);
    return e.key.toString('utf8', prefix.length);
  });
  return { texts, values };
}

/** Reduce RangeOptions to one lower and one upper bound (each inclusive or not). */
export interface Bounds {
  lower?: Buffer;
  lowerInclusive: boolean;
  upper?: Buffer;
  upperInclusive: boolean;
}

export function toBounds(opts: RangeOptions = {}): Bounds {
  let lower: Buffer | undefined;
  let lowerInclusive = true;
  let upper: Buffer | undefined;
  let upperInclusive = false;
  const raise = (k: Bytes, inclusive: boolean) => {
    const b = Buffer.from(k);
    const c = lower === undefined ? 1 : Buffer.compare(b, lower);
    if (c > 0 || (c === 0 && !inclusive)) {
      lower = b;
      lowerInclusive = inclusive;
    }
  };
  const lowerUpper = (k: Bytes, inclusive: boolean) => {
    const b = Buffer.from(k);
    const c = upper === undefined ? -1 : Buffer.compare(b, upper);
    if (c < 0 || (c === 0 && !inclusive)) {
      upper = b;
      upperInclusive = inclusive;
    }
  };
  if (opts.prefix !== undefined && opts.prefix.length > 0) {
    raise(opts.prefix, true);
    const end = prefixEnd(opts.prefix);
    if (end !== undefined) lowerUpper(end, false);
  }
  if (opts.gte !== undefined) raise(opts.gte, true);
  if (opts.gt !== undefined) raise(opts.gt, false);
  if (opts.lte !== undefined) lowerUpper(opts.lte, true);
  if (opts.lt !== undefined) lowerUpper(opts.lt, false);
  return { lower, lowerInclusive, upper, upperInclusive };
}

/** True when the bounds can hold no key at all. */
export function emptyBounds(b: Bounds): boolean {
  if (b.lower === undefined || b.upper === undefined) return false;
  const c = Buffer.compare(b.lower, b.upper);
  return c > 0 || (c === 0 && !(b.lowerInclusive && b.upperInclusive));
}

export function inBounds(key: Buffer, b: Bounds): boolean {
  if (b.lower !== undefined) {
    const c = Buffer.compare(key, b.lower);
    if (c < 0 || (c === 0 && !b.lowerInclusive)) return false;
  }
  if (b.upper !== undefined) {
    const c = Buffer.compare(key, b.upper);
    if (c > 0 || (c === 0 && !b.upperInclusive)) return false;
  }
  return true;
}

/**
 * Walk a range of any size in pages, so a scan of a million keys never holds them all.
 * Each page is read with the tx given; the caller decides whether that is one snapshot.
 */
export async function* scan(
  tx: ReadTx,
  coll: Collection,
  opts: RangeOptions = {},
  pageSize = 1000,
): AsyncGenerator<Entry> {
  const b = toBounds(opts);
  let remaining = opts.limit ?? Infinity;
  let cursor: RangeOptions = {
    ...(b.lower ? (b.lowerInclusive ? { gte: b.lower } : { gt: b.lower }) : {}),
    ...(b.upper ? (b.upperInclusive ? { lte: b.upper } : { lt: b.upper }) : {}),
  };
  while (remaining > 0) {
    const page = await tx.range(coll, { ...cursor, reverse: opts.reverse, limit: Math.min(pageSize, remaining) });
    for (const e of page) yield e;
    remaining -= page.length;
    if (page.length < pageSize) return;
    const last = page[page.length - 1].key;
    cursor = opts.reverse
      ? { ...cursor, lte: undefined, lt: last }
      : { ...cursor, gte: undefined, gt: last };
  }
}

/** Delete every entry of a collection inside the caller's write transaction, a page at a time. */
export async function clearCollection(tx: WriteTx, coll: Collection): Promise<void> {
  for (;;) {
    const page = await tx.range(coll, { limit: 1000 });
    if (page.length === 0) return;
    for (const e of page) await tx.del(coll, e.key);
  }
}

export function checkKey(key: Bytes): void {
  if (key.length === 0 || key.length > MAX_KEY_BYTES) {
    throw new RangeError(`storage key must be 1..${MAX_KEY_BYTES} bytes, got ${key.length}`);
  }
}
