// Read and write transactions over lmdb-js. A read tx holds an explicit LMDB read transaction
// (its snapshot lasts across awaits); a write tx runs inside transactionSync, where lmdb-js sends
// every get and getRange without a `transaction` option to the open write transaction.
import type { Database, Transaction } from 'lmdb';
import type { Bytes, Collection, Entry, RangeOptions, ReadTx, TextEntries, TextRangeOptions, WriteTx } from '../contract.js';
import { MAX_KEY_BYTES, checkKey, emptyBounds, prefixEnd, toBounds } from '../contract.js';
import { toBuffer } from '../bytes.js';
import { fromLmdb } from './errors.js';
import { toLmdbRange } from './range.js';

export type Store = Database<Buffer, Buffer>;

export interface LmdbSession {
  readonly path: string;
  /** The store for a collection, or undefined if it does not exist (read-only, older store). */
  store(coll: Collection): Store | undefined;
  /** True while this process has a write transaction open on the environment. */
  readonly writing: boolean;
}

function storable(key: Bytes): boolean {
  return key.length > 0 && key.length <= MAX_KEY_BYTES;
}

function asBuffer(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export class LmdbReadTx implements ReadTx {
  finished = false;
  /** `txn` is the read snapshot; none inside a write tx, where lmdb-js uses the write txn. */
  constructor(
    protected s: LmdbSession,
    private txn?: Transaction,
  ) {}

  protected db(coll: Collection): Store | undefined {
    if (this.finished) throw new Error('storage transaction already finished: use the tx only inside its callback');
    return this.s.store(coll);
  }

  protected guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw fromLmdb(e, this.s.path);
    }
  }

  private lookup(db: Store, key: Buffer): Buffer | undefined {
    const txn = this.txn;
    if (txn === undefined || !this.s.writing) {
      const v = db.get(key, txn ? { transaction: txn } : undefined);
      return v === undefined ? undefined : asBuffer(v);
    }
    // lmdb-js's get() prefers an open write transaction over the one it is given, which would
    // show this reader uncommitted data; getRange honours `transaction`, so look up with it.
    for (const e of db.getRange({ start: key, end: key, inclusiveEnd: true, limit: 1, transaction: txn })) {
      return asBuffer(e.value);
    }
    return undefined;
  }

  async get(coll: Collection, key: Bytes): Promise<Buffer | undefined> {
    const db = this.db(coll);
    if (!db || !storable(key)) return undefined;
    return this.guard(() => this.lookup(db, toBuffer(key)));
  }

  async has(coll: Collection, key: Bytes): Promise<boolean> {
    return (await this.get(coll, key)) !== undefined;
  }

  async range(coll: Collection, opts: RangeOptions = {}): Promise<Entry[]> {
    const db = this.db(coll);
    const b = toBounds(opts);
    const limit = opts.limit ?? Infinity;
    if (!db || limit <= 0 || emptyBounds(b)) return [];
    return this.guard(() => {
      const out: Entry[] = [];
      const it = db.getRange({
        ...toLmdbRange(b, opts.reverse === true),
        ...(limit === Infinity ? {} : { limit: Math.floor(limit) }),
        ...(this.txn ? { transaction: this.txn } : {}),
      });
      for (const e of it) out.push({ key: asBuffer(e.key as Buffer), value: asBuffer(e.value) });
      return out;
    });
  }

  /** range() without an Entry per row: each key's text and value go straight where they belong. */
  async rangeTexts(coll: Collection, prefix: Bytes, valueBytes: number, opts: TextRangeOptions = {}): Promise<TextEntries> {
    const db = this.db(coll);
    const limit = opts.limit ?? Infinity;
    const p = toBuffer(prefix);
    const end = prefixEnd(p);
    if (!db || limit <= 0 || p.length === 0 || end === undefined) return { texts: [], values: Buffer.alloc(0) };
    return this.guard(() => {
      const texts: string[] = [];
      const parts: Uint8Array[] = [];
      const it = db.getRange({
        start: opts.after === undefined ? p : Buffer.concat([p, Buffer.from(opts.after)]),
        exclusiveStart: opts.after !== undefined,
        end,
        ...(limit === Infinity ? {} : { limit: Math.floor(limit) }),
        ...(this.txn ? { transaction: this.txn } : {}),
      });
      for (const e of it) {
        if (e.value.length !== valueBytes) throw new Error(`rangeTexts: a value of ${e.value.length} bytes, expected ${valueBytes}`);
        texts.push((e.key as Buffer).toString('utf8', p.length));
        parts.push(e.value);
      }
      return { texts, values: Buffer.concat(parts, texts.length * valueBytes) };
    });
  }

  async count(coll: Collection, opts: RangeOptions = {}): Promise<number> {
    const db = this.db(coll);
    const b = toBounds(opts);
    const limit = opts.limit ?? Infinity;
    if (!db || limit <= 0 || emptyBounds(b)) return 0;
    const n = this.guard(() => db.getCount({ ...toLmdbRange(b, false), ...(this.txn ? { transaction: this.txn } : {}) }));
    return Math.min(n, Math.floor(limit));
  }
}

export class LmdbWriteTx extends LmdbReadTx implements WriteTx {
  async put(coll: Collection, key: Bytes, value: Bytes): Promise<void> {
    checkKey(key);
    const db = this.db(coll)!;
    // Inside transactionSync, put writes at once into the open transaction.
    await this.guard(() => db.put(toBuffer(key), toBuffer(value)));
  }

  async del(coll: Collection, key: Bytes): Promise<void> {
    const db = this.db(coll)!;
    if (!storable(key)) return;
    await this.guard(() => db.remove(toBuffer(key)));
  }
}
