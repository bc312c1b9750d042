// What `vault check` verifies of agent memory (read in the check's snapshot): every index row
// agrees with the rows it indexes, both ways. The full-text index (memory_terms,
// memory_postings) is recomputed from the memories' texts and compared posting by posting;
// memory_tags against the memories' tags; kv_expiry against the keys' expiry times;
// session_intents against the sessions' intents; stream_heads against the appends they count
// (a head's next offset may lie past the last append: a snapshot restore never moves it back).
import type { ReadTx } from '../storage/contract.js';
import { scan } from '../storage/contract.js';
import { decodeJson } from '../core/records.js';
import { termPositions } from '../text/tokenize.js';
import { decodeAll, firstIdOf } from '../text/blocks.js';
import { joinKey, readU64, show, u64 } from './common.js';
import type { Memory } from './memories.js';
import type { Session } from './sessions.js';
import type { StreamHead } from './streams.js';

/** Problems of one kind shown, beyond which they are counted. */
const SHOWN = 20;
const STATS_KEY = Buffer.from('\0stats', 'latin1');

class Problems {
  readonly lines: string[] = [];
  private counts = new Map<string, number>();
  add(kind: string, text: string): void {
    const n = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, n);
    if (n <= SHOWN) this.lines.push(`memory index: ${text}`);
  }
  done(): string[] {
    for (const [kind, n] of this.counts) if (n > SHOWN) this.lines.push(`memory index: ${n - SHOWN} more problems with ${kind}`);
    return this.lines;
  }
}

/** "term 0x00 name" keys: the name part (names and terms never hold NUL). */
function splitName(key: Buffer): { name: string; tail: Buffer } | undefined {
  const at = key.indexOf(0);
  return at < 0 ? undefined : { name: key.subarray(0, at).toString(), tail: key.subarray(at + 1) };
}

const sig = (tf: number, len: number, positions: number[]): string => `${tf}/${len}/${positions.join(',')}`;

async function checkMemories(tx: ReadTx, p: Problems): Promise<void> {
  // Expected postings: term -> id -> signature; expected tag rows.
  const postings = new Map<string, Map<number, string>>();
  const tags = new Set<string>();
  let docs = 0;
  let totalLen = 0;
  for await (const e of scan(tx, 'memories', {}, 500)) {
    let m: Memory;
    try {
      m = decodeJson<Memory>(e.value);
    } catch {
      p.add('memories', `memory ${readU64(e.key)}: unreadable record`);
      continue;
    }
    const id = readU64(e.key);
    if (m.id !== id) p.add('memories', `memory ${id}: record says it is memory ${m.id}`);
    for (const t of m.tags ?? []) tags.add(joinKey(t, u64(id)).toString('hex'));
    const { terms, length } = termPositions(m.text);
    docs++;
    totalLen += length;
    for (const [term, positions] of terms) {
      let list = postings.get(term);
      if (!list) postings.set(term, (list = new Map()));
      list.set(id, sig(positions.length, length, positions));
    }
  }
  for await (const e of scan(tx, 'memory_tags', {}, 1000)) {
    const hex = e.key.toString('hex');
    if (tags.delete(hex)) continue;
    const parts = splitName(e.key);
    const id = e.key.length >= 9 ? readU64(e.key, e.key.length - 8) : 0;
    p.add('memory_tags', `tag row ${show(parts?.name ?? '?')} names memory ${id}, which ${(await tx.has('memories', u64(id))) ? 'does not have that tag' : 'does not exist'} (memory_tags)`);
  }
  for (const hex of tags) {
    const key = Buffer.from(hex, 'hex');
    p.add('memory_tags', `memory ${readU64(key, key.length - 8)} has tag ${show(splitName(key)?.name ?? '?')} but no tag row (memory_tags)`);
  }
  // Terms: document frequencies and the corpus stats.
  const seenTerms = new Set<string>();
  for await (const e of scan(tx, 'memory_terms', {}, 1000)) {
    if (e.key.equals(STATS_KEY)) {
      const st = JSON.parse(e.value.toString()) as { docs: number; totalLen: number };
      if (st.docs !== docs || st.totalLen !== totalLen) p.add('memory_terms', `the text index counts ${st.docs} memories of ${st.totalLen} words, the memories are ${docs} of ${totalLen} (memory_terms)`);
      continue;
    }
    const term = e.key.toString();
    seenTerms.add(term);
    const df = e.value.length === 4 ? e.value.readUInt32BE(0) : -1;
    const want = postings.get(term)?.size ?? 0;
    if (df !== want) p.add('memory_terms', `word ${show(term)}: the text index says ${df} memories hold it, ${want} do (memory_terms)`);
  }
  if (docs > 0 && !(await tx.has('memory_terms', STATS_KEY))) p.add('memory_terms', `the text index has no statistics row, but there are ${docs} memories (memory_terms)`);
  for (const [term, list] of postings) if (!seenTerms.has(term)) p.add('memory_terms', `word ${show(term)}: held by ${list.size} memories, missing from the text index (memory_terms)`);
  // Postings, block by block.
  for await (const e of scan(tx, 'memory_postings', {}, 256)) {
    const parts = splitName(e.key);
    if (!parts || parts.tail.length !== 8) {
      p.add('memory_postings', 'a posting row with a malformed key (memory_postings)');
      continue;
    }
    const want = postings.get(parts.name);
    let block;
    try {
      block = decodeAll(firstIdOf(e.key), e.value);
    } catch {
      p.add('memory_postings', `word ${show(parts.name)}: unreadable posting block (memory_postings)`);
      continue;
    }
    for (const post of block) {
      const w = want?.get(post.id);
      if (w === undefined) p.add('memory_postings', `word ${show(parts.name)}: indexed for memory ${post.id}, which ${(await tx.has('memories', u64(post.id))) ? 'does not hold it' : 'does not exist'} (memory_postings)`);
      else if (w !== sig(post.tf, post.len, post.positions)) p.add('memory_postings', `word ${show(parts.name)} in memory ${post.id}: the index has other counts or positions than the text (memory_postings)`);
      want?.delete(post.id);
    }
  }
  for (const [term, list] of postings) {
    for (const id of list.keys()) p.add('memory_postings', `memory ${id} holds ${show(term)} but the text index does not list it (memory_postings)`);
  }
}

async function checkKv(tx: ReadTx, p: Problems): Promise<void> {
  const due = new Set<string>();
  for await (const e of scan(tx, 'kv', {}, 1000)) {
    if (e.value.length < 24) {
      p.add('kv', `kv ${show(e.key.toString())}: unreadable record`);
      continue;
    }
    const expires = readU64(e.value, 16);
    if (expires !== 0) due.add(Buffer.concat([u64(expires), e.key]).toString('hex'));
  }
  for await (const e of scan(tx, 'kv_expiry', {}, 1000)) {
    if (due.delete(e.key.toString('hex'))) continue;
    const key = e.key.subarray(8);
    const raw = await tx.get('kv', key);
    p.add('kv_expiry', `expiry row for kv ${show(key.toString())} at ${e.key.length >= 8 ? new Date(readU64(e.key)).toISOString() : '?'}: ${raw === undefined ? 'no such key' : 'the key has another expiry'} (kv_expiry)`);
  }
  for (const hex of due) {
    const k = Buffer.from(hex, 'hex');
    p.add('kv_expiry', `kv ${show(k.subarray(8).toString())} expires at ${new Date(readU64(k)).toISOString()} but is not in the expiry queue (kv_expiry)`);
  }
}

async function checkSessions(tx: ReadTx, p: Problems): Promise<void> {
  const intents = new Set<string>();
  for await (const e of scan(tx, 'sessions', {}, 1000)) {
    try {
      const s = decodeJson<Session>(e.value);
      if (s.intent !== undefined) intents.add(joinKey(s.intent, u64(readU64(e.key))).toString('hex'));
    } catch {
      p.add('sessions', `session ${readU64(e.key)}: unreadable record`);
    }
  }
  for await (const e of scan(tx, 'session_intents', {}, 1000)) {
    if (intents.delete(e.key.toString('hex'))) continue;
    const id = e.key.length >= 9 ? readU64(e.key, e.key.length - 8) : 0;
    p.add('session_intents', `intent row ${show(splitName(e.key)?.name ?? '?')} names session ${id}, which ${(await tx.has('sessions', u64(id))) ? 'has another intent' : 'does not exist'} (session_intents)`);
  }
  for (const hex of intents) {
    const k = Buffer.from(hex, 'hex');
    p.add('session_intents', `session ${readU64(k, k.length - 8)} has intent ${show(splitName(k)?.name ?? '?')} but no intent row (session_intents)`);
  }
}

async function checkStreams(tx: ReadTx, p: Problems): Promise<void> {
  const seen = new Map<string, { count: number; first: number; end: number }>();
  for await (const e of scan(tx, 'streams', {}, 1000)) {
    const parts = splitName(e.key);
    if (!parts || parts.tail.length !== 8 || e.value.length < 8) {
      p.add('streams', 'an append row with a malformed key or value (streams)');
      continue;
    }
    const offset = readU64(parts.tail);
    const s = seen.get(parts.name);
    const end = offset + e.value.length - 8;
    if (!s) seen.set(parts.name, { count: 1, first: offset, end });
    else {
      // Appends follow each other; a gap is possible only where a snapshot restore left the
      // offsets past the restored appends (offsets are never reused).
      if (offset < s.end) p.add('streams', `stream ${show(parts.name)}: the append at ${offset} overlaps the one before, which ends at ${s.end} (streams)`);
      s.count++;
      s.end = end;
    }
  }
  for await (const e of scan(tx, 'stream_heads', {}, 1000)) {
    const name = e.key.toString();
    let h: Omit<StreamHead, 'name'>;
    try {
      h = decodeJson(e.value);
    } catch {
      p.add('stream_heads', `stream ${show(name)}: unreadable head (stream_heads)`);
      continue;
    }
    const s = seen.get(name);
    seen.delete(name);
    const want = s ? { count: s.count, first: s.first } : { count: 0, first: h.next };
    if (h.count !== want.count || h.first !== want.first || (s ? h.next < s.end : false)) {
      const has = s ? `${s.count} appends from ${s.first} to ${s.end}` : 'no appends';
      p.add('stream_heads', `stream ${show(name)}: the head says ${h.count} appends from ${h.first} to ${h.next}, the stream holds ${has} (stream_heads)`);
    }
  }
  for (const [name, s] of seen) p.add('stream_heads', `stream ${show(name)}: ${s.count} appends but no head row (stream_heads)`);
}

export async function checkMemory(tx: ReadTx): Promise<string[]> {
  const p = new Problems();
  await checkMemories(tx, p);
  await checkKv(tx, p);
  await checkSessions(tx, p);
  await checkStreams(tx, p);
  return p.done();
}
