// grep's trigram index: which files hold which three-byte sequences, so that grep reads only
// the files that can match (trigram-query.ts turns a pattern into an AND/OR of trigrams). A lazy
// content index (content-index.ts): catch-up (indexer.ts) feeds it the files writes changed.
//
// Trigrams are of the UTF-8 bytes with ASCII A-Z folded to a-z (so -i can use them; grep always
// confirms a candidate with the real pattern), never spanning a newline (grep matches lines).
//
//   grep_trigrams  trigram(3) firstIno(u64)  -> the other inos of the block, ascending, as
//                                               varint gaps (first gap from firstIno). Blocks of
//                                               one trigram hold disjoint, ascending ino ranges.
//   grep_docs      ino(u64)                  -> kind(1) hashLen(1) hash size(varint), and for a
//                                               text: count(varint) + its trigrams as varint gaps
//                  0xff 'b' ino(u64)         -> (empty) a binary file: grep skips it unread
//                  0xff 'l' ino(u64)         -> (empty) a file over BIG_TEXT_MAX: grep reads it
//                  0xff 'm'                  -> u64: the largest ino in any block
//                  0xff 'r'                  -> (empty) complete (bar search_queue): set by clear()
//                                               (a rebuild), or by the first catch-up of a new vault
//
// Writes are batched per catch-up transaction: every file's old and new trigram sets are
// diffed, postings gathered per trigram, and each touched trigram costs one range read and a
// few puts. New files (ino above every ino indexed, the common case) need no read at all: their
// postings go into a new block of their own.
import type { ReadTx, WriteTx } from '../storage/contract.js';
import { clearCollection, prefixEnd } from '../storage/contract.js';
import { INDEX_MAX_BYTES, META_SEARCH, SEARCH_FORMAT, type IndexDoc } from '../core/indexing.js';
import { META_VAULT, decodeJson, inodeKey, readU64, u64, type Inode } from '../core/records.js';
import { DEFAULT_CHUNK_SIZE, readContent } from '../content/chunks.js';
import { isUtf8 } from 'node:buffer';
import type { ContentIndex } from './content-index.js';
import type { TrigramQuery } from './trigram-query.js';

const TEXT = 1;
const BINARY = 2;
const LARGE = 3;

/** Postings per block written; a block grown past MAX_BLOCK by inserts is split. */
const BLOCK = 1024;
const MAX_BLOCK = 2 * BLOCK;

const META = 0xff;
const READY_KEY = Buffer.from([META, 0x72]); // 'r'
const MAX_INO_KEY = Buffer.from([META, 0x6d]); // 'm'
const skipPrefix = (kind: number): Buffer => Buffer.from([META, kind === BINARY ? 0x62 : 0x6c]); // 'b' | 'l'
const skipKey = (kind: number, ino: number): Buffer => Buffer.concat([skipPrefix(kind), u64(ino)]);

function triKey(t: number, ino: number): Buffer {
  const k = Buffer.allocUnsafe(11);
  k[0] = t >>> 16;
  k[1] = (t >>> 8) & 0xff;
  k[2] = t & 0xff;
  k.writeUInt32BE(Math.floor(ino / 0x100000000), 3);
  k.writeUInt32BE(ino >>> 0, 7);
  return k;
}

const triPrefix = (t: number): Buffer => Buffer.from([t >>> 16, (t >>> 8) & 0xff, t & 0xff]);

// ---- varints ----------------------------------------------------------------------------

class Bytes {
  buf = Buffer.allocUnsafe(256);
  len = 0;
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }
  byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }
  bytes(b: Buffer): void {
    this.room(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }
  varint(n: number): void {
    this.room(10);
    while (n >= 0x80) {
      this.buf[this.len++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.len++] = n;
  }
  done(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

/** Decode varint gaps from `off` to the end of `b`, starting from `base`, into `out`. */
function decodeGaps(b: Buffer, off: number, base: number, out: number[]): void {
  let v = base;
  const n = b.length;
  while (off < n) {
    let x = 0;
    let mul = 1;
    for (;;) {
      const byte = b[off++];
      x += (byte & 0x7f) * mul;
      if (byte < 0x80) break;
      mul *= 0x80;
    }
    v += x;
    out.push(v);
  }
}

function encodeBlock(inos: number[], from: number, to: number): Buffer {
  const w = new Bytes();
  for (let i = from + 1; i < to; i++) w.varint(inos[i] - inos[i - 1]);
  return w.done();
}

function decodeBlock(key: Buffer, value: Buffer): number[] {
  const first = readU64(key, 3);
  const out = [first];
  decodeGaps(value, 0, first, out);
  return out;
}

// ---- per-file records -------------------------------------------------------------------

interface DocRec {
  kind: number;
  hash: string;
  size: number;
  /** Offset of the trigram count in the raw value (text only). */
  triOff: number;
  raw: Buffer;
}

function encodeDoc(kind: number, hash: string, size: number, tris?: Uint32Array): Buffer {
  const w = new Bytes();
  w.byte(kind);
  const h = Buffer.from(hash, 'latin1');
  w.byte(h.length);
  w.bytes(h);
  w.varint(size);
  if (tris) {
    w.varint(tris.length);
    let prev = 0;
    for (let i = 0; i < tris.length; i++) {
      w.varint(tris[i] - prev);
      prev = tris[i];
    }
  }
  return w.done();
}

function decodeDoc(raw: Buffer): DocRec {
  const kind = raw[0];
  const hl = raw[1];
  const hash = raw.toString('latin1', 2, 2 + hl);
  let off = 2 + hl;
  let size = 0;
  let mul = 1;
  for (;;) {
    const byte = raw[off++];
    size += (byte & 0x7f) * mul;
    if (byte < 0x80) break;
    mul *= 0x80;
  }
  return { kind, hash, size, triOff: off, raw };
}

function docTrigrams(d: DocRec): Uint32Array {
  if (d.kind !== TEXT) return new Uint32Array(0);
  const b = d.raw;
  let off = d.triOff;
  const next = (): number => {
    let x = 0;
    let mul = 1;
    for (;;) {
      const byte = b[off++];
      x += (byte & 0x7f) * mul;
      if (byte < 0x80) return x;
      mul *= 0x80;
    }
  };
  const count = next();
  const tris = new Uint32Array(count);
  let v = 0;
  for (let i = 0; i < count; i++) tris[i] = v += next();
  return tris;
}

// ---- trigrams of a text -----------------------------------------------------------------

const FOLD = new Uint8Array(256);
for (let i = 0; i < 256; i++) FOLD[i] = i >= 65 && i <= 90 ? i + 32 : i;
let seen: Uint32Array | undefined; // a bit per trigram (2 MiB), cleared after each text

/** The distinct trigrams of a text, ascending. */
export function textTrigrams(text: string): Uint32Array {
  return byteTrigrams(Buffer.from(text, 'utf8'));
}

/** The distinct trigrams of UTF-8 bytes, ascending. */
export function byteTrigrams(buf: Buffer): Uint32Array {
  seen ??= new Uint32Array(1 << 19);
  const marks = seen;
  let found = new Uint32Array(Math.min(1 << 16, buf.length + 1));
  let k = 0;
  let t = 0;
  let run = 0;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b === 10) {
      run = 0;
      continue;
    }
    t = ((t << 8) | FOLD[b]) & 0xffffff;
    if (++run < 3) continue;
    const word = t >>> 5;
    const bit = 1 << (t & 31);
    if ((marks[word] & bit) !== 0) continue;
    marks[word] |= bit;
    if (k === found.length) {
      const bigger = new Uint32Array(found.length * 2);
      bigger.set(found);
      found = bigger;
    }
    found[k++] = t;
  }
  const out = found.slice(0, k);
  for (let i = 0; i < k; i++) marks[out[i] >>> 5] = 0;
  return out.sort();
}

// ---- sorted number lists ----------------------------------------------------------------

function intersect(a: number[], b: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push(a[i]);
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return out;
}

function unite(a: number[], b: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i] < b[j])) out.push(a[i++]);
    else if (i >= a.length || b[j] < a[i]) out.push(b[j++]);
    else {
      out.push(a[i]);
      i++;
      j++;
    }
  }
  return out;
}

/** Binary search: index of `x` in sorted `a`, or -(insertion point) - 1. */
function search(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else if (a[mid] > x) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
}

// ---- the index --------------------------------------------------------------------------

/** Text files up to this size are indexed (those over INDEX_MAX_BYTES read by the index itself). */
export const BIG_TEXT_MAX = 64 * 1024 * 1024;

function push(m: Map<number, number[]>, t: number, ino: number): void {
  const l = m.get(t);
  if (l) l.push(ino);
  else m.set(t, [ino]);
}

/** Diff two ascending trigram lists: what went into `removes`, what came into `adds`. */
function diffInto(before: Uint32Array, now: Uint32Array, ino: number, removes: Map<number, number[]>, adds: Map<number, number[]>): void {
  let i = 0;
  let j = 0;
  while (i < before.length || j < now.length) {
    if (j >= now.length || (i < before.length && before[i] < now[j])) push(removes, before[i++], ino);
    else if (i >= before.length || now[j] < before[i]) push(adds, now[j++], ino);
    else {
      i++;
      j++;
    }
  }
}

/** A big file's bytes (bigger than any chunk, so named by its manifest). */
async function readBig(tx: ReadTx, node: Inode): Promise<Buffer> {
  const rec = await tx.get('meta', META_VAULT);
  const chunkSize = rec === undefined ? DEFAULT_CHUNK_SIZE : (decodeJson<{ chunkSize?: number }>(rec).chunkSize ?? DEFAULT_CHUNK_SIZE);
  return readContent(tx, { hash: node.hash ?? '', size: node.size }, chunkSize);
}

export interface SkipLists {
  /** Binary files (a NUL byte, or not UTF-8): grep skips them. */
  binary: Set<number>;
  /** Files over BIG_TEXT_MAX: not in the index; grep reads them itself. */
  large: Set<number>;
}

interface Block {
  key: Buffer | undefined;
  inos: number[];
  dirty: boolean;
}

async function allKeys(tx: ReadTx, coll: 'grep_docs', prefix: Buffer): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let from: Buffer | undefined;
  const end = prefixEnd(prefix);
  for (;;) {
    const page = await tx.range(coll, from ? { gt: from, ...(end ? { lt: end } : {}), limit: 1000 } : { prefix, limit: 1000 });
    for (const e of page) out.push(e.key);
    if (page.length < 1000) return out;
    from = page[page.length - 1].key;
  }
}

export class TrigramIndex implements ContentIndex {
  readonly name = 'trigram';

  async update(tx: WriteTx, ino: number, doc: IndexDoc | undefined): Promise<void> {
    await this.updateMany(tx, [{ ino, doc }]);
  }

  async updateMany(tx: WriteTx, items: { ino: number; doc: IndexDoc | undefined }[]): Promise<void> {
    const adds = new Map<number, number[]>();
    const removes = new Map<number, number[]>();
    if (!(await tx.has('grep_docs', READY_KEY))) {
      // Complete from the start: catch-up has never taken a file before this very batch (a new
      // vault), so this index sees every change. (A vault whose indexes were caught up without
      // it waits for a rebuild, whose clear() says the same.)
      const raw = await tx.get('meta', META_SEARCH);
      const state = raw === undefined ? undefined : decodeJson<{ format: number; seq: number }>(raw);
      if (state !== undefined && state.format === SEARCH_FORMAT && state.seq === 0) await tx.put('grep_docs', READY_KEY, Buffer.alloc(0));
    }
    const maxRaw = await tx.get('grep_docs', MAX_INO_KEY);
    const maxIno = maxRaw === undefined ? 0 : readU64(maxRaw);
    let newMax = maxIno;
    // In ino order, so each trigram's lists come out ascending.
    const sorted = [...items].sort((a, b) => a.ino - b.ino);
    for (const { ino, doc } of sorted) {
      const key = inodeKey(ino);
      const raw = await tx.get('grep_docs', key);
      const old = raw === undefined ? undefined : decodeDoc(raw);
      if (doc !== undefined) {
        if (old?.kind === TEXT && old.hash === doc.hash && old.size === doc.size) continue;
        const now = textTrigrams(doc.text);
        const before = old ? docTrigrams(old) : new Uint32Array(0);
        diffInto(before, now, ino, removes, adds);
        if (now.length > 0) newMax = Math.max(newMax, ino);
        await tx.put('grep_docs', key, encodeDoc(TEXT, doc.hash, doc.size, now));
        if (old !== undefined && old.kind !== TEXT) await tx.del('grep_docs', skipKey(old.kind, ino));
        continue;
      }
      const nodeRaw = await tx.get('inodes', key);
      const node = nodeRaw === undefined ? undefined : decodeJson<Inode>(nodeRaw);
      if (node?.type === 'file' && node.size > INDEX_MAX_BYTES && node.size <= BIG_TEXT_MAX) {
        // Too big for the shared documents, not for trigrams: read here, so grep need not
        // read it on every search.
        if (old?.kind === TEXT && old.hash === (node.hash ?? '') && old.size === node.size) continue;
        const bytes = await readBig(tx, node);
        if (!bytes.includes(0) && isUtf8(bytes)) {
          const now = byteTrigrams(bytes);
          const before = old ? docTrigrams(old) : new Uint32Array(0);
          diffInto(before, now, ino, removes, adds);
          if (now.length > 0) newMax = Math.max(newMax, ino);
          await tx.put('grep_docs', key, encodeDoc(TEXT, node.hash ?? '', node.size, now));
          if (old !== undefined && old.kind !== TEXT) await tx.del('grep_docs', skipKey(old.kind, ino));
          continue;
        }
      }
      if (old?.kind === TEXT) for (const t of docTrigrams(old)) push(removes, t, ino);
      if (node?.type === 'file') {
        // Still there, so binary or too large: remembered, so grep can skip or read it unasked.
        const kind = node.size > BIG_TEXT_MAX ? LARGE : BINARY;
        await tx.put('grep_docs', key, encodeDoc(kind, node.hash ?? '', node.size));
        if (old !== undefined && old.kind !== TEXT && old.kind !== kind) await tx.del('grep_docs', skipKey(old.kind, ino));
        await tx.put('grep_docs', skipKey(kind, ino), Buffer.alloc(0));
      } else if (old !== undefined) {
        await tx.del('grep_docs', key);
        if (old.kind !== TEXT) await tx.del('grep_docs', skipKey(old.kind, ino));
      }
    }
    const touched = new Set<number>([...adds.keys(), ...removes.keys()]);
    for (const t of [...touched].sort((a, b) => a - b)) {
      const a = adds.get(t);
      const r = removes.get(t);
      if (r === undefined && a !== undefined && a[0] > maxIno) await this.putBlocks(tx, t, a);
      else await this.merge(tx, t, a ?? [], r ?? []);
    }
    if (newMax !== maxIno) await tx.put('grep_docs', MAX_INO_KEY, u64(newMax));
  }

  /** New blocks for inos above every ino in the index: no read needed. */
  private async putBlocks(tx: WriteTx, t: number, inos: number[]): Promise<void> {
    for (let i = 0; i < inos.length; i += BLOCK) {
      const to = Math.min(inos.length, i + BLOCK);
      await tx.put('grep_trigrams', triKey(t, inos[i]), encodeBlock(inos, i, to));
    }
  }

  /** Apply adds and removes to one trigram's blocks (read once, touched blocks rewritten). */
  private async merge(tx: WriteTx, t: number, adds: number[], removes: number[]): Promise<void> {
    const rows = await tx.range('grep_trigrams', { prefix: triPrefix(t) });
    const blocks: Block[] = rows.map((e) => ({ key: e.key, inos: decodeBlock(e.key, e.value), dirty: false }));
    const firsts = (): number[] => blocks.map((b) => b.inos[0] ?? Infinity);
    const find = (ino: number): number => {
      let lo = 0;
      let hi = blocks.length - 1;
      let best = -1;
      const f = firsts();
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (f[mid] <= ino) {
          best = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      return best;
    };
    for (const ino of removes) {
      const bi = find(ino);
      if (bi < 0) continue;
      const b = blocks[bi];
      const at = search(b.inos, ino);
      if (at >= 0) {
        b.inos.splice(at, 1);
        b.dirty = true;
      }
    }
    for (const ino of adds) {
      if (blocks.length === 0) blocks.push({ key: undefined, inos: [], dirty: true });
      const b = blocks[Math.max(0, find(ino))];
      const at = search(b.inos, ino);
      if (at < 0) {
        b.inos.splice(-at - 1, 0, ino);
        b.dirty = true;
      }
    }
    const total = blocks.reduce((n, b) => n + b.inos.length, 0);
    // Many small blocks (one per catch-up batch of new files): pack them while we are here.
    const pack = blocks.length > 1 && blocks.length > 2 * Math.ceil(total / BLOCK);
    if (pack) {
      const all: number[] = [];
      for (const b of blocks) {
        for (const x of b.inos) all.push(x);
        if (b.key) await tx.del('grep_trigrams', b.key);
      }
      await this.putBlocks(tx, t, all);
      return;
    }
    for (const b of blocks) {
      if (!b.dirty) continue;
      const first = b.inos[0];
      if (b.key && (b.inos.length === 0 || readU64(b.key, 3) !== first || b.inos.length > MAX_BLOCK)) await tx.del('grep_trigrams', b.key);
      if (b.inos.length === 0) continue;
      if (b.inos.length > MAX_BLOCK) await this.putBlocks(tx, t, b.inos);
      else await tx.put('grep_trigrams', triKey(t, first), encodeBlock(b.inos, 0, b.inos.length));
    }
  }

  async clear(tx: WriteTx): Promise<void> {
    await clearCollection(tx, 'grep_trigrams');
    await clearCollection(tx, 'grep_docs');
    // Whoever clears (the rebuild) queues every file in the same transaction: from here on the
    // index plus the queue covers every file.
    await tx.put('grep_docs', READY_KEY, Buffer.alloc(0));
  }

  // ---- the query side ----

  /** True when the index (with search_queue) covers every file: built by a rebuild, kept by catch-up. */
  async ready(tx: ReadTx): Promise<boolean> {
    return tx.has('grep_docs', READY_KEY);
  }

  /** The ascending inos of files holding trigram `t`. */
  async postings(tx: ReadTx, t: number): Promise<number[]> {
    const rows = await tx.range('grep_trigrams', { prefix: triPrefix(t) });
    if (rows.length === 1) return decodeBlock(rows[0].key, rows[0].value);
    const out: number[] = [];
    for (const e of rows) {
      const first = readU64(e.key, 3);
      out.push(first);
      decodeGaps(e.value, 0, first, out);
    }
    return out;
  }

  /**
   * The indexed text files that can hold a match of `q` (ascending), or undefined when the query
   * rules nothing out. Files not indexed as text (binary, large, still queued) are not in it.
   */
  async candidates(tx: ReadTx, q: TrigramQuery): Promise<number[] | undefined> {
    if (q.op === 'all') return undefined;
    const cache = new Map<number, number[]>();
    const leaf = async (t: number): Promise<number[]> => {
      let l = cache.get(t);
      if (!l) {
        l = await this.postings(tx, t);
        cache.set(t, l);
      }
      return l;
    };
    const evaluate = async (n: TrigramQuery): Promise<number[] | undefined> => {
      switch (n.op) {
        case 'all':
          return undefined;
        case 'none':
          return [];
        case 'tri':
          return leaf(n.t);
        case 'and': {
          let acc: number[] | undefined;
          // Plain trigrams first, smallest list first: the intersection only shrinks.
          const tris = n.subs.filter((s): s is { op: 'tri'; t: number } => s.op === 'tri');
          const lists: number[][] = [];
          for (const s of tris) lists.push(await leaf(s.t));
          lists.sort((a, b) => a.length - b.length);
          for (const l of lists) {
            acc = acc === undefined ? l : intersect(acc, l);
            if (acc.length === 0) return acc;
          }
          for (const s of n.subs) {
            if (s.op === 'tri') continue;
            const l = await evaluate(s);
            if (l === undefined) continue;
            acc = acc === undefined ? l : intersect(acc, l);
            if (acc.length === 0) return acc;
          }
          return acc;
        }
        case 'or': {
          let acc: number[] = [];
          for (const s of n.subs) {
            const l = await evaluate(s);
            if (l === undefined) return undefined;
            acc = unite(acc, l);
          }
          return acc;
        }
      }
    };
    return evaluate(q);
  }

  /** The files the index knows as binary, or as too large to index. */
  async skipLists(tx: ReadTx): Promise<SkipLists> {
    const read = async (kind: number): Promise<Set<number>> => new Set((await allKeys(tx, 'grep_docs', skipPrefix(kind))).map((k) => readU64(k, 2)));
    return { binary: await read(BINARY), large: await read(LARGE) };
  }

  /** Rows and files held (for status output and tests). */
  async stats(tx: ReadTx): Promise<{ blocks: number; docs: number }> {
    return { blocks: await tx.count('grep_trigrams'), docs: (await allKeys(tx, 'grep_docs', Buffer.from([0]))).length };
  }
}

/** The one instance catch-up feeds and grep asks. */
export const trigramIndex = new TrigramIndex();
