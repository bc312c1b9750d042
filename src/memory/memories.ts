// Memories: short texts with tags, numbered 1, 2, 3... (never reused), searchable with the
// full-text index kept in memory_terms / memory_postings, updated in the same transaction.
//
//   memories     id(u64)              -> {"id","text","tags","timeMs","actor"}
//   memory_tags  tag 0x00 id(u64)     -> empty
//   meta         'memory/next_id'     -> u64, the next id
import { vfsError } from '../errors.js';
import type { ReadTx } from '../storage/contract.js';
import { scan } from '../storage/contract.js';
import type { WriteScope } from '../core/scope.js';
import { decodeJson, encodeJson } from '../core/records.js';
import { joinKey, namePrefix, readU64, u64 } from './common.js';
import { TextIndex } from '../text/index.js';
import type { QueryNode } from '../text/query.js';

export interface Memory {
  id: number;
  text: string;
  tags: string[];
  timeMs: number;
  actor: string;
}

export interface MemoryHit extends Memory {
  /** BM25 relevance: higher is better (k1 = 1.2, b = 0.75, idf ln(1 + (N - df + 0.5) / (df + 0.5))). */
  score: number;
}

export const MEMORY_INDEX = new TextIndex({ terms: 'memory_terms', postings: 'memory_postings' });
const NEXT_ID = Buffer.from('memory/next_id');
/** Above this many candidates, a tag filter reads the tag's whole list instead of one row per candidate. */
const PROBE_LIMIT = 2000;

const tagKey = (tag: string, id: number): Buffer => joinKey(tag, u64(id));

export async function addMemory(s: WriteScope, text: string, tags: string[]): Promise<Memory> {
  const raw = await s.tx.get('meta', NEXT_ID);
  const id = raw === undefined ? 1 : readU64(raw);
  await s.begin('memory.add', [], { target: `memory ${id}`, id, ...(tags.length ? { tags } : {}), bytes: Buffer.byteLength(text) });
  const m: Memory = { id, text, tags, timeMs: Date.now(), actor: s.settings.actor };
  await s.tx.put('memories', u64(id), encodeJson(m));
  for (const t of tags) await s.tx.put('memory_tags', tagKey(t, id), Buffer.alloc(0));
  await MEMORY_INDEX.add(s.tx, id, text);
  await s.tx.put('meta', NEXT_ID, u64(id + 1));
  return m;
}

export async function getMemory(tx: ReadTx, id: number): Promise<Memory | undefined> {
  const raw = await tx.get('memories', u64(id));
  return raw === undefined ? undefined : decodeJson<Memory>(raw);
}

export function noSuchMemory(id: number): Error {
  return vfsError('ENOENT', undefined, `memory ${id}: no such memory`);
}

export async function forgetMemory(s: WriteScope, id: number): Promise<Memory> {
  const m = await getMemory(s.tx, id);
  if (!m) throw noSuchMemory(id);
  await s.begin('memory.forget', [], { target: `memory ${id}`, id });
  await s.tx.del('memories', u64(id));
  for (const t of m.tags) await s.tx.del('memory_tags', tagKey(t, id));
  await MEMORY_INDEX.remove(s.tx, id, m.text);
  return m;
}

export interface ListOptions {
  /** Only memories with every one of these tags. */
  tags: string[];
  /** Only memories added at or after this time (ms since the epoch). */
  sinceMs?: number;
  limit: number;
}

/** Newest first. */
export async function* listMemories(tx: ReadTx, o: ListOptions): AsyncGenerator<Memory> {
  if (o.limit <= 0) return;
  let n = 0;
  const keep = (m: Memory): boolean => o.tags.every((t) => m.tags.includes(t));
  // Ids grow with time, so the walk stops at the first memory older than --since.
  const ids: AsyncGenerator<number> =
    o.tags.length > 0
      ? (async function* () {
          for await (const e of scan(tx, 'memory_tags', { prefix: namePrefix(o.tags[0]), reverse: true }, 500)) yield readU64(e.key, e.key.length - 8);
        })()
      : (async function* () {
          for await (const e of scan(tx, 'memories', { reverse: true }, 500)) yield readU64(e.key);
        })();
  for await (const id of ids) {
    const m = await getMemory(tx, id);
    if (!m) continue;
    if (o.sinceMs !== undefined && m.timeMs < o.sinceMs) return;
    if (!keep(m)) continue;
    yield m;
    if (++n >= o.limit) return;
  }
}

export async function searchMemories(tx: ReadTx, q: QueryNode, o: { tags: string[]; limit: number }): Promise<MemoryHit[]> {
  let scores = await MEMORY_INDEX.evaluate(tx, q);
  for (const tag of o.tags) {
    if (scores.size === 0) break;
    const kept = new Map<number, number>();
    if (scores.size <= PROBE_LIMIT) {
      for (const [id, sc] of scores) if (await tx.has('memory_tags', tagKey(tag, id))) kept.set(id, sc);
    } else {
      for await (const e of scan(tx, 'memory_tags', { prefix: namePrefix(tag) }, 4096)) {
        const id = readU64(e.key, e.key.length - 8);
        const sc = scores.get(id);
        if (sc !== undefined) kept.set(id, sc);
      }
    }
    scores = kept;
  }
  const hits: MemoryHit[] = [];
  for (const { id, score } of TextIndex.top(scores, o.limit)) {
    const m = await getMemory(tx, id);
    if (m) hits.push({ ...m, score });
  }
  return hits;
}
