// Read and write transactions over one better-sqlite3 connection. The engine has already run
// BEGIN; these only run statements, and refuse to once the transaction is over (a tx used after
// its callback returned would otherwise write outside any transaction).
import type Database from 'better-sqlite3';
import type { Bytes, Collection, Entry, FullTextWrite, RangeOptions, ReadTx, TextEntries, TextRangeOptions, WriteTx } from '../contract.js';
import { MAX_KEY_BYTES, checkKey, emptyBounds, prefixEnd, rangeTextsByRange, toBounds } from '../contract.js';
import { vfsError } from '../../errors.js';
import { toBuffer } from '../bytes.js';
import { fromSqlite, isBusy, whileBusy } from './errors.js';
import { rangeParams, type CollectionStatements } from './statements.js';
import type { FtsStatements } from './fulltext.js';

export interface Session {
  readonly path: string;
  readonly db: Database.Database;
  readonly busyTimeoutMs: number;
  /** Statements for a collection, or undefined if its table does not exist (read-only old store). */
  statements(coll: Collection): CollectionStatements | undefined;
  /** The FTS5 table's statements, or undefined if the table does not exist (read-only old store). */
  fts(): FtsStatements | undefined;
}

/** A key the contract forbids can be stored nowhere, so reading it finds nothing. */
function storable(key: Bytes): boolean {
  return key.length > 0 && key.length <= MAX_KEY_BYTES;
}

/** SQLite's LIMIT: -1 means none. */
function sqlLimit(limit: number | undefined): number {
  return limit === undefined || limit === Infinity ? -1 : Math.max(0, Math.floor(limit));
}

export class SqliteReadTx implements ReadTx {
  finished = false;
  private ftsView: FullTextWrite | undefined;
  constructor(protected s: Session) {}

  get fullText(): FullTextWrite | undefined {
    if (!this.ftsView) {
      const fts = this.s.fts();
      if (fts) {
        this.ftsView = fts.bind((fn) => {
          if (this.finished) throw new Error('storage transaction already finished: use the tx only inside its callback');
          return this.run(fn);
        });
      }
    }
    return this.ftsView;
  }

  protected table(coll: Collection): CollectionStatements | undefined {
    if (this.finished) throw new Error('storage transaction already finished: use the tx only inside its callback');
    return this.s.statements(coll);
  }

  protected async run<T>(fn: () => T): Promise<T> {
    try {
      return fn();
    } catch (e) {
      // Inside an open transaction a statement can still meet a busy file (WAL recovery by
      // another process); it is safe to repeat as long as SQLite kept the transaction open.
      if (!isBusy(e)) throw fromSqlite(e, this.s.path);
      if (!this.s.db.inTransaction) throw vfsError('EBUSY', this.s.path, 'transaction aborted: store busy', e);
      return whileBusy(fn, this.s.busyTimeoutMs, this.s.path);
    }
  }

  async get(coll: Collection, key: Bytes): Promise<Buffer | undefined> {
    const st = this.table(coll);
    if (!st || !storable(key)) return undefined;
    return this.run(() => st.get.get(toBuffer(key)) as Buffer | undefined);
  }

  async has(coll: Collection, key: Bytes): Promise<boolean> {
    const st = this.table(coll);
    if (!st || !storable(key)) return false;
    return this.run(() => st.has.get(toBuffer(key)) !== undefined);
  }

  async range(coll: Collection, opts: RangeOptions = {}): Promise<Entry[]> {
    const st = this.table(coll);
    const b = toBounds(opts);
    const limit = sqlLimit(opts.limit);
    if (!st || limit === 0 || emptyBounds(b)) return [];
    const rows = await this.run(() => st.range(b, opts.reverse === true).all(...rangeParams(b, limit)) as [Buffer, Buffer][]);
    return rows.map(([key, value]) => ({ key, value }));
  }

  async rangeTexts(coll: Collection, prefix: Bytes, valueBytes: number, opts: TextRangeOptions = {}): Promise<TextEntries> {
    const st = this.table(coll);
    const end = prefixEnd(prefix);
    const limit = sqlLimit(opts.limit);
    if (!st || limit === 0) return { texts: [], values: Buffer.alloc(0) };
    if (prefix.length === 0 || end === undefined) return rangeTextsByRange(this, coll, prefix, valueBytes, opts);
    const p = toBuffer(prefix);
    const from = opts.after === undefined ? p : Buffer.concat([p, Buffer.from(opts.after)]);
    const args = limit < 0 ? [p.length + 1, from, end] : [p.length + 1, from, end, limit];
    const row = await this.run(() => st.texts(opts.after !== undefined, limit >= 0).get(...args) as [string | null, Buffer | null, number, number | null, number | null]);
    const [joined, values, n, shortest, longest] = row;
    if (n === 0) return { texts: [], values: Buffer.alloc(0) };
    if (shortest !== valueBytes || longest !== valueBytes) throw new Error(`rangeTexts: values of ${shortest}-${longest} bytes, expected ${valueBytes}`);
    const texts = (joined ?? '').split('\0');
    if (texts.length !== n || values === null || values.length !== n * valueBytes) throw new Error('rangeTexts: a key holds a NUL byte');
    return { texts, values };
  }

  async count(coll: Collection, opts: RangeOptions = {}): Promise<number> {
    const st = this.table(coll);
    const b = toBounds(opts);
    const limit = sqlLimit(opts.limit);
    if (!st || limit === 0 || emptyBounds(b)) return 0;
    return this.run(() => st.count(b).get(...rangeParams(b, limit)) as number);
  }
}

export class SqliteWriteTx extends SqliteReadTx implements WriteTx {
  async put(coll: Collection, key: Bytes, value: Bytes): Promise<void> {
    checkKey(key);
    const st = this.table(coll)!;
    await this.run(() => st.put.run(toBuffer(key), toBuffer(value)));
  }

  async del(coll: Collection, key: Bytes): Promise<void> {
    const st = this.table(coll)!;
    if (!storable(key)) return;
    await this.run(() => st.del.run(toBuffer(key)));
  }
}
