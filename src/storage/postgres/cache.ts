// A per-engine cache of entries (values and known absences) that survives across transactions,
// so a process does not ask the server again for records it read or wrote moments ago: a
// writeFile reads about eight records, a readFile five, each a round trip otherwise.
//
// It is kept exact by a stamp: the row 'stamp' of avfs_store, "<seq>:<random>", which every
// write commit that changed something replaces (seq + 1, fresh random), inside its transaction.
// A transaction reads the stamp first (in the round trip that begins it: a read's snapshot is
// taken there; a writer reads it under the vault's lock, so it cannot change before its commit)
// and uses the cache only while the cache holds exactly that stamp's state. A stamp with a
// higher seq empties the cache and makes it that state's; a lower one (a snapshot older than
// what the cache holds) bypasses it. After a commit, the keys it wrote go in at the new stamp.
// The random part tells a vault dropped and created again (seq restarting) from the old one.
//
// The answers of range() and count() are kept the same way, by collection and bounds (a listing
// asked again, the last version of a file); a commit drops those of the collections it wrote.

import type { Bounds, Entry } from '../contract.js';

export type Cached = Buffer | null;

/** Written values up to this size are copied into the cache at commit; bigger ones are not kept. */
const KEEP_WRITTEN_BYTES = 16 * 1024;
type Held = Cached | Entry[] | number;

/** Parse a stamp's sequence number; NaN for anything that is not ours (then nothing is cached). */
export function stampSeq(stamp: string): number {
  const m = /^(\d{1,15}):[0-9a-f]+$/.exec(stamp);
  return m ? Number(m[1]) : NaN;
}

export class EntryCache {
  private stamp: string | undefined;
  private seq = -1;
  // Insertion order is recency: a hit moves its entry to the end, eviction takes from the front.
  private map = new Map<string, Held>();
  /** The ids of the held ranges and counts of each collection (dropped when it is written). */
  private ranges = new Map<string, Set<string>>();
  private bytes = 0;
  /** Values larger than this are not kept (one big file must not empty the cache). */
  private readonly largest: number;

  constructor(private readonly maxBytes: number) {
    this.largest = Math.floor(maxBytes / 16);
  }

  /**
   * A transaction saw `stamp`: make the cache hold that state if it is newer than what it holds.
   * True when the transaction may use the cache.
   */
  adopt(stamp: string | undefined): boolean {
    if (stamp === undefined || this.maxBytes <= 0) return false;
    if (stamp === this.stamp) return true;
    const seq = stampSeq(stamp);
    // An older snapshot than the cache's (or a vault dropped and made again, whose seq restarted:
    // it bypasses the cache until it passes the old seq; get() wants the exact stamp, so nothing
    // of the dropped vault is ever served).
    if (!Number.isFinite(seq) || (this.stamp !== undefined && seq <= this.seq)) return false;
    this.reset(stamp, seq);
    return true;
  }

  /** The cached value of a key at `stamp`: a Buffer, null (known absent) or undefined (unknown). */
  get(stamp: string, id: string): Cached | undefined {
    return this.hit(stamp, id) as Cached | undefined;
  }

  /** Remember what a transaction at `stamp` read (ignored if the cache moved on meanwhile). */
  fill(stamp: string, id: string, value: Cached): void {
    if (stamp === this.stamp) this.set(id, value);
  }

  /** A held answer of range() (a fresh array: callers may change it) or count(), or undefined. */
  getRange(stamp: string, id: string): Entry[] | undefined {
    const v = this.hit(stamp, id);
    return Array.isArray(v) ? v.slice() : undefined;
  }

  getCount(stamp: string, id: string): number | undefined {
    const v = this.hit(stamp, id);
    return typeof v === 'number' ? v : undefined;
  }

  /** Remember an answer of range() or count() of `coll` at `stamp` (id from rangeId()). */
  fillRange(stamp: string, coll: string, id: string, answer: Entry[] | number): void {
    if (stamp !== this.stamp) return;
    this.set(id, Array.isArray(answer) ? answer.slice() : answer);
    if (!this.map.has(id)) return;
    let ids = this.ranges.get(coll);
    if (!ids) this.ranges.set(coll, (ids = new Set()));
    ids.add(id);
  }

  private hit(stamp: string, id: string): Held | undefined {
    if (stamp !== this.stamp) return undefined;
    const v = this.map.get(id);
    if (v === undefined) return undefined;
    this.map.delete(id);
    this.map.set(id, v);
    return v;
  }

  /**
   * A write committed: the state is now `to`, which differs from `from` by `changes` (every key
   * the transaction wrote, with its final value, null when deleted).
   */
  committed(from: string | undefined, to: string, changes: Iterable<[string, Cached]>, colls: Iterable<string>): void {
    if (this.maxBytes <= 0) return;
    const seq = stampSeq(to);
    if (!Number.isFinite(seq)) return this.drop();
    // From the state the cache holds, or from an older one (the changes alone are then all we know).
    if (this.stamp !== to && (from === undefined || this.stamp !== from)) this.reset(to, seq);
    this.stamp = to;
    this.seq = seq;
    for (const coll of colls) {
      for (const id of this.ranges.get(coll) ?? []) this.remove(id);
      this.ranges.delete(coll);
    }
    // The values are the writers' own buffers (WriteTx.put does not copy): the cache keeps a
    // copy of the small ones and forgets the big ones (a file's chunks), which copying would
    // cost as much as the commit saved and which a big write would evict anyway.
    for (const [id, v] of changes) {
      if (v === null) this.set(id, null);
      else if (v.length <= KEEP_WRITTEN_BYTES) this.set(id, Buffer.from(v));
      else this.remove(id);
    }
  }

  /** Forget everything (a commit whose outcome is unknown). */
  drop(): void {
    this.reset(undefined, -1);
  }

  private reset(stamp: string | undefined, seq: number): void {
    this.map.clear();
    this.ranges.clear();
    this.bytes = 0;
    this.stamp = stamp;
    this.seq = seq;
  }

  private remove(id: string): void {
    const old = this.map.get(id);
    if (old === undefined) return;
    this.bytes -= cost(id, old);
    this.map.delete(id);
  }

  private set(id: string, value: Held): void {
    this.remove(id);
    const c = cost(id, value);
    if (c > this.largest) return;
    this.map.set(id, value);
    this.bytes += c;
    // A range id evicted here stays in `ranges` until its collection is written: harmless.
    while (this.bytes > this.maxBytes) {
      const first = this.map.keys().next();
      if (first.done) break;
      this.remove(first.value);
    }
  }
}

function cost(id: string, v: Held): number {
  if (v === null || typeof v === 'number') return id.length + 64;
  if (Buffer.isBuffer(v)) return id.length + v.length + 64;
  let n = id.length + 64;
  for (const e of v) n += e.key.length + e.value.length + 96;
  return n;
}

/** The cache's name for a key of a collection (collection names hold no NUL). */
export function entryId(coll: string, key: Buffer): string {
  return coll + '\0' + key.toString('latin1');
}

/** The cache's name for a range() or count() answer (a leading \x01: apart from entryId's). */
export function rangeId(what: 'range' | 'count', coll: string, b: Bounds, reverse: boolean, limit: number | undefined): string {
  const lower = b.lower === undefined ? '-' : (b.lowerInclusive ? '[' : '(') + b.lower.toString('latin1');
  const upper = b.upper === undefined ? '-' : (b.upperInclusive ? ']' : ')') + b.upper.toString('latin1');
  return `\x01${what}\0${coll}\0${reverse ? 'r' : 'f'}${limit ?? ''}\0${lower.length}:${lower}${upper}`;
}
