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
import { COLLECTION_NAMES, MAX_KEY_BYTES, checkKey, emptyBounds, toBounds, type Bounds } from '../contract.js';
import { toBuffer } from '../bytes.js';
import { fromPg } from './errors.js';
import type { Names } from './schema.js';
import { binaryArray } from './arrays.js';
import { entryId, rangeId, type Cached, type EntryCache } from './cache.js';

/**
 * Parameters of one flush at most, in bytes (the server takes up to 1 GB per parameter). Small:
 * a statement's arrays and pg's message are fresh buffers of its size, and fresh memory costs
 * page faults (a 100 MiB write: 3.8 s with 32 MiB statements, about 2 s with 4 MiB).
 */
const FLUSH_BYTES = 4 * 1024 * 1024;

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

  protected async q(text: string, values: unknown[]): Promise<unknown[][]> {
    if (this.finished) throw new Error('storage transaction already finished: use the tx only inside its callback');
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
    const rows = await this.q(`SELECT value FROM ${this.s.names.entries} WHERE coll = $1 AND key = $2`, [coll, k]);
    const value = rows.length ? (rows[0][0] as Buffer) : undefined;
    if (this.s.cached) this.s.cache.fill(this.s.stamp!, id, value ?? null);
    return value;
  }

  /**
   * Every key the transaction and the cache do not know, in one statement. Values come back in
   * base64 (encode(value, 'base64')): node-postgres reads results as text, and base64 is 1.33x
   * the bytes where bytea's hex is 2x, and Buffer decodes it faster. Reading a 100 MiB file 64
   * chunks at a time this way took ~1.0 s on a Unix socket, against ~4 s one get at a time.
   */
  async getMany(coll: Collection, keys: readonly Bytes[]): Promise<(Buffer | undefined)[]> {
    knownColl(coll);
    const out = new Array<Buffer | undefined>(keys.length);
    const ids = new Array<string | undefined>(keys.length);
    const ask = new Map<string, Buffer>();
    keys.forEach((key, i) => {
      if (!storable(key)) return;
      const k = toBuffer(key);
      const id = (ids[i] = entryId(coll, k));
      const hit = this.known(id);
      if (hit !== undefined) out[i] = hit ?? undefined;
      else ask.set(id, k);
    });
    if (ask.size === 0) return out;
    const rows = await this.q(`SELECT key, encode(value, 'base64') FROM ${this.s.names.entries} WHERE coll = $1 AND key = ANY($2::bytea[])`, [
      coll,
      binaryArray('bytea', [...ask.values()]),
    ]);
    const found = new Map<string, Buffer>();
    for (const r of rows) found.set(entryId(coll, r[0] as Buffer), Buffer.from(r[1] as string, 'base64'));
    for (const id of ask.keys()) if (this.s.cached) this.s.cache.fill(this.s.stamp!, id, found.get(id) ?? null);
    keys.forEach((_, i) => {
      const id = ids[i];
      if (id !== undefined && ask.has(id)) out[i] = found.get(id);
    });
    return out;
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
}

export class PgWriteTx extends PgReadTx implements WriteTx {
  private pending = new Map<Collection, Map<string, Pending>>();
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

  private overlay(coll: Collection): Map<string, Pending> {
    let m = this.pending.get(coll);
    if (!m) {
      m = new Map();
      this.pending.set(coll, m);
    }
    return m;
  }

  async put(coll: Collection, key: Bytes, value: Bytes): Promise<void> {
    knownColl(coll);
    checkKey(key);
    if (this.finished) throw new Error('storage transaction already finished: use the tx only inside its callback');
    // Copies: the caller may reuse its buffers before the commit sends them.
    const k = Buffer.from(key);
    const v = Buffer.from(value);
    const id = entryId(coll, k);
    this.overlay(coll).set(id, { key: k, value: v });
    this.written.set(id, v);
    this.wroteColls.add(coll);
  }

  async del(coll: Collection, key: Bytes): Promise<void> {
    knownColl(coll);
    if (this.finished) throw new Error('storage transaction already finished: use the tx only inside its callback');
    if (!storable(key)) return;
    const k = Buffer.from(key);
    const id = entryId(coll, k);
    this.overlay(coll).set(id, { key: k, value: undefined });
    this.written.set(id, null);
    this.wroteColls.add(coll);
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

  /** Send the pending changes (of one collection, or all) to the server. */
  async flush(only?: Collection): Promise<void> {
    const colls = only === undefined ? [...this.pending.keys()] : this.pending.has(only) ? [only] : [];
    let batch = { delColl: [] as string[], delKey: [] as Buffer[], putColl: [] as string[], putKey: [] as Buffer[], putValue: [] as Buffer[], bytes: 0 };
    const send = async () => {
      if (batch.delKey.length === 0 && batch.putKey.length === 0) return;
      const e = this.s.names.entries;
      await this.q(
        `WITH gone AS (DELETE FROM ${e} WHERE (coll, key) IN (SELECT * FROM unnest($1::text[], $2::bytea[]))),
              upsert AS (INSERT INTO ${e} (coll, key, value) SELECT * FROM unnest($3::text[], $4::bytea[], $5::bytea[])
                         ON CONFLICT (coll, key) DO UPDATE SET value = excluded.value)
         SELECT 1`,
        [
          binaryArray('text', batch.delColl.map((c) => Buffer.from(c))),
          binaryArray('bytea', batch.delKey),
          binaryArray('text', batch.putColl.map((c) => Buffer.from(c))),
          binaryArray('bytea', batch.putKey),
          binaryArray('bytea', batch.putValue),
        ],
      );
      this.wrote = true;
      batch = { delColl: [], delKey: [], putColl: [], putKey: [], putValue: [], bytes: 0 };
    };
    for (const coll of colls) {
      const m = this.pending.get(coll)!;
      this.pending.delete(coll);
      for (const p of m.values()) {
        if (p.value === undefined) {
          batch.delColl.push(coll);
          batch.delKey.push(p.key);
        } else {
          batch.putColl.push(coll);
          batch.putKey.push(p.key);
          batch.putValue.push(p.value);
        }
        batch.bytes += p.key.length + (p.value?.length ?? 0) + 16;
        if (batch.bytes >= FLUSH_BYTES) await send();
      }
    }
    await send();
  }
}

export { fromPg };
