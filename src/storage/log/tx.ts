// Read and write transactions over the in-memory index. A read tx holds one committed map of
// trees (its snapshot); a write tx clones the trees it changes and remembers the last put or
// delete per key, which becomes the transaction's one log record at commit.
import type { Bytes, Collection, Entry, RangeOptions, ReadTx, TextEntries, TextRangeOptions, WriteTx } from '../contract.js';
import { COLLECTION_NAMES, checkKey, prefixEnd } from '../contract.js';
import { toBuffer } from '../bytes.js';
import { isRef, type Value } from './format.js';
import { Staged, rangeOf, type Trees } from './index.js';

export interface ValueSource {
  /** The bytes of a stored value (copied: callers may keep or change them). */
  load(v: Value): Buffer;
}

function known(coll: Collection): void {
  if (!COLLECTION_NAMES.includes(coll)) throw new RangeError(`unknown collection "${coll}"`);
}

export class LogReadTx implements ReadTx {
  finished = false;
  constructor(
    protected src: ValueSource,
    protected trees: Trees,
  ) {}
  protected live(): void {
    if (this.finished) throw new Error('storage transaction already finished: use the tx only inside its callback');
  }
  async get(coll: Collection, key: Bytes): Promise<Buffer | undefined> {
    this.live();
    known(coll);
    const v = this.trees.get(coll)?.get(Buffer.from(key.buffer, key.byteOffset, key.byteLength)) as Value | undefined;
    return v === undefined ? undefined : this.src.load(v);
  }
  async has(coll: Collection, key: Bytes): Promise<boolean> {
    this.live();
    known(coll);
    return this.trees.get(coll)?.has(Buffer.from(key.buffer, key.byteOffset, key.byteLength)) ?? false;
  }
  async range(coll: Collection, opts?: RangeOptions): Promise<Entry[]> {
    this.live();
    known(coll);
    return rangeOf(this.trees.get(coll), opts).map(([k, v]) => ({ key: Buffer.from(k), value: this.src.load(v) }));
  }
  /** Listing a big folder: texts and values straight off the tree, no Entry or key copy per row. */
  async rangeTexts(coll: Collection, prefix: Bytes, valueBytes: number, opts: TextRangeOptions = {}): Promise<TextEntries> {
    this.live();
    known(coll);
    const t = this.trees.get(coll);
    const p = Buffer.from(prefix);
    const end = prefixEnd(p);
    const limit = opts.limit ?? Infinity;
    const texts: string[] = [];
    const parts: Buffer[] = [];
    if (!t || p.length === 0 || end === undefined || limit <= 0) return { texts, values: Buffer.alloc(0) };
    const start = opts.after === undefined ? p : Buffer.concat([p, Buffer.from(opts.after)]);
    for (const [k, v] of t.entries(start) as IterableIterator<[Buffer, Value]>) {
      if (Buffer.compare(k, end) >= 0) break;
      if (opts.after !== undefined && k.equals(start)) continue;
      const value = isRef(v) ? this.src.load(v) : v;
      if (value.length !== valueBytes) throw new Error(`rangeTexts: a value of ${value.length} bytes, expected ${valueBytes}`);
      texts.push(k.toString('utf8', p.length));
      parts.push(value);
      if (texts.length >= limit) break;
    }
    return { texts, values: Buffer.concat(parts, texts.length * valueBytes) };
  }
  async count(coll: Collection, opts: RangeOptions = {}): Promise<number> {
    this.live();
    known(coll);
    const t = this.trees.get(coll);
    if ((opts.gt ?? opts.gte ?? opts.lt ?? opts.lte ?? opts.prefix) === undefined) {
      return Math.max(0, Math.min(t?.size ?? 0, opts.limit ?? Infinity));
    }
    return rangeOf(t, opts).length;
  }
}

export interface Pending {
  coll: string;
  key: Buffer;
  /** undefined: deleted. */
  value: Buffer | undefined;
}

export class LogWriteTx extends LogReadTx implements WriteTx {
  readonly staged: Staged;
  /** The last change per key, in first-change order. */
  readonly pending = new Map<string, Pending>();
  constructor(src: ValueSource, committed: Trees) {
    const staged = new Staged(committed);
    super(src, staged.trees);
    this.staged = staged;
  }
  async put(coll: Collection, key: Bytes, value: Bytes): Promise<void> {
    this.live();
    known(coll);
    checkKey(key);
    const k = Buffer.from(key);
    // Held, not copied (WriteTx.put): the commit copies what the committed tree keeps.
    const v = toBuffer(value);
    this.staged.writable(coll).set(k, v);
    this.pending.set(`${coll}\0${k.toString('latin1')}`, { coll, key: k, value: v });
  }
  async del(coll: Collection, key: Bytes): Promise<void> {
    this.live();
    known(coll);
    const k = Buffer.from(key);
    if (!this.trees.get(coll)?.has(k)) {
      // Nothing there now; a put earlier in this tx may still need undoing in the record.
      const id = `${coll}\0${k.toString('latin1')}`;
      if (this.pending.has(id)) this.pending.set(id, { coll, key: k, value: undefined });
      return;
    }
    this.staged.writable(coll).delete(k);
    this.pending.set(`${coll}\0${k.toString('latin1')}`, { coll, key: k, value: undefined });
  }
}

export { isRef };
