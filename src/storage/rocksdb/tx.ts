// Transactions over one RocksDB database. A read transaction reads the live database until the
// first commit in this process after it began; that commit first pins it (tx.pin(): two
// iterators, which RocksDB gives the state as of their creation, i.e. the state the read began
// with, since every commit to the database is made by this process, synchronously, and pins
// first). So a read costs no snapshot unless a write actually overlaps it. A write transaction
// holds the holder's write mutex, so the live database is its snapshot; its puts and deletes
// wait in `pending` (reads see them, merged in key order) and go in one batch at commit.
import type { Bytes, Collection, Entry, RangeOptions, ReadTx, TextEntries, TextRangeOptions, WriteTx } from '../contract.js';
import { checkKey, emptyBounds, prefixEnd, rangeTextsByRange, toBounds } from '../contract.js';
import type { RocksDb, RocksIterator } from './binding.js';
import { toBuffer } from '../bytes.js';
import { dbBounds, dbKey, fromTextValue, prefixOf, TEXT_COLLECTION, type DbBounds } from './keys.js';
import BTreeModule from 'sorted-btree';

interface PendingTree {
  set(k: Buffer, v: Pending): boolean;
  entries(lowest?: Buffer): IterableIterator<[Buffer, Pending]>;
}
// sorted-btree ships CommonJS with `exports.default`; under NodeNext the class sits on .default.
const BTree = (BTreeModule as unknown as { default: new (e: undefined, c: (a: Buffer, b: Buffer) => number) => PendingTree }).default;

const ENC = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;
const TEXT = { keyEncoding: 'utf8', valueEncoding: 'utf8' } as const;
const EMPTY = Buffer.alloc(0);
const PAGE = 1000;

type Row = [Buffer, Buffer];

/** Where a transaction's reads come from (keys in the store's key space). */
export interface Source {
  get(k: Buffer): Buffer | undefined;
  scan(b: DbBounds, reverse: boolean, limit: number, values: boolean): Row[];
  close(): void;
}

function take(it: RocksIterator, size: number): { rows: (Buffer | undefined)[]; finished: boolean } {
  return it._nextvSync(size, ENC);
}

/** The database as it is now. */
export class LiveSource implements Source {
  constructor(readonly db: RocksDb) {}
  get(k: Buffer): Buffer | undefined {
    return this.db._getManySync([k], ENC)[0] ?? undefined;
  }
  scan(b: DbBounds, reverse: boolean, limit: number, values: boolean): Row[] {
    const it = this.db._iterator({
      ...ENC,
      ...(b.lowerInclusive ? { gte: b.lower } : { gt: b.lower }),
      ...(b.upperInclusive ? { lte: b.upper } : { lt: b.upper }),
      reverse,
      limit: Number.isFinite(limit) ? limit : -1,
      values,
    });
    const out: Row[] = [];
    try {
      for (;;) {
        const { rows, finished } = take(it, Math.min(PAGE, limit - out.length));
        for (let i = 0; i < rows.length; i += 2) out.push([rows[i]!, rows[i + 1] ?? EMPTY]);
        if (finished || rows.length === 0 || out.length >= limit) return out;
      }
    } finally {
      it._closeSync();
    }
  }
  /** Keys and values as UTF-8 strings (a string costs the binding far less than a Buffer). */
  scanText(b: DbBounds, limit: number): string[] {
    const it = this.db._iterator({
      ...TEXT,
      ...(b.lowerInclusive ? { gte: b.lower } : { gt: b.lower }),
      ...(b.upperInclusive ? { lte: b.upper } : { lt: b.upper }),
      limit: Number.isFinite(limit) ? limit : -1,
    } as never);
    let out: string[] = [];
    try {
      for (;;) {
        const { rows, finished } = it._nextvSync(PAGE * 16, TEXT) as unknown as { rows: string[]; finished: boolean };
        out = out.length === 0 ? rows : out.concat(rows);
        if (finished || rows.length === 0 || out.length >= limit * 2) return out;
      }
    } finally {
      it._closeSync();
    }
  }
  close(): void {}
}

/** The database as it was when pinned: one forward and one reverse iterator, sought per read. */
export class PinnedSource implements Source {
  private fwd: RocksIterator;
  private rev: RocksIterator;
  constructor(db: RocksDb) {
    this.fwd = db._iterator({ ...ENC });
    this.rev = db._iterator({ ...ENC, reverse: true });
  }
  get(k: Buffer): Buffer | undefined {
    this.fwd._seekSync(k);
    const { rows } = take(this.fwd, 1);
    return rows.length > 0 && rows[0]!.equals(k) ? rows[1] ?? EMPTY : undefined;
  }
  scan(b: DbBounds, reverse: boolean, limit: number): Row[] {
    const it = reverse ? this.rev : this.fwd;
    // Forward: Seek (first key >= lower). Reverse: SeekForPrev (last key <= upper).
    it._seekSync(reverse ? b.upper : b.lower);
    const out: Row[] = [];
    let page = 16; // bounds are often narrow: do not read a thousand keys past them
    for (;;) {
      const { rows, finished } = take(it, page);
      for (let i = 0; i < rows.length; i += 2) {
        const k = rows[i]!;
        const lo = Buffer.compare(k, b.lower);
        const hi = Buffer.compare(k, b.upper);
        if (reverse ? lo < 0 || (lo === 0 && !b.lowerInclusive) : hi > 0 || (hi === 0 && !b.upperInclusive)) return out;
        if (reverse ? hi === 0 && !b.upperInclusive : lo === 0 && !b.lowerInclusive) continue;
        out.push([k, rows[i + 1] ?? EMPTY]);
        if (out.length >= limit) return out;
      }
      if (finished || rows.length === 0) return out;
      page = Math.min(page * 4, PAGE);
    }
  }
  close(): void {
    this.fwd._closeSync();
    this.rev._closeSync();
  }
}

export class RocksReadTx implements ReadTx {
  finished = false;
  readonly startedMs = Date.now();
  /**
   * @param text the store keeps TEXT_COLLECTION's values as text (format 2, keys.ts): they are
   * decoded on the way out (and encoded at commit, engine.ts).
   */
  constructor(
    public src: Source,
    private db?: RocksDb,
    readonly text = false,
  ) {}
  /** The private copy this read was moved to (handover.ts), if it was. */
  copy?: import('./handover.js').PrivateCopy;
  /** Called before a commit in this process: from now on, read the state as of this moment. */
  pin(): void {
    if (this.db && this.src instanceof LiveSource) this.src = new PinnedSource(this.db);
  }
  /** Read from `db` (a copy of the state this read sees) from now on. */
  moveTo(db: RocksDb): void {
    this.src.close();
    this.src = new LiveSource(db);
    this.db = undefined;
  }
  protected live(): void {
    if (this.finished) throw new Error('storage transaction already finished: use the tx only inside its callback');
  }
  async get(coll: Collection, key: Bytes): Promise<Buffer | undefined> {
    this.live();
    return this.lookup(dbKey(coll, key), this.decodes(coll));
  }
  protected decodes(coll: Collection): boolean {
    return this.text && coll === TEXT_COLLECTION;
  }
  protected lookup(k: Buffer, decode: boolean): Buffer | undefined {
    const v = this.src.get(k);
    return decode && v !== undefined ? fromTextValue(v) : v;
  }
  async has(coll: Collection, key: Bytes): Promise<boolean> {
    return (await this.get(coll, key)) !== undefined;
  }
  async range(coll: Collection, opts: RangeOptions = {}): Promise<Entry[]> {
    this.live();
    const p = prefixOf(coll).length;
    return this.rows(coll, opts, true).map(([k, v]) => ({ key: k.subarray(p), value: v }));
  }
  async count(coll: Collection, opts: RangeOptions = {}): Promise<number> {
    this.live();
    return this.rows(coll, opts, false).length;
  }
  protected rows(coll: Collection, opts: RangeOptions, values: boolean): Row[] {
    const limit = opts.limit ?? Infinity;
    const b = toBounds(opts);
    if (limit <= 0 || emptyBounds(b)) return [];
    return this.scan(dbBounds(coll, b), opts.reverse === true, limit, values, values && this.decodes(coll));
  }
  protected scan(b: DbBounds, reverse: boolean, limit: number, values: boolean, decode: boolean): Row[] {
    const rows = this.src.scan(b, reverse, limit, values);
    if (decode) for (const r of rows) r[1] = fromTextValue(r[1]);
    return rows;
  }
  /** True when this transaction has changes of its own inside the bounds (a write's pending ones). */
  protected touches(_b: DbBounds): boolean {
    return false;
  }

  /**
   * A folder listing. On a format 2 store read live, keys and values come from the binding as
   * strings; each key must start with the prefix as the same decoder reads it (it does for the
   * UTF-8 names the contract promises after any prefix) and each value must be valueBytes
   * characters under 0x100, else the answer comes from range() as for any engine.
   */
  async rangeTexts(coll: Collection, prefix: Bytes, valueBytes: number, opts: TextRangeOptions = {}): Promise<TextEntries> {
    this.live();
    const limit = opts.limit ?? Infinity;
    const src = this.src;
    if (!this.decodes(coll) || !(src instanceof LiveSource) || limit <= 0) return rangeTextsByRange(this, coll, prefix, valueBytes, opts);
    const head = dbKey(coll, prefix);
    const b: DbBounds = {
      lower: opts.after === undefined ? head : Buffer.concat([head, Buffer.from(opts.after)]),
      lowerInclusive: opts.after === undefined,
      upper: prefixEnd(head)!, // the collection's name comes first: never all 0xff
      upperInclusive: false,
    };
    if (this.touches(b)) return rangeTextsByRange(this, coll, prefix, valueBytes, opts);
    const rows = src.scanText(b, limit);
    const start = head.toString('utf8');
    const n = rows.length / 2;
    const texts = new Array<string>(n);
    const values = Buffer.allocUnsafe(n * valueBytes);
    for (let i = 0; i < n; i++) {
      const k = rows[2 * i]!;
      const v = rows[2 * i + 1]!;
      if (!k.startsWith(start) || v.length !== valueBytes) return rangeTextsByRange(this, coll, prefix, valueBytes, opts);
      texts[i] = k.slice(start.length);
      for (let j = 0, o = i * valueBytes; j < valueBytes; j++) {
        const c = v.charCodeAt(j);
        if (c > 0xff) return rangeTextsByRange(this, coll, prefix, valueBytes, opts);
        values[o + j] = c;
      }
    }
    return { texts, values };
  }
}

export interface Pending {
  key: Buffer;
  /** undefined: deleted. */
  value: Buffer | undefined;
}

export class RocksWriteTx extends RocksReadTx implements WriteTx {
  /** The last change per key (store key as latin1). */
  readonly pending = new Map<string, Pending>();
  /** The same changes in key order, for ranges (a B+tree: a batch may hold many thousands). */
  private readonly ordered: PendingTree = new BTree(undefined, Buffer.compare);

  async put(coll: Collection, key: Bytes, value: Bytes): Promise<void> {
    this.live();
    checkKey(key);
    // Held, not copied, until the batch copies it at commit (WriteTx.put).
    this.change(dbKey(coll, key), toBuffer(value));
  }
  async del(coll: Collection, key: Bytes): Promise<void> {
    this.live();
    this.change(dbKey(coll, key), undefined);
  }
  private change(k: Buffer, value: Buffer | undefined): void {
    const id = k.toString('latin1');
    const p = this.pending.get(id);
    if (p) p.value = value;
    else {
      const n = { key: k, value };
      this.pending.set(id, n);
      this.ordered.set(k, n);
    }
  }
  protected override lookup(k: Buffer, decode: boolean): Buffer | undefined {
    const p = this.pending.get(k.toString('latin1'));
    if (p) return p.value && Buffer.from(p.value);
    return super.lookup(k, decode);
  }
  /** Pending changes inside the bounds, in key order. */
  private pendingIn(b: DbBounds, max = Infinity): Pending[] {
    const out: Pending[] = [];
    for (const [k, p] of this.ordered.entries(b.lower)) {
      const hi = Buffer.compare(k, b.upper);
      if (hi > 0 || (hi === 0 && !b.upperInclusive)) break;
      if (!b.lowerInclusive && k.equals(b.lower)) continue;
      out.push(p);
      if (out.length >= max) break;
    }
    return out;
  }
  protected override touches(b: DbBounds): boolean {
    return this.pendingIn(b, 1).length > 0;
  }
  protected override scan(b: DbBounds, reverse: boolean, limit: number, values: boolean, decode: boolean): Row[] {
    const mine = this.pendingIn(b);
    if (mine.length === 0) return super.scan(b, reverse, limit, values, decode);
    // Each pending key hides at most one stored entry, so this many stored ones are enough.
    const base = super.scan(b, reverse, limit + mine.length, values, decode);
    const out: Row[] = base.filter(([k]) => !this.pending.has(k.toString('latin1')));
    for (const p of mine) if (p.value !== undefined) out.push([p.key, Buffer.from(p.value)]);
    out.sort((x, y) => (reverse ? Buffer.compare(y[0], x[0]) : Buffer.compare(x[0], y[0])));
    return out.length > limit ? out.slice(0, limit) : out;
  }
}
