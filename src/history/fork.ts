// Forks, at the storage level: turn a copy of a vault's store into a vault that starts at
// operation S (see docs/history.md, "Forks"). Two ways in, one way out:
//   - copy:   the engine copied the whole store (Engine.copyTo); trimAfter() removes what came
//             after S and rebuildCurrent() makes the current tables the tree at S;
//   - stream: streamInto() pages every collection of the source into a fresh store of another
//             engine, keeping history rows up to S and only the content they name;
// then finishFork() gives the new vault its own identity and logs `vault.fork` as operation S+1.
// Every pass works in transactions of at most BATCH rows, so a big vault never builds one
// giant transaction; the caller builds the fork where nobody looks (a temporary path) and puts
// it in place when it is complete.
import { randomUUID } from 'node:crypto';
import { vfsError } from '../errors.js';
import type { Collection, Engine, Entry, RangeOptions, ReadTx } from '../storage/contract.js';
import { COLLECTION_NAMES, scan } from '../storage/contract.js';
import { BATCH, BatchWriter } from '../storage/batch.js';
import { manifestParts } from '../content/chunks.js';
import { PENDING_PREFIX } from '../content/pending.js';
import { META_SEARCH } from '../core/indexing.js';
import { META_USAGE, withWrite, type Usage, type VaultSettings } from '../core/scope.js';
import {
  META_SEQ,
  META_VAULT,
  ROOT_INO,
  decodeJson,
  direntKey,
  direntValue,
  encodeJson,
  inodeKey,
  readU64,
  u64,
  type Inode,
  type VaultRecord,
} from '../core/records.js';
import { HistoricalScope } from './at.js';
import { snapshotKey, type Snapshot } from './snapshots.js';

/** Rows looked at per read transaction while searching for rows to delete. */
const SCAN_LIMIT = 20_000;

const SNAPSHOT_PREFIX = snapshotKey('');
const PENDING = Buffer.from(PENDING_PREFIX);

/** Run fn in a read transaction: its own each time (a store being built), or one held open. */
export type Reader = <T>(fn: (tx: ReadTx) => Promise<T>) => Promise<T>;

const inodeLogSeq = (key: Buffer): number => readU64(key, 8);
const direntLogSeq = (key: Buffer): number => readU64(key, key.length - 8);

/**
 * Delete the entries of a range that `drop` picks, looking at no more than SCAN_LIMIT entries
 * per read transaction and deleting at most BATCH per write transaction.
 */
export async function deleteWhere(engine: Engine, coll: Collection, range: RangeOptions, drop: (e: Entry) => boolean): Promise<number> {
  let after: Buffer | undefined;
  let deleted = 0;
  for (;;) {
    const { keys, last, done } = await engine.read(async (tx) => {
      const keys: Buffer[] = [];
      let last: Buffer | undefined;
      let seen = 0;
      for await (const e of scan(tx, coll, after ? { ...range, gt: after } : range, 1000)) {
        last = e.key;
        if (drop(e)) keys.push(e.key);
        if (keys.length >= BATCH || ++seen >= SCAN_LIMIT) return { keys, last, done: false };
      }
      return { keys, last, done: true };
    });
    if (keys.length > 0) {
      await engine.write(async (tx) => {
        for (const k of keys) await tx.del(coll, k);
      });
      deleted += keys.length;
    }
    if (done || last === undefined) return deleted;
    after = last;
  }
}

/** Does this meta row stay in a vault that ends at operation S? */
function keepMeta(key: Buffer, value: Buffer, seq: number): boolean {
  // Markers of streamed writes in flight in the source: nothing of theirs is in the fork.
  if (key.subarray(0, PENDING.length).equals(PENDING)) return false;
  if (key.subarray(0, SNAPSHOT_PREFIX.length).equals(SNAPSHOT_PREFIX)) {
    try {
      return decodeJson<Snapshot>(value).seq <= seq;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * A copied store, made to end at operation S: operations and history rows after S go.
 * Content stays as copied (gc drops what nothing references any more).
 */
export async function trimAfter(engine: Engine, seq: number): Promise<void> {
  await deleteWhere(engine, 'oplog', { gt: u64(seq) }, () => true);
  await deleteWhere(engine, 'inode_log', {}, (e) => inodeLogSeq(e.key) > seq);
  await deleteWhere(engine, 'dirent_log', {}, (e) => direntLogSeq(e.key) > seq);
}

/** Meta rows of a copied store that the fork must not keep: snapshots after S, in-flight markers. */
export async function trimMeta(engine: Engine, seq: number): Promise<void> {
  await deleteWhere(engine, 'meta', { prefix: SNAPSHOT_PREFIX }, (e) => !keepMeta(e.key, e.value, seq));
  await deleteWhere(engine, 'meta', { prefix: PENDING }, () => true);
}

/**
 * Make the current tables (inodes, dirents) the tree as of operation S, read from the history
 * rows through HistoricalScope: empty them, then walk the tree at S from the root, folder by
 * folder, putting each inode and entry. Entries whose inode has no row at S (pruned) are left
 * out, as a point-in-time view shows them. Returns the usage (files, bytes) of that tree.
 */
export async function rebuildCurrent(read: Reader, dst: Engine, seq: number, settings: VaultSettings): Promise<Usage> {
  await deleteWhere(dst, 'dirents', {}, () => true);
  await deleteWhere(dst, 'inodes', {}, () => true);
  await deleteWhere(dst, 'parents', {}, () => true);
  const w = new BatchWriter(dst);
  const usage: Usage = { files: 0, bytes: 0 };
  const root = await read((tx) => new HistoricalScope(tx, settings, seq).inode(ROOT_INO));
  if (!root) throw vfsError('ECORRUPT', undefined, `the root folder has no history at operation ${seq}`);
  await w.put('inodes', inodeKey(ROOT_INO), encodeJson(root));
  const folders: number[] = [ROOT_INO];
  const seen = new Set<number>([ROOT_INO]);
  let next = 0;
  while (next < folders.length) {
    // Several folders per read transaction, until about a batch of rows is gathered.
    const rows: [Collection, Buffer, Buffer][] = [];
    await read(async (tx) => {
      const at = new HistoricalScope(tx, settings, seq);
      while (next < folders.length && rows.length < BATCH) {
        const dir = folders[next++];
        for (const c of await at.children(dir)) {
          if (seen.has(c.ino)) continue; // linked twice at S: keep the first, as check() wants
          const node: Inode | undefined = await at.inode(c.ino);
          if (!node) continue;
          seen.add(c.ino);
          rows.push(['dirents', direntKey(dir, c.name), direntValue(c.ino, node.type)]);
          rows.push(['inodes', inodeKey(c.ino), encodeJson(node)]);
          rows.push(['parents', inodeKey(c.ino), direntKey(dir, c.name)]);
          if (node.type === 'directory') folders.push(c.ino);
          else if (node.type === 'file') {
            usage.files++;
            usage.bytes += node.size;
          }
        }
      }
    });
    for (const [c, k, v] of rows) await w.put(c, k, v);
  }
  await w.flush();
  return usage;
}

/** The collections streamInto() treats specially; any other is copied whole. */
const HANDLED = new Set<Collection>(['meta', 'inodes', 'dirents', 'parents', 'oplog', 'inode_log', 'dirent_log', 'chunks', 'manifests']);

export interface StreamStats {
  rows: number;
  chunks: number;
  manifests: number;
}

/**
 * Copy a vault from a read transaction on its store into an empty store, as of operation S:
 * meta (but the vault record, seq and usage, which finishFork() writes, and snapshots after S),
 * operations and history rows up to S, and the content those history rows name, nothing more
 * (a fork from an early point does not carry later content). The current tables are left to
 * rebuildCurrent(). Everything is read from `tx`, one snapshot of the source.
 */
export async function streamInto(tx: ReadTx, dst: Engine, seq: number, chunkSize: number): Promise<StreamStats> {
  const w = new BatchWriter(dst);
  const stats: StreamStats = { rows: 0, chunks: 0, manifests: 0 };
  const put = async (c: Collection, e: Entry) => {
    stats.rows++;
    await w.put(c, e.key, e.value);
  };
  const own = new Set(['vault', 'seq', 'usage']);
  for await (const e of scan(tx, 'meta')) {
    if (own.has(e.key.toString('latin1')) || !keepMeta(e.key, e.value, seq)) continue;
    await put('meta', e);
  }
  for await (const e of scan(tx, 'oplog', { lte: u64(seq) })) await put('oplog', e);
  // Content ids named by the history kept: one chunk (small files) or a manifest (big ones).
  const single = new Set<string>();
  const manifests = new Set<string>();
  for await (const e of scan(tx, 'inode_log')) {
    if (inodeLogSeq(e.key) > seq) continue;
    await put('inode_log', e);
    const node = decodeJson<Inode>(e.value);
    if (node.type === 'file' && node.size > 0 && node.hash) (node.size <= chunkSize ? single : manifests).add(node.hash);
  }
  for await (const e of scan(tx, 'dirent_log')) if (direntLogSeq(e.key) <= seq) await put('dirent_log', e);
  // Agent memory saved with the snapshots the fork keeps.
  for await (const e of scan(tx, 'meta', { prefix: SNAPSHOT_PREFIX })) {
    if (!keepMeta(e.key, e.value, seq)) continue;
    const mem = decodeJson<Snapshot>(e.value).memory;
    if (mem && mem.size > 0) (mem.size <= chunkSize ? single : manifests).add(mem.hash);
  }
  for (const c of COLLECTION_NAMES) {
    if (!HANDLED.has(c)) for await (const e of scan(tx, c)) await put(c, e);
  }
  // Sorted: hex order is byte order, so each store reads and writes them in key order.
  // A root manifest's leaves come along with it (content/chunks.ts).
  const copied = new Set<string>();
  for (const id of [...manifests].sort()) {
    const parts = await manifestParts(tx, Buffer.from(id, 'hex'));
    for (const key of parts.manifests) {
      const hex = key.toString('hex');
      if (copied.has(hex)) continue;
      copied.add(hex);
      const m = await tx.get('manifests', key);
      if (m === undefined) continue; // damaged already in the source; check() reports it there
      await w.put('manifests', key, m);
      stats.manifests++;
    }
    for (const h of parts.chunks) single.add(h.toString('hex'));
  }
  for (const id of [...single].sort()) {
    const key = Buffer.from(id, 'hex');
    const c = await tx.get('chunks', key);
    if (c === undefined) continue;
    await w.put('chunks', key, c);
    stats.chunks++;
  }
  await w.flush();
  return stats;
}

export interface ForkInfo {
  /** The source: its registered name, else its path. */
  from: string;
  fromId: string;
  /** How the point was named ("snapshot mid", "operation 42", a time, "now"). */
  at: string;
  method: 'copy' | 'stream';
}

/**
 * Give the fork its own identity (a new id, its backend, created now; format and chunk size
 * kept), end it at S (meta seq, and usage when the tree was rebuilt), and log `vault.fork` as
 * operation S+1, all in one transaction. Returns the new record.
 */
export async function finishFork(
  dst: Engine,
  source: VaultRecord,
  backend: string,
  seq: number,
  usage: Usage | undefined,
  actor: string,
  info: ForkInfo,
): Promise<VaultRecord> {
  const record: VaultRecord = { ...source, backend, id: randomUUID(), createdMs: Date.now() };
  await withWrite(dst, { chunkSize: record.chunkSize, actor }, async (s) => {
    await s.tx.put('meta', META_VAULT, encodeJson(record));
    await s.tx.put('meta', META_SEQ, u64(seq));
    if (usage) {
      await s.tx.put('meta', META_USAGE, encodeJson(usage));
      // The tree was rebuilt as of S: the search indexes are rebuilt before the fork's first search.
      await s.tx.del('meta', META_SEARCH);
    }
    await s.begin('vault.fork', ['/'], { ...info, seq });
  });
  return record;
}
