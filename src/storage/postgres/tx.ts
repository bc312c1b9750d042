// Read and write transactions on one pooled connection. The engine has already run BEGIN.
//
// Round trips are what a network engine pays for, so a write transaction sends nothing for
// put() and del(): they go to an overlay (the last unsent change per key), and get() and has()
// answer from the transaction's own changes first (`written`). The overlay is written to the server with one statement (a DELETE and an INSERT ... ON
// CONFLICT in one WITH, whatever collections they touch) at commit, and before a range() or
// count() of a collection that has pending changes, so those read the server with the
// transaction's own writes in it.
//
// get() and has() also consult the engine's EntryCache (cache.ts) when the transaction's stamp
// is the cache's: a record read or written by an earlier transaction of this process is not
// asked for again while no other client has committed since.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Bytes, Collection, Entry, RangeOptions, ReadTx, WriteTx } from '../contract.js';
import { COLLECTIONS, COLLECTION_NAMES, MAX_KEY_BYTES, checkKey, emptyBounds, toBounds, type Bounds } from '../contract.js';
import { toBuffer } from '../bytes.js';
import { fromPg } from './errors.js';
import type { Names } from './schema.js';
import { binaryArray } from './arrays.js';
import { bytesLiteral, copyRows } from './copy.js';
import { entryId, rangeId, type Cached, type EntryCache } from './cache.js';

/**
 * Parameters of one flush statement at most, in bytes (the server takes up to 1 GB per
 * parameter). Small, because each statement's arrays, pg's message and the server's copies of
 * them are fresh memory of its size, and fresh memory costs page faults: a 100 MiB write took
 * 3.8 s with 32 MiB statements, 1.3 s with 4 MiB, 1.0-1.1 s with 1 MiB (server CPU 0.65 -> 0.5 s),
 * 1.15 s with 256 KiB (more round trips).
 */
const FLUSH_BYTES = 1024 * 1024;

/**
 * getMany asks for this many keys or more by binary COPY (copy.ts), fewer by a prepared query;
 * a collection of large values (chunks, manifests, kv, streams) goes by COPY from one key on.
 */
const COPY_FROM = 4;

/**
 * Whether to read `n` values of `coll` by COPY. A bytea field comes as hex text to node-postgres
 * (2x the bytes, and a string made and decoded): one 64 KiB chunk took 1.8 ms by the prepared
 * query and 0.4 ms by COPY, a 1 KiB one 0.20 and 0.17 ms (warm, on the test cluster), so values
 * that may be large always go by COPY; a few small records (inodes, entries) by the prepared
 * query, which the server has planned once.
 */
function byCopy(coll: Collection, n: number): boolean {
  return n >= COPY_FROM || COLLECTIONS[coll].large;
}

export interface Session {
  client: pg.PoolClient;
  names: Names;
  display: string;
  cache: EntryCache;
  /** The stamp the transaction saw when it began (undefined: a store without one). */
  stamp: string | undefined;
  /** Whether the cache holds the state of `stamp` (EntryCache.adopt). */
  cached: boolean;
}

function storable(key: Bytes): boolean {
  return key.length > 0 && key.length <= MAX_KEY_BYTES;
}

function knownColl(coll: Collection): void {
  if (!COLLECTION_NAMES.includes(coll)) throw new RangeError(`unknown collection "${coll}"`);
}

/** A named (server-side prepared, once per connection) query for a statement text. */
function prepared(text: string, values: unknown[]): pg.QueryArrayConfig {
  return { name: 'avfs_' + createHash('sha1').update(text).digest('hex').slice(0, 24), text, values, rowMode: 'array' };
}

function where(b: Bounds, values: unknown[]): string {
  let w = 'coll = $1';
  if (b.lower !== undefined) {
    values.push(b.lower);
    w += ` AND key ${b.lowerInclusive ? '>=' : '>'} $${values.length}`;
  }
  if (b.upper !== undefined) {
    values.push(b.upper);
    w += ` AND key ${b.upperInclusive ? '<=' : '<'} $${values.length}`;
  }
  return w;
}

function sqlLimit(limit: number | undefined): number | undefined {
  return limit === undefined || limit === Infinity ? undefined : Math.max(0, Math.floor(limit));
}

export class PgReadTx implements ReadTx {
  finished = false;
  constructor(protected s: Session) {}

  protected live(): void {
    if (this.finished) throw new Error('storage transaction already finished: use the tx only inside its callback');
  }

  protected async q(text: string, values: unknown[]): Promise<unknown[][]> {
    this.live();
    try {
      return (await this.s.client.query(prepared(text, values))).rows;
    } catch (e) {
      throw fromPg(e, this.s.display);
    }
  }

  /** This transaction's own change to a key (a write's; undefined: none). */
  protected own(_id: string): Cached | undefined {
    return undefined;
  }

  /** What the transaction knows of a key without asking the server: its own change, else the cache's. */
  private known(id: string): Cached | undefined {
    const mine = this.own(id); // null (deleted here) is an answer too
    if (mine !== undefined) return mine;
    return this.s.cached ? this.s.cache.get(this.s.stamp!, id) : undefined;
  }

  async get(coll: Collection, key: Bytes): Promise<Buffer | undefined> {
    knownColl(coll);
    if (!storable(key)) return undefined;
    const k = toBuffer(key);
    const id = entryId(coll, k);
    const hit = this.known(id);
    if (hit !== undefined) return hit ?? undefined;
    let value: Buffer | undefined;
    if (byCopy(coll, 1)) value = (await this.valuesByCopy(coll, [k]))[0]?.[1];
    else {
      const rows = await this.q(`SELECT value FROM ${this.s.names.entries} WHERE coll = $1 AND key = $2`, [coll, k]);
      value = rows.length ? (rows[0][0] as Buffer) : undefined;
    }
    if (this.s.cached) this.s.cache.fill(this.s.stamp!, id, value ?? null);
    return value;
  }

  /**
   * Every key the transaction and the cache do not know, in one statement. node-postgres reads
   * a query's fields as text, so values came as base64 (encode(value, 'base64'): 1.33x the bytes
   * where bytea's hex is 2x, a string each and a decode); from COPY_FROM keys on, a binary COPY
   * (copy.ts) brings them as raw bytes instead. A 100 MiB file read 64 chunks at a time: 1.17 s
   * as base64, 0.56 s by COPY (~4 s one get at a time). Which way: byCopy.
   */
  async getMany(coll: Collection, keys: readonly Bytes[]): Promise<(Buffer | undefined)[]> {
    const { ids, known, ask } = this.sortKeys(coll, keys);
    const found = new Map<string, Buffer>();
    if (ask.size > 0) {
      const rows = byCopy(coll, ask.size) ? await this.valuesByCopy(coll, [...ask.values()]) : await this.valuesByQuery(coll, [...ask.values()]);
      for (const [key, value] of rows) found.set(entryId(coll, key), value);
      for (const id of ask.keys()) if (this.s.cached) this.s.cache.fill(this.s.stamp!, id, found.get(id) ?? null);
    }
    return ids.map((id, i) => (known[i] !== undefined ? (known[i] ?? undefined) : id === undefined ? undefined : found.get(id)));
  }

  private async valuesByQuery(coll: Collection, keys: Buffer[]): Promise<[Buffer, Buffer][]> {
    const rows = await this.q(`SELECT key, encode(value, 'base64') FROM ${this.s.names.entries} WHERE coll = $1 AND key = ANY($2::bytea[])`, [coll, binaryArray('bytea', keys)]);
    return rows.map((r) => [r[0] as Buffer, Buffer.from(r[1] as string, 'base64')]);
  }

  private async valuesByCopy(coll: Collection, keys: Buffer[]): Promise<[Buffer, Buffer][]> {
    this.live();
    // COPY takes no parameters: the collection is one of COLLECTION_NAMES (checked), the keys hex.
    const query = `SELECT key, value FROM ${this.s.names.entries} WHERE coll = '${coll}' AND key = ANY(ARRAY[${keys.map(bytesLiteral).join(', ')}])`;
    let rows: (Buffer | null)[][];
    try {
      rows = await copyRows(this.s.client, query);
    } catch (e) {
      throw fromPg(e, this.s.display);
    }
    return rows.map((r) => [r[0]!, r[1]!]);
  }

  /** Like getMany, without the values: whether each key is there, in one statement. */
  async hasMany(coll: Collection, keys: readonly Bytes[]): Promise<boolean[]> {
    const { ids, known, ask } = this.sortKeys(coll, keys);
    const there = new Set<string>();
    if (ask.size > 0) {
      const rows = await this.q(`SELECT key FROM ${this.s.names.entries} WHERE coll = $1 AND key = ANY($2::bytea[])`, [coll, binaryArray('bytea', [...ask.values()])]);
      for (const r of rows) there.add(entryId(coll, r[0] as Buffer));
      // As has(): absences are worth remembering, presences without their values are not.
      for (const id of ask.keys()) if (!there.has(id) && this.s.cached) this.s.cache.fill(this.s.stamp!, id, null);
    }
    return ids.map((id, i) => (known[i] !== undefined ? known[i] !== null : id !== undefined && there.has(id)));
  }

  /**
   * For getMany and hasMany: each storable key's cache id, what the transaction or the cache
   * knows of it (undefined: nothing), and the keys to ask the server, once each.
   */
  private sortKeys(coll: Collection, keys: readonly Bytes[]): { ids: (string | undefined)[]; known: (Cached | undefined)[]; ask: Map<string, Buffer> } {
    knownColl(coll);
    // Filled, not sparse: map() skips the holes of a sparse array (an unstorable key's place).
    const ids = new Array<string | undefined>(keys.length).fill(undefined);
    const known = new Array<Cached | undefined>(keys.length).fill(undefined);
    const ask = new Map<string, Buffer>();
    keys.forEach((key, i) => {
      if (!storable(key)) return;
      const k = toBuffer(key);
      const id = (ids[i] = entryId(coll, k));
      if ((known[i] = this.known(id)) === undefined) ask.set(id, k);
    });
    return { ids, known, ask };
  }

  async has(coll: Collection, key: Bytes): Promise<boolean> {
    knownColl(coll);
    if (!storable(key)) return false;
    const k = toBuffer(key);
    const id = entryId(coll, k);
    const hit = this.known(id);
    if (hit !== undefined) return hit !== null;
    const rows = await this.q(`SELECT 1 FROM ${this.s.names.entries} WHERE coll = $1 AND key = $2`, [coll, k]);
    // An absence is worth remembering (a chunk not stored yet); a presence without its value is not.
    if (rows.length === 0 && this.s.cached) this.s.cache.fill(this.s.stamp!, id, null);
    return rows.length > 0;
  }

  /** Whether range() and count() of `coll` may use the cache (not once this transaction wrote it). */
  protected rangesCacheable(_coll: Collection): boolean {
    return this.s.cached;
  }

  async range(coll: Collection, opts: RangeOptions = {}): Promise<Entry[]> {
    knownColl(coll);
    const b = toBounds(opts);
    const limit = sqlLimit(opts.limit);
    if (limit === 0 || emptyBounds(b)) return [];
    const id = this.rangesCacheable(coll) ? rangeId('range', coll, b, opts.reverse === true, limit) : undefined;
    const hit = id === undefined ? undefined : this.s.cache.getRange(this.s.stamp!, id);
    if (hit) return hit;
    const values: unknown[] = [coll];
    let text = `SELECT key, value FROM ${this.s.names.entries} WHERE ${where(b, values)} ORDER BY key${opts.reverse ? ' DESC' : ''}`;
    if (limit !== undefined) {
      values.push(limit);
      text += ` LIMIT $${values.length}`;
    }
    const rows = await this.q(text, values);
    const out = rows.map((r) => ({ key: r[0] as Buffer, value: r[1] as Buffer }));
    if (id !== undefined) this.s.cache.fillRange(this.s.stamp!, coll, id, out);
    return out;
  }

  async count(coll: Collection, opts: RangeOptions = {}): Promise<number> {
    knownColl(coll);
    const b = toBounds(opts);
    const limit = sqlLimit(opts.limit);
    if (limit === 0 || emptyBounds(b)) return 0;
    const id = this.rangesCacheable(coll) ? rangeId('count', coll, b, false, limit) : undefined;
    const hit = id === undefined ? undefined : this.s.cache.getCount(this.s.stamp!, id);
    if (hit !== undefined) return hit;
    const values: unknown[] = [coll];
    let text = `SELECT count(*) FROM ${this.s.names.entries} WHERE ${where(b, values)}`;
    if (limit !== undefined) {
      values.push(limit);
      text = `SELECT count(*) FROM (SELECT 1 FROM ${this.s.names.entries} WHERE ${where(b, [coll])} LIMIT $${values.length}) AS capped`;
    }
    const rows = await this.q(text, values);
    const n = Number(rows[0][0]);
    if (id !== undefined) this.s.cache.fillRange(this.s.stamp!, coll, id, n);
    return n;
  }
}

interface Pending {
  key: Buffer;
  /** undefined: deleted. */
  value: Buffer | undefined;
  /** putNew: stored only if the key is not there (a content-addressed value never changes). */
  ifAbsent?: boolean;
}

/** The pending changes of one flush statement, by kind, as its parameters want them. */
class Batch {
  readonly del = { coll: [] as Buffer[], key: [] as Buffer[] };
  readonly put = { coll: [] as Buffer[], key: [] as Buffer[], value: [] as Buffer[] };
  readonly fresh = { coll: [] as Buffer[], key: [] as Buffer[], value: [] as Buffer[] };
  bytes = 0;

  add(coll: Collection, p: Pending): void {
    const c = Buffer.from(coll);
    if (p.value === undefined) {
      this.del.coll.push(c);
      this.del.key.push(p.key);
    } else {
      const to = p.ifAbsent ? this.fresh : this.put;
      to.coll.push(c);
      to.key.push(p.key);
      to.value.push(p.value);
    }
    this.bytes += p.key.length + (p.value?.length ?? 0) + 16;
  }

  get empty(): boolean {
    return this.del.key.length + this.put.key.length + this.fresh.key.length === 0;
  }

  /** The eight arrays, in the order of flushStatement's $1..$8. */
  arrays(): [type: 'text' | 'bytea', items: Buffer[]][] {
    return [
      ['text', this.del.coll],
      ['bytea', this.del.key],
      ['text', this.put.coll],
      ['bytea', this.put.key],
      ['bytea', this.put.value],
      ['text', this.fresh.coll],
      ['bytea', this.fresh.key],
      ['bytea', this.fresh.value],
    ];
  }
}

/**
 * The statement for a batch: the deletions, the upserts and the inserts of new keys (disjoint:
 * the overlay holds one change per key), with Batch.arrays() as $1..$8.
 */
function flushStatement(entries: string): string {
  return `WITH gone AS (DELETE FROM ${entries} WHERE (coll, key) IN (SELECT * FROM unnest($1::text[], $2::bytea[]))),
              upsert AS (INSERT INTO ${entries} (coll, key, value) SELECT * FROM unnest($3::text[], $4::bytea[], $5::bytea[])
                         ON CONFLICT (coll, key) DO UPDATE SET value = excluded.value),
              fresh AS (INSERT INTO ${entries} (coll, key, value) SELECT * FROM unnest($6::text[], $7::bytea[], $8::bytea[])
                         ON CONFLICT (coll, key) DO NOTHING)
         SELECT 1`;
}

/**
 * Changes up to this many bytes go to the server inside the commit's own query (as literals,
 * one round trip for both): a small new file or an append made two there, the changes and then
 * the commit. Not more: hex literals of a 64 KiB chunk cost the server more to read than the
 * round trip saved (a one-byte overwrite of a big file: 4.2 ms at 16 KiB, 7.4 ms at 128 KiB).
 */
export const INLINE_BYTES = 16 * 1024;

export class PgWriteTx extends PgReadTx implements WriteTx {
  private pending = new Map<Collection, Map<string, Pending>>();
  /** Bytes in `pending` (about: keys, values and 16 per change). */
  private pendingBytes = 0;
  /**
   * Every key this transaction changed, by cache id, with its last value (null: deleted); unlike
   * `pending`, not emptied by a flush. get() answers from it first, so reads that reach the server
   * or the cache are of keys this transaction left alone, whose values are the ones at its stamp.
   * After the commit it is what the cache learns.
   */
  readonly written = new Map<string, Cached>();
  /** The collections this transaction changed: their ranges bypass the cache, and the commit drops theirs. */
  readonly wroteColls = new Set<Collection>();

  protected override rangesCacheable(coll: Collection): boolean {
    return this.s.cached && !this.wroteColls.has(coll);
  }
  /** Anything sent to the server (then the commit NOTIFYs watchers). */
  wrote = false;

  private change(coll: Collection, key: Buffer, p: Pending, value: Cached): void {
    const id = entryId(coll, key);
    let m = this.pending.get(coll);
    if (!m) {
      m = new Map();
      this.pending.set(coll, m);
    }
    m.set(id, p);
    this.pendingBytes += key.length + (p.value?.length ?? 0) + 16;
    this.written.set(id, value);
    this.wroteColls.add(coll);
  }

  async put(coll: Collection, key: Bytes, value: Bytes): Promise<void> {
    knownColl(coll);
    checkKey(key);
    this.live();
    // The key is copied (it names the change in maps); the value is held until the commit sends
    // it (WriteTx.put), and the cache copies what it keeps.
    const k = Buffer.from(key);
    const v = toBuffer(value);
    this.change(coll, k, { key: k, value: v }, v);
  }

  /**
   * WriteTx.putNew without asking the server: what this transaction or the cache knows of the
   * key decides; otherwise the key goes in with ON CONFLICT DO NOTHING (no round trip for has()).
   */
  async putNew(coll: Collection, key: Bytes, value: Bytes): Promise<void> {
    knownColl(coll);
    checkKey(key);
    this.live();
    const k = Buffer.from(key);
    const id = entryId(coll, k);
    const mine = this.written.get(id);
    const known = mine !== undefined ? mine : this.s.cached ? this.s.cache.get(this.s.stamp!, id) : undefined;
    if (known) return; // there, with this very value
    const v = toBuffer(value);
    // Known absent (deleted here, say): a plain put; unknown: only if absent when it reaches the server.
    this.change(coll, k, { key: k, value: v, ifAbsent: known === undefined }, v);
  }

  async del(coll: Collection, key: Bytes): Promise<void> {
    knownColl(coll);
    this.live();
    if (!storable(key)) return;
    const k = Buffer.from(key);
    this.change(coll, k, { key: k, value: undefined }, null);
  }

  protected override own(id: string): Cached | undefined {
    return this.written.get(id);
  }

  override async range(coll: Collection, opts: RangeOptions = {}): Promise<Entry[]> {
    await this.flush(coll);
    return super.range(coll, opts);
  }

  override async count(coll: Collection, opts: RangeOptions = {}): Promise<number> {
    await this.flush(coll);
    return super.count(coll, opts);
  }

  /** Take the pending changes (of one collection, or all) out of the overlay, in batches of about FLUSH_BYTES. */
  private *take(only?: Collection): Generator<Batch> {
    const colls = only === undefined ? [...this.pending.keys()] : this.pending.has(only) ? [only] : [];
    let batch = new Batch();
    for (const coll of colls) {
      const m = this.pending.get(coll)!;
      this.pending.delete(coll);
      for (const p of m.values()) {
        const had = batch.bytes;
        batch.add(coll, p);
        this.pendingBytes -= batch.bytes - had;
        if (batch.bytes >= FLUSH_BYTES) {
          yield batch;
          batch = new Batch();
        }
      }
    }
    if (!batch.empty) yield batch;
    if (this.pending.size === 0) this.pendingBytes = 0;
  }

  /**
   * Send the pending changes (of one collection, or all) to the server, in statements of about
   * FLUSH_BYTES. The next statement's arrays are built while the last one runs on the server
   * (pg queues a query behind the running one): a big write otherwise had the client and the
   * server take turns, each idle while the other worked. At most one statement runs and one
   * waits; errors surface in order (a failed statement aborts the transaction, so the one queued
   * behind it fails too, and only the first error is thrown). With `unlessUnder`, nothing is
   * sent when the pending changes are fewer bytes than that (the commit takes them inline).
   */
  async flush(only?: Collection, unlessUnder = 0): Promise<void> {
    if (only === undefined && this.pendingBytes < unlessUnder) return;
    let running: Promise<unknown> | undefined;
    for (const batch of this.take(only)) {
      const statement = this.q(
        flushStatement(this.s.names.entries),
        batch.arrays().map(([type, items]) => binaryArray(type, items)),
      );
      this.wrote = true;
      const before = running;
      running = statement;
      if (before) {
        statement.catch(() => {}); // thrown by the await that follows it, unless `before` failed first
        await before;
      }
    }
    await running;
  }

  /**
   * The pending changes as SQL with the values spelled out ('' when there are none), taken out
   * of the overlay: plain INSERT ... VALUES and DELETE statements, which the server plans in
   * far less time than the WITH over arrays (measured: the one WITH with literals took 1.2 ms a
   * commit of a small file, more than the round trip it saved).
   */
  inlineFlush(): string {
    const e = this.s.names.entries;
    const out: string[] = [];
    const row = (c: Buffer, k: Buffer, v?: Buffer) => `('${c.toString('latin1')}',${bytesLiteral(k)}${v ? `,${bytesLiteral(v)}` : ''})`;
    for (const b of this.take()) {
      if (b.del.key.length) out.push(`DELETE FROM ${e} WHERE (coll, key) IN (VALUES ${b.del.key.map((k, i) => row(b.del.coll[i], k)).join(',')})`);
      if (b.put.key.length)
        out.push(`INSERT INTO ${e} (coll, key, value) VALUES ${b.put.key.map((k, i) => row(b.put.coll[i], k, b.put.value[i])).join(',')} ON CONFLICT (coll, key) DO UPDATE SET value = excluded.value`);
      if (b.fresh.key.length)
        out.push(`INSERT INTO ${e} (coll, key, value) VALUES ${b.fresh.key.map((k, i) => row(b.fresh.coll[i], k, b.fresh.value[i])).join(',')} ON CONFLICT (coll, key) DO NOTHING`);
    }
    return out.map((x) => x + '; ').join('');
  }
}

export { fromPg };
