// Read and write transactions on one pooled connection. The engine has already run BEGIN.
//
// Round trips are what a network engine pays for, so a write transaction sends nothing for
// put() and del(): they go to an overlay (the last change per key) that get() and has() consult
// first. The overlay is written to the server with one statement (a DELETE and an INSERT ... ON
// CONFLICT in one WITH, whatever collections they touch) at commit, and before a range() or
// count() of a collection that has pending changes, so those read the server with the
// transaction's own writes in it.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Bytes, Collection, Entry, RangeOptions, ReadTx, WriteTx } from '../contract.js';
import { COLLECTION_NAMES, MAX_KEY_BYTES, checkKey, emptyBounds, toBounds, type Bounds } from '../contract.js';
import { toBuffer } from '../bytes.js';
import { fromPg } from './errors.js';
import type { Names } from './schema.js';
import { binaryArray } from './arrays.js';

/** Parameters of one flush at most, in bytes (the server takes up to 1 GB per parameter). */
const FLUSH_BYTES = 32 * 1024 * 1024;

export interface Session {
  client: pg.PoolClient;
  names: Names;
  display: string;
}

function storable(key: Bytes): boolean {
  return key.length > 0 && key.length <= MAX_KEY_BYTES;
}

function known(coll: Collection): void {
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

  async get(coll: Collection, key: Bytes): Promise<Buffer | undefined> {
    known(coll);
    if (!storable(key)) return undefined;
    const rows = await this.q(`SELECT value FROM ${this.s.names.entries} WHERE coll = $1 AND key = $2`, [coll, toBuffer(key)]);
    return rows.length ? (rows[0][0] as Buffer) : undefined;
  }

  async has(coll: Collection, key: Bytes): Promise<boolean> {
    known(coll);
    if (!storable(key)) return false;
    const rows = await this.q(`SELECT 1 FROM ${this.s.names.entries} WHERE coll = $1 AND key = $2`, [coll, toBuffer(key)]);
    return rows.length > 0;
  }

  async range(coll: Collection, opts: RangeOptions = {}): Promise<Entry[]> {
    known(coll);
    const b = toBounds(opts);
    const limit = sqlLimit(opts.limit);
    if (limit === 0 || emptyBounds(b)) return [];
    const values: unknown[] = [coll];
    let text = `SELECT key, value FROM ${this.s.names.entries} WHERE ${where(b, values)} ORDER BY key${opts.reverse ? ' DESC' : ''}`;
    if (limit !== undefined) {
      values.push(limit);
      text += ` LIMIT $${values.length}`;
    }
    const rows = await this.q(text, values);
    return rows.map((r) => ({ key: r[0] as Buffer, value: r[1] as Buffer }));
  }

  async count(coll: Collection, opts: RangeOptions = {}): Promise<number> {
    known(coll);
    const b = toBounds(opts);
    const limit = sqlLimit(opts.limit);
    if (limit === 0 || emptyBounds(b)) return 0;
    const values: unknown[] = [coll];
    let text = `SELECT count(*) FROM ${this.s.names.entries} WHERE ${where(b, values)}`;
    if (limit !== undefined) {
      values.push(limit);
      text = `SELECT count(*) FROM (SELECT 1 FROM ${this.s.names.entries} WHERE ${where(b, [coll])} LIMIT $${values.length}) AS capped`;
    }
    const rows = await this.q(text, values);
    return Number(rows[0][0]);
  }
}

interface Pending {
  key: Buffer;
  /** undefined: deleted. */
  value: Buffer | undefined;
}

export class PgWriteTx extends PgReadTx implements WriteTx {
  private pending = new Map<Collection, Map<string, Pending>>();
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
    known(coll);
    checkKey(key);
    if (this.finished) throw new Error('storage transaction already finished: use the tx only inside its callback');
    // Copies: the caller may reuse its buffers before the commit sends them.
    const k = Buffer.from(key);
    this.overlay(coll).set(k.toString('latin1'), { key: k, value: Buffer.from(value) });
  }

  async del(coll: Collection, key: Bytes): Promise<void> {
    known(coll);
    if (this.finished) throw new Error('storage transaction already finished: use the tx only inside its callback');
    if (!storable(key)) return;
    const k = Buffer.from(key);
    this.overlay(coll).set(k.toString('latin1'), { key: k, value: undefined });
  }

  override async get(coll: Collection, key: Bytes): Promise<Buffer | undefined> {
    const p = this.pending.get(coll)?.get(toBuffer(key).toString('latin1'));
    if (p) return p.value;
    return super.get(coll, key);
  }

  override async has(coll: Collection, key: Bytes): Promise<boolean> {
    const p = this.pending.get(coll)?.get(toBuffer(key).toString('latin1'));
    if (p) return p.value !== undefined;
    return super.has(coll, key);
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
