// The memory engine: for tests and scratch vaults. Nothing reaches disk.
// Each collection is a copy-on-write B+tree (sorted-btree): a transaction clones the trees it
// touches in O(1), writes to the clones, and swaps them in on commit, so readers keep a stable
// snapshot and a failed transaction leaves nothing behind.
import BTreeModule from 'sorted-btree';
import type {
  Bytes,
  Collection,
  CompactStats,
  Engine,
  EngineStats,
  Entry,
  OpenOptions,
  RangeOptions,
  ReadTx,
  TextEntries,
  TextRangeOptions,
  WriteTx,
} from '../contract.js';
import { COLLECTION_NAMES, checkKey, emptyBounds, prefixEnd, toBounds } from '../contract.js';
import { Mutex } from '../mutex.js';

type Tree = InstanceType<typeof BTreeModule.default>;
// sorted-btree ships CommonJS with `exports.default`; under NodeNext the class sits on .default.
const BTree = (BTreeModule as unknown as { default: new (e?: [Buffer, Buffer][], c?: (a: Buffer, b: Buffer) => number) => Tree }).default;
const newTree = (): Tree => new BTree(undefined, Buffer.compare);

type Trees = Map<Collection, Tree>;

function tree(trees: Trees, coll: Collection): Tree {
  let t = trees.get(coll);
  if (!t) {
    if (!COLLECTION_NAMES.includes(coll)) throw new RangeError(`unknown collection "${coll}"`);
    t = newTree();
    trees.set(coll, t);
  }
  return t;
}

function rangeOf(t: Tree, opts: RangeOptions = {}): Entry[] {
  const b = toBounds(opts);
  const out: Entry[] = [];
  const limit = opts.limit ?? Infinity;
  if (limit <= 0 || emptyBounds(b)) return out;
  if (!opts.reverse) {
    for (const [k, v] of t.entries(b.lower) as IterableIterator<[Buffer, Buffer]>) {
      if (b.lower && !b.lowerInclusive && k.equals(b.lower)) continue;
      if (b.upper) {
        const c = Buffer.compare(k, b.upper);
        if (c > 0 || (c === 0 && !b.upperInclusive)) break;
      }
      out.push({ key: Buffer.from(k), value: Buffer.from(v) });
      if (out.length >= limit) break;
    }
  } else {
    const it = t.entriesReversed(b.upper, undefined, b.upper !== undefined && !b.upperInclusive) as IterableIterator<[Buffer, Buffer]>;
    for (const [k, v] of it) {
      if (b.lower) {
        const c = Buffer.compare(k, b.lower);
        if (c < 0 || (c === 0 && !b.lowerInclusive)) break;
      }
      out.push({ key: Buffer.from(k), value: Buffer.from(v) });
      if (out.length >= limit) break;
    }
  }
  return out;
}

class MemoryReadTx implements ReadTx {
  constructor(protected trees: Trees) {}
  async get(coll: Collection, key: Bytes): Promise<Buffer | undefined> {
    const v = tree(this.trees, coll).get(Buffer.from(key)) as Buffer | undefined;
    return v === undefined ? undefined : Buffer.from(v);
  }
  async has(coll: Collection, key: Bytes): Promise<boolean> {
    return tree(this.trees, coll).has(Buffer.from(key));
  }
  async range(coll: Collection, opts?: RangeOptions): Promise<Entry[]> {
    return rangeOf(tree(this.trees, coll), opts);
  }
  /**
   * range() without an Entry (and two copied Buffers) per row: a 10,000-entry folder listed in
   * about a third of the time. The texts are new strings and the values are copied into one
   * buffer, so nothing handed out is the tree's own memory.
   */
  async rangeTexts(coll: Collection, prefix: Bytes, valueBytes: number, opts: TextRangeOptions = {}): Promise<TextEntries> {
    const t = tree(this.trees, coll);
    const limit = Math.floor(opts.limit ?? Infinity);
    const p = Buffer.from(prefix);
    const end = prefixEnd(p);
    if (limit <= 0 || p.length === 0 || end === undefined) return { texts: [], values: Buffer.alloc(0) };
    const from = opts.after === undefined ? p : Buffer.concat([p, Buffer.from(opts.after)]);
    const texts: string[] = [];
    const parts: Buffer[] = [];
    for (const [k, v] of t.entries(from) as IterableIterator<[Buffer, Buffer]>) {
      if (Buffer.compare(k, end) >= 0) break;
      if (opts.after !== undefined && k.equals(from)) continue; // after is exclusive
      if (v.length !== valueBytes) throw new Error(`rangeTexts: a value of ${v.length} bytes, expected ${valueBytes}`);
      texts.push(k.toString('utf8', p.length));
      parts.push(v);
      if (texts.length >= limit) break;
    }
    return { texts, values: Buffer.concat(parts, texts.length * valueBytes) };
  }
  async count(coll: Collection, opts: RangeOptions = {}): Promise<number> {
    // `limit` caps the count too (RangeOptions), as it caps what range() returns.
    if ((opts.gt ?? opts.gte ?? opts.lt ?? opts.lte ?? opts.prefix) === undefined) {
      return Math.max(0, Math.min(tree(this.trees, coll).size, opts.limit ?? Infinity));
    }
    return rangeOf(tree(this.trees, coll), opts).length;
  }
}

class MemoryWriteTx extends MemoryReadTx implements WriteTx {
  private cloned = new Set<Collection>();
  constructor(private committed: Trees) {
    super(new Map(committed));
  }
  private writable(coll: Collection): Tree {
    if (!this.cloned.has(coll)) {
      this.trees.set(coll, tree(this.committed, coll).clone());
      this.cloned.add(coll);
    }
    return this.trees.get(coll)!;
  }
  private done = false;
  private live(): void {
    // After commit the clones are the committed trees: a late write would change them in place.
    if (this.done) throw new Error('transaction used after it ended');
  }
  async put(coll: Collection, key: Bytes, value: Bytes): Promise<void> {
    this.live();
    checkKey(key);
    this.writable(coll).set(Buffer.from(key), Buffer.from(value));
  }
  async del(coll: Collection, key: Bytes): Promise<void> {
    this.live();
    this.writable(coll).delete(Buffer.from(key));
  }
  /** End the transaction; its trees become the committed state. */
  finish(): Trees {
    this.done = true;
    return this.trees;
  }
  abandon(): void {
    this.done = true;
  }
}

class MemoryEngine implements Engine {
  readonly kind = 'memory' as const;
  readonly supports = { persistent: false, multiProcess: false, fullText: false, cheapCopy: true };
  private trees: Trees = new Map();
  private lock = new Mutex();
  private closed = false;

  private live(): void {
    if (this.closed) throw new Error('memory store is closed');
  }
  async read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> {
    this.live();
    // A read needs no lock: it holds the committed trees, which writers never modify in place.
    return fn(new MemoryReadTx(new Map(this.trees)));
  }
  async write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    this.live();
    return this.lock.run(async () => {
      const tx = new MemoryWriteTx(this.trees);
      try {
        const result = await fn(tx);
        this.trees = tx.finish();
        return result;
      } finally {
        tx.abandon();
      }
    });
  }
  async sync(): Promise<void> {}
  async compact(): Promise<CompactStats> {
    return { bytesBefore: 0, bytesAfter: 0 };
  }
  async stats(): Promise<EngineStats> {
    const entries: Partial<Record<Collection, number>> = {};
    for (const [c, t] of this.trees) entries[c] = t.size;
    return { engine: 'memory', bytesOnDisk: 0, entries, details: {} };
  }
  async check(): Promise<string[]> {
    return [];
  }
  async close(): Promise<void> {
    this.closed = true;
    this.trees = new Map();
  }
}

export async function openMemory(_opts: OpenOptions): Promise<Engine> {
  return new MemoryEngine();
}
