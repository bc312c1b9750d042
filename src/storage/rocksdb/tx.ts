// Transactions over one RocksDB database. A read transaction reads the live database until the
// first commit in this process after it began; that commit first pins it (tx.pin(): two
// iterators, which RocksDB gives the state as of their creation, i.e. the state the read began
// with, since every commit to the database is made by this process, synchronously, and pins
// first). So a read costs no snapshot unless a write actually overlaps it. A write transaction
// holds the holder's write mutex, so the live database is its snapshot; its puts and deletes
// wait in `pending` (reads see them, merged in key order) and go in one batch at commit.
import type { Bytes, Collection, Entry, RangeOptions, ReadTx, WriteTx } from '../contract.js';
import { checkKey, emptyBounds, toBounds } from '../contract.js';
import type { RocksDb, RocksIterator } from './binding.js';
import { dbBounds, dbKey, prefixOf, type DbBounds } from './keys.js';
import BTreeModule from 'sorted-btree';

interface PendingTree {
  set(k: Buffer, v: Pending): boolean;
  entries(lowest?: Buffer): IterableIterator<[Buffer, Pending]>;
}
// sorted-btree ships CommonJS with `exports.default`; under NodeNext the class sits on .default.
const BTree = (BTreeModule as unknown as { default: new (e: undefined, c: (a: Buffer, b: Buffer) => number) => PendingTree }).default;

const ENC = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;
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
  constructor(private db: RocksDb) {}
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
  constructor(
    public src: Source,
    private db?: RocksDb,
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
    return this.lookup(dbKey(coll, key));
  }
  protected lookup(k: Buffer): Buffer | undefined {
    return this.src.get(k);
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
    return this.scan(dbBounds(coll, b), opts.reverse === true, limit, values);
  }
  protected scan(b: DbBounds, reverse: boolean, limit: number, values: boolean): Row[] {
    return this.src.scan(b, reverse, limit, values);
  }
}

interface Pending {
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
    this.change(dbKey(coll, key), Buffer.from(value));
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
  protected override lookup(k: Buffer): Buffer | undefined {
    const p = this.pending.get(k.toString('latin1'));
    if (p) return p.value && Buffer.from(p.value);
    return this.src.get(k);
  }
  /** Pending changes inside the bounds, in key order. */
  private pendingIn(b: DbBounds): Pending[] {
    const out: Pending[] = [];
    for (const [k, p] of this.ordered.entries(b.lower)) {
      const hi = Buffer.compare(k, b.upper);
      if (hi > 0 || (hi === 0 && !b.upperInclusive)) break;
      if (!b.lowerInclusive && k.equals(b.lower)) continue;
      out.push(p);
    }
    return out;
  }
  protected override scan(b: DbBounds, reverse: boolean, limit: number, values: boolean): Row[] {
    const mine = this.pendingIn(b);
    if (mine.length === 0) return this.src.scan(b, reverse, limit, values);
    // Each pending key hides at most one stored entry, so this many stored ones are enough.
    const base = this.src.scan(b, reverse, limit + mine.length, values);
    const out: Row[] = base.filter(([k]) => !this.pending.has(k.toString('latin1')));
    for (const p of mine) if (p.value !== undefined) out.push([p.key, Buffer.from(p.value)]);
    out.sort((x, y) => (reverse ? Buffer.compare(y[0], x[0]) : Buffer.compare(x[0], y[0])));
    return out.length > limit ? out.slice(0, limit) : out;
  }
}
