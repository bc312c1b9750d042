// Migrate at the storage level: every collection of a vault's store streamed into a fresh
// store of any engine, and the digests that prove the copy equal (docs/migrate.md).
//
// Copied verbatim: everything the vault is (tree, history, content, snapshots, tags, metadata,
// agent memory, settings). Not copied: what is derived from the files and shaped by the engine
// (the search and grep indexes and their queue, the parent pointers; the caller rebuilds them
// on the target), the vault record (the caller writes it with the target's backend) and the
// source's `pending/` markers (streamed writes in flight in the source; nothing of theirs
// belongs to the copy).
//
// The digest of a collection is its entry count, its bytes and a SHA-256 over every (key,
// value) in key order; the source's is taken while copying (the same snapshot), the target's
// by reading the finished store back.
import { createHash, type Hash } from 'node:crypto';
import type { Collection, Engine, Entry, ReadTx } from '../storage/contract.js';
import { COLLECTIONS, COLLECTION_NAMES, scan } from '../storage/contract.js';
import { BatchWriter } from '../storage/batch.js';
import { PENDING_PREFIX } from '../content/pending.js';
import { META_SEARCH } from '../core/indexing.js';
import { META_VAULT } from '../core/records.js';

/** Collections derived from the files: rebuilt on the target (src/search/indexer.ts rebuild()), never copied. */
export const DERIVED: ReadonlySet<Collection> = new Set<Collection>([
  'parents',
  'search_queue',
  'search_terms',
  'search_postings',
  'search_docs',
  'grep_trigrams',
  'grep_docs',
]);

/** The collections copied (and digested), in the order they are copied. */
export const COPIED: readonly Collection[] = COLLECTION_NAMES.filter((c) => !DERIVED.has(c));

const PENDING = Buffer.from(PENDING_PREFIX);

/** Is this meta row copied verbatim? */
function copiedMeta(key: Buffer): boolean {
  if (key.equals(META_VAULT) || key.equals(META_SEARCH)) return false;
  return !key.subarray(0, PENDING.length).equals(PENDING);
}

const copied = (c: Collection, e: Entry): boolean => c !== 'meta' || copiedMeta(e.key);

export interface Digest {
  entries: number;
  bytes: number;
  sha256: string;
}
export type Digests = Partial<Record<Collection, Digest>>;

class Digester {
  private hashes = new Map<Collection, { hash: Hash; entries: number; bytes: number }>();
  private len = Buffer.alloc(4);

  add(c: Collection, e: Entry): void {
    let h = this.hashes.get(c);
    if (!h) this.hashes.set(c, (h = { hash: createHash('sha256'), entries: 0, bytes: 0 }));
    // Lengths first: (ab, c) and (a, bc) must not hash alike.
    this.len.writeUInt32BE(e.key.length);
    h.hash.update(this.len).update(e.key);
    this.len.writeUInt32BE(e.value.length);
    h.hash.update(this.len).update(e.value);
    h.entries++;
    h.bytes += e.key.length + e.value.length;
  }

  result(): Digests {
    const out: Digests = {};
    const empty = createHash('sha256').digest('hex');
    for (const c of COPIED) {
      const h = this.hashes.get(c);
      out[c] = h ? { entries: h.entries, bytes: h.bytes, sha256: h.hash.digest('hex') } : { entries: 0, bytes: 0, sha256: empty };
    }
    return out;
  }
}

/** Entries that copyCollections() will copy, for a progress total (counted in the same snapshot). */
export async function countCopied(tx: ReadTx): Promise<number> {
  let n = 0;
  for (const c of COPIED) {
    if (c !== 'meta') n += await tx.count(c);
    else for await (const e of scan(tx, c)) if (copiedMeta(e.key)) n++;
  }
  return n;
}

/** Entries per page of a scan: content collections have big values (a chunk is up to 64 KiB). */
const pageOf = (c: Collection): number => (COLLECTIONS[c].large ? 64 : 1000);

/**
 * Copy every copied collection of the store `tx` reads into `dst` (empty), in transactions
 * of bounded size. `onEntry` is called after each entry (progress; it may throw to stop).
 * Returns the source's digests.
 */
export async function copyCollections(tx: ReadTx, dst: Engine, onEntry?: (bytes: number) => void | Promise<void>): Promise<Digests> {
  const w = new BatchWriter(dst);
  const d = new Digester();
  for (const c of COPIED) {
    for await (const e of scan(tx, c, {}, pageOf(c))) {
      if (!copied(c, e)) continue;
      d.add(c, e);
      await w.put(c, e.key, e.value);
      await onEntry?.(e.key.length + e.value.length);
    }
  }
  await w.flush();
  return d.result();
}

/** The digests of a store as copyCollections() computes them, read back in one snapshot. */
export async function digestStore(engine: Engine, onEntry?: (bytes: number) => void | Promise<void>): Promise<Digests> {
  return engine.read(async (tx) => {
    const d = new Digester();
    for (const c of COPIED) {
      for await (const e of scan(tx, c, {}, pageOf(c))) {
        if (!copied(c, e)) continue;
        d.add(c, e);
        await onEntry?.(e.key.length + e.value.length);
      }
    }
    return d.result();
  });
}

/** The first difference between two sets of digests, as a phrase; undefined when equal. */
export function digestMismatch(source: Digests, target: Digests): string | undefined {
  for (const c of COPIED) {
    const s = source[c];
    const t = target[c];
    if (!s || !t) return `collection ${c} is missing from the ${s ? 'copy' : 'source'}`;
    if (s.entries !== t.entries) return `collection ${c} has ${s.entries} entries in the source and ${t.entries} in the copy`;
    if (s.sha256 !== t.sha256) return `collection ${c} differs between the source and the copy (same ${s.entries} entries, other bytes)`;
  }
  return undefined;
}
