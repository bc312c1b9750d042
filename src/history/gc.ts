// `gc`: delete content nothing refers to any more, in one write transaction (so no writer can
// slip a new reference in between the mark and the sweep). Marked: every chunk and manifest
// reachable from a current inode, a remaining inode_log row or a snapshot's saved memory;
// everything else goes.
//
// One exception: a streamed write stores chunks in earlier transactions than the one that
// names them (see src/content/pending.ts). While a marker younger than an hour says such a
// write is in flight, chunks are not swept (manifests still are: a streamed write stores its
// manifest in its last transaction, with the file). Older markers are from dead writers and
// are removed.
import type { Engine, ReadTx, WriteTx } from '../storage/contract.js';
import { scan } from '../storage/contract.js';
import { manifestParts } from '../content/chunks.js';
import { PENDING_TTL_MS, listPendingMarkers } from '../content/pending.js';
import { encodeJson, decodeJson, type Inode } from '../core/records.js';
import { withWrite, type VaultSettings } from '../core/scope.js';
import { listSnapshots } from './snapshots.js';

export interface GcOptions {
  /** Only report what would be removed. */
  dryRun?: boolean;
  /** "Now" for the age of pending-write markers (default: the clock). */
  nowMs?: number;
}

export interface GcCounts {
  /** Stored before gc. */
  total: number;
  removed: number;
  /** Bytes of the removed entries. */
  bytes: number;
}

export interface GcResult {
  dryRun: boolean;
  chunks: GcCounts;
  manifests: GcCounts;
  /** chunks.bytes + manifests.bytes. */
  bytesFreed: number;
  /** Streamed writes in flight (markers younger than an hour). */
  pendingWrites: number;
  /** True when chunks were not swept because of pendingWrites. */
  chunksSkipped: boolean;
  /** Stale markers of writers that died, removed (or that would be). */
  staleMarkers: number;
  /** References to content that is not there (run `vault check`); nothing is removed for them. */
  missing: number;
  /** Why something was left alone, in words. */
  notes: string[];
}

interface Marks {
  chunks: Set<string>;
  manifests: Set<string>;
  missing: number;
}

async function mark(tx: ReadTx, chunkSize: number): Promise<Marks> {
  const m: Marks = { chunks: new Set(), manifests: new Set(), missing: 0 };
  const markNode = async (raw: Buffer): Promise<void> => {
    const node = decodeJson<Inode>(raw);
    if (node.type !== 'file' || node.size === 0 || !node.hash) return;
    if (node.size <= chunkSize) {
      m.chunks.add(node.hash);
      return;
    }
    if (m.manifests.has(node.hash)) return;
    // A root manifest names its leaves, which are kept with it (content/chunks.ts).
    const parts = await manifestParts(tx, Buffer.from(node.hash, 'hex'));
    for (const id of parts.manifests) m.manifests.add(id.toString('hex'));
    for (const h of parts.chunks) m.chunks.add(h.toString('hex'));
    m.missing += parts.missing.length;
  };
  for await (const e of scan(tx, 'inodes')) await markNode(e.value);
  for await (const e of scan(tx, 'inode_log')) await markNode(e.value);
  // The shared search index reads a file's old text back to take its words out (src/search).
  for await (const e of scan(tx, 'search_docs')) {
    const { h, s } = decodeJson<{ h: string; s: number }>(e.value);
    await markNode(encodeJson({ type: 'file', size: s, hash: h }));
  }
  // Agent memory saved with snapshots (src/memory/dump.ts) is content like a file's.
  for (const snap of await listSnapshots(tx)) {
    if (snap.memory) await markNode(encodeJson({ type: 'file', size: snap.memory.size, hash: snap.memory.hash }));
  }
  return m;
}

/** Unmarked entries of a collection (small pages: chunk values are up to a chunk size each). */
async function unmarked(tx: ReadTx, coll: 'chunks' | 'manifests', marked: Set<string>): Promise<{ total: number; keys: Buffer[]; bytes: number }> {
  const r = { total: 0, keys: [] as Buffer[], bytes: 0 };
  for await (const e of scan(tx, coll, {}, 64)) {
    r.total++;
    if (marked.has(e.key.toString('hex'))) continue;
    r.keys.push(e.key);
    r.bytes += e.value.length;
  }
  return r;
}

async function collect(tx: ReadTx | WriteTx, chunkSize: number, opts: GcOptions, write: WriteTx | undefined): Promise<GcResult> {
  const now = opts.nowMs ?? Date.now();
  const markers = await listPendingMarkers(tx);
  const stale = markers.filter((p) => now - p.timeMs > PENDING_TTL_MS);
  const live = markers.length - stale.length;
  const marks = await mark(tx, chunkSize);
  const mans = await unmarked(tx, 'manifests', marks.manifests);
  const result: GcResult = {
    dryRun: write === undefined,
    chunks: { total: 0, removed: 0, bytes: 0 },
    manifests: { total: mans.total, removed: mans.keys.length, bytes: mans.bytes },
    bytesFreed: 0,
    pendingWrites: live,
    chunksSkipped: live > 0,
    staleMarkers: stale.length,
    missing: marks.missing,
    notes: [],
  };
  let chunkKeys: Buffer[] = [];
  if (live > 0) {
    result.chunks.total = await tx.count('chunks');
    result.notes.push(`chunks not swept: ${live} streamed write${live === 1 ? ' is' : 's are'} in progress (run gc again when done)`);
  } else {
    const ch = await unmarked(tx, 'chunks', marks.chunks);
    result.chunks = { total: ch.total, removed: ch.keys.length, bytes: ch.bytes };
    chunkKeys = ch.keys;
  }
  if (stale.length > 0) result.notes.push(`${stale.length} stale marker${stale.length === 1 ? '' : 's'} of interrupted streamed writes ${write ? 'removed' : 'would be removed'}`);
  if (marks.missing > 0) result.notes.push(`${marks.missing} referenced manifest${marks.missing === 1 ? ' is' : 's are'} missing (run avfs vault check)`);
  result.bytesFreed = result.chunks.bytes + result.manifests.bytes;
  if (write) {
    for (const k of mans.keys) await write.del('manifests', k);
    for (const k of chunkKeys) await write.del('chunks', k);
    for (const p of stale) await write.del('meta', p.key);
  }
  return result;
}

export async function gcVault(engine: Engine, settings: VaultSettings, opts: GcOptions = {}): Promise<GcResult> {
  if (opts.dryRun) return engine.read((tx) => collect(tx, settings.chunkSize, opts, undefined));
  return withWrite(engine, settings, async (s) => {
    const r = await collect(s.tx, settings.chunkSize, opts, s.tx);
    if (r.chunks.removed + r.manifests.removed + r.staleMarkers > 0) {
      await s.begin('gc', ['/'], { chunks: r.chunks.removed, manifests: r.manifests.removed, bytes: r.bytesFreed });
    }
    return r;
  });
}
