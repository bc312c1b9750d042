// Agent memory as one piece of bytes, for `snapshot save --with-memory`: every row of the
// eleven memory collections and the two id counters, stored as content (chunks and a manifest,
// so it is immutable under its hash and an unchanged memory state is stored once). Restoring
// puts the rows back, with the adjustments that keep memory's promises (docs/memory.md,
// "Snapshots"): ids, kv versions, stream offsets and state versions never go backwards.
//
//   'avfs-memory-1\n', then per row: u8 collection (index in MEMORY_COLLECTIONS, 255 = meta),
//   u32 key length, key, u32 value length, value
import { vfsError } from '../errors.js';
import type { Collection, ReadTx, WriteTx } from '../storage/contract.js';
import { clearCollection, scan } from '../storage/contract.js';
import { putContent, readContent, type ContentRef } from '../content/chunks.js';
import type { WriteScope } from '../core/scope.js';
import { decodeJson, encodeJson } from '../core/records.js';
import { readU64, u64 } from './common.js';
import type { StreamHead } from './streams.js';
import type { AgentState } from './state.js';

export const MEMORY_COLLECTIONS: readonly Collection[] = [
  'memories',
  'memory_tags',
  'memory_terms',
  'memory_postings',
  'kv',
  'kv_expiry',
  'sessions',
  'session_intents',
  'streams',
  'stream_heads',
  'agent_state',
];
/** Counters in `meta` that belong to memory. */
const META_KEYS = ['memory/next_id', 'session/next_id'];
const META = 255;
const MAGIC = Buffer.from('avfs-memory-1\n');

/** What a snapshot records of the memory it holds. */
export interface MemoryRef extends ContentRef {
  memories: number;
  keys: number;
  sessions: number;
  streams: number;
}

interface Row {
  coll: Collection | 'meta';
  key: Buffer;
  value: Buffer;
}

/** Store the memory state as content; returns its id and a summary. */
export async function saveMemory(tx: WriteTx, chunkSize: number): Promise<MemoryRef> {
  const parts: Buffer[] = [MAGIC];
  const count: Record<string, number> = {};
  const add = (tag: number, key: Buffer, value: Buffer): void => {
    const head = Buffer.alloc(5);
    head.writeUInt8(tag, 0);
    head.writeUInt32BE(key.length, 1);
    const vlen = Buffer.alloc(4);
    vlen.writeUInt32BE(value.length, 0);
    parts.push(head, key, vlen, value);
  };
  for (const [i, coll] of MEMORY_COLLECTIONS.entries()) {
    let n = 0;
    for await (const e of scan(tx, coll, {}, 1000)) {
      add(i, e.key, e.value);
      n++;
    }
    count[coll] = n;
  }
  for (const k of META_KEYS) {
    const v = await tx.get('meta', Buffer.from(k));
    if (v !== undefined) add(META, Buffer.from(k), v);
  }
  const ref = await putContent(tx, Buffer.concat(parts), chunkSize);
  return { ...ref, memories: count.memories, keys: count.kv, sessions: count.sessions, streams: count.stream_heads };
}

export function parseDump(data: Buffer): Row[] {
  const bad = (): Error => vfsError('ECORRUPT', undefined, 'the memory saved with this snapshot is unreadable (run avfs vault check)');
  if (!data.subarray(0, MAGIC.length).equals(MAGIC)) throw bad();
  const rows: Row[] = [];
  let off = MAGIC.length;
  while (off < data.length) {
    if (off + 9 > data.length) throw bad();
    const tag = data.readUInt8(off);
    const klen = data.readUInt32BE(off + 1);
    const key = data.subarray(off + 5, off + 5 + klen);
    off += 5 + klen;
    if (off + 4 > data.length) throw bad();
    const vlen = data.readUInt32BE(off);
    const value = data.subarray(off + 4, off + 4 + vlen);
    off += 4 + vlen;
    if (off > data.length || (tag !== META && tag >= MEMORY_COLLECTIONS.length)) throw bad();
    rows.push({ coll: tag === META ? 'meta' : MEMORY_COLLECTIONS[tag], key, value });
  }
  return rows;
}

export async function readMemory(tx: ReadTx, ref: ContentRef, chunkSize: number): Promise<Row[]> {
  return parseDump(await readContent(tx, ref, chunkSize));
}

/** Replace the memory collections with these rows, verbatim (a fork starts from them). */
export async function replaceMemory(tx: WriteTx, rows: Row[]): Promise<void> {
  for (const c of MEMORY_COLLECTIONS) await clearCollection(tx, c);
  for (const k of META_KEYS) await tx.del('meta', Buffer.from(k));
  for (const r of rows) await tx.put(r.coll, r.key, r.value);
}

/**
 * Make memory what the rows say, inside a restore's write scope (`seq`: the restore's operation
 * number), keeping what agents rely on: every restored kv key gets a version above any it had
 * (so a compare-and-set against a version read before the restore fails); a stream's next
 * offset never goes back, and a stream that did not exist then stays as an empty head (so a
 * follower never sees an offset twice); the restored state is written again as a new newest
 * version (so watchers see it); memory and session ids continue past the highest ever given.
 */
export async function restoreMemory(s: WriteScope, rows: Row[], seq: number): Promise<void> {
  const tx = s.tx;
  const kvNow = new Map<string, number>();
  for await (const e of scan(tx, 'kv', {}, 1000)) kvNow.set(e.key.toString('hex'), readU64(e.value, 0));
  const headsNow = new Map<string, Omit<StreamHead, 'name'>>();
  for await (const e of scan(tx, 'stream_heads', {}, 1000)) headsNow.set(e.key.toString('hex'), decodeJson(e.value));
  const [newestNow] = await tx.range('agent_state', { reverse: true, limit: 1 });
  const counters = new Map<string, number>();
  for (const k of META_KEYS) {
    const v = await tx.get('meta', Buffer.from(k));
    if (v !== undefined) counters.set(k, readU64(v));
  }
  const out: Row[] = [];
  let newestThen: AgentState | undefined;
  const headsThen = new Set<string>();
  for (const r of rows) {
    if (r.coll === 'kv') {
      const value = Buffer.from(r.value);
      const prev = kvNow.get(r.key.toString('hex')) ?? 0;
      u64(Math.max(seq, prev + 1, readU64(value, 0))).copy(value, 0);
      out.push({ ...r, value });
    } else if (r.coll === 'stream_heads') {
      headsThen.add(r.key.toString('hex'));
      const then = decodeJson<Omit<StreamHead, 'name'>>(r.value);
      const now = headsNow.get(r.key.toString('hex'));
      out.push(now && now.next > then.next ? { ...r, value: encodeJson({ ...then, next: now.next }) } : r);
    } else if (r.coll === 'meta') {
      out.push({ ...r, value: u64(Math.max(readU64(r.value), counters.get(r.key.toString()) ?? 0)) });
      counters.delete(r.key.toString());
    } else {
      if (r.coll === 'agent_state') newestThen = decodeJson<AgentState>(r.value);
      out.push(r);
    }
  }
  for (const [hex, now] of headsNow) {
    if (!headsThen.has(hex)) out.push({ coll: 'stream_heads', key: Buffer.from(hex, 'hex'), value: encodeJson({ ...now, first: now.next, count: 0 }) });
  }
  for (const [k, v] of counters) out.push({ coll: 'meta', key: Buffer.from(k), value: u64(v) });
  if (newestThen && newestNow && readU64(newestNow.key) >= newestThen.version) {
    const version = Math.max(seq, readU64(newestNow.key) + 1);
    const rec: AgentState = { ...newestThen, version, timeMs: Date.now(), actor: s.settings.actor };
    out.push({ coll: 'agent_state', key: u64(version), value: encodeJson(rec) });
  }
  await replaceMemory(tx, out);
}
