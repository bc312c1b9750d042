// A ranked full-text index kept in two storage collections, updated inside the caller's write
// transaction (so a search never misses a document whose write returned), and ranked with
// BM25 as SQLite FTS5's bm25() ranks (k1 = 1.2, b = 0.75; FTS5's own idf on request, see
// TextIndexLayout.idf), so results read alike on every engine. Self-contained: a document is a
// number and a text, and the caller names the collections, so any layer (memories here, files
// in the search issue) can keep an index of its own.
//
//   terms     term                   -> document frequency (u32 BE)
//             0x00 'stats'           -> {"docs": N, "totalLen": sum of document lengths}
//   postings  term 0x00 firstId(u64) -> a block of up to 128 postings (id, tf, length,
//                                       positions), see blocks.ts
//
// A query is evaluated bottom-up into id -> score maps. AND evaluates its cheapest part first
// and then, for a word far more common than the candidates left, looks up only the blocks
// holding the candidates instead of reading the word's whole list; NOT does the same for its
// right side. So "rare common" costs about as much as "rare".
import type { Collection, ReadTx, WriteTx } from '../storage/contract.js';
import { clearCollection, prefixEnd, scan } from '../storage/contract.js';
import type { QueryNode } from './query.js';
import { termPositions } from './tokenize.js';
import { BLOCK, MAX_BLOCK, appendToBlock, blockKey, countOf, decodeAll, decodeBlock, encodeBlock, firstIdOf, lastIdOf, type Posting as BlockPosting } from './blocks.js';

export interface TextIndexLayout {
  terms: Collection;
  postings: Collection;
  /**
   * 'fts5': SQLite FTS5's idf, ln((N - df + 0.5) / (df + 0.5)) floored at 1e-6, for results that
   * rank exactly as FTS5 ranks (the search issue's engines without FTS5). 'lucene' (default):
   * ln(1 + (N - df + 0.5) / (df + 0.5)), which stays positive, so in a small corpus (an agent's
   * few dozen memories) a word found in more than half of them still counts for something.
   */
  idf?: 'fts5' | 'lucene';
}

export interface IndexStats {
  docs: number;
  totalLen: number;
}

export interface Scored {
  id: number;
  score: number;
}

const STATS_KEY = Buffer.from('\0stats', 'latin1');
const K1 = 1.2;
const B = 0.75;
/** Look up the candidates' blocks instead of reading the whole list when it is this many times longer. */
const PROBE_FACTOR = 16;
const PAGE = 256;

const termKey = (term: string): Buffer => Buffer.from(term);
const termPrefix = (term: string): Buffer => Buffer.concat([Buffer.from(term), Buffer.from([0])]);

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

interface Posting {
  tf: number;
  len: number;
  positions?: number[];
}

type Scores = Map<number, number>;

export class TextIndex {
  constructor(readonly layout: TextIndexLayout) {}

  async stats(tx: ReadTx): Promise<IndexStats> {
    const raw = await tx.get(this.layout.terms, STATS_KEY);
    return raw === undefined ? { docs: 0, totalLen: 0 } : (JSON.parse(raw.toString()) as IndexStats);
  }

  private async df(tx: ReadTx, term: string): Promise<number> {
    const raw = await tx.get(this.layout.terms, termKey(term));
    return raw === undefined ? 0 : raw.readUInt32BE(0);
  }

  /**
   * Index document `id`. To change a document, remove() it with its old text first: adding an
   * id twice keeps one posting per word (the new one) but counts the document twice in the stats.
   */
  async add(tx: WriteTx, id: number, text: string): Promise<void> {
    const { terms, length } = termPositions(text);
    for (const [term, positions] of terms) {
      const prefix = termPrefix(term);
      const p: BlockPosting = { id, tf: positions.length, len: length, positions };
      const [last] = await tx.range(this.layout.postings, { prefix, reverse: true, limit: 1 });
      let added = true;
      if (last === undefined) await tx.put(this.layout.postings, blockKey(prefix, id), encodeBlock([p]));
      else if (id > lastIdOf(last.value)) {
        // The usual case (ids grow): append to the last block, or start the next one.
        if (countOf(last.value) < BLOCK) await tx.put(this.layout.postings, last.key, appendToBlock(last.value, p));
        else await tx.put(this.layout.postings, blockKey(prefix, id), encodeBlock([p]));
      } else {
        added = await this.insert(tx, prefix, p);
      }
      if (added) await tx.put(this.layout.terms, termKey(term), u32((await this.df(tx, term)) + 1));
    }
    const st = await this.stats(tx);
    await tx.put(this.layout.terms, STATS_KEY, Buffer.from(JSON.stringify({ docs: st.docs + 1, totalLen: st.totalLen + length })));
  }

  /**
   * Index many documents at once (none of them indexed yet): postings are gathered per word, so
   * each word costs one read of its last block and a few writes, however many documents hold
   * it. Ids above every indexed id (new files) append; others are inserted in place.
   */
  async addMany(tx: WriteTx, docs: { id: number; text: string }[]): Promise<void> {
    if (docs.length === 0) return;
    const byTerm = new Map<string, BlockPosting[]>();
    let totalLen = 0;
    for (const d of [...docs].sort((a, b) => a.id - b.id)) {
      const { terms, length } = termPositions(d.text);
      totalLen += length;
      for (const [term, positions] of terms) {
        const p: BlockPosting = { id: d.id, tf: positions.length, len: length, positions };
        const list = byTerm.get(term);
        if (list) list.push(p);
        else byTerm.set(term, [p]);
      }
    }
    for (const [term, ps] of byTerm) {
      const prefix = termPrefix(term);
      const [last] = await tx.range(this.layout.postings, { prefix, reverse: true, limit: 1 });
      let added = 0;
      if (last === undefined || ps[0].id > lastIdOf(last.value)) {
        let i = 0;
        if (last !== undefined && countOf(last.value) < BLOCK) {
          let block = last.value;
          for (; i < ps.length && countOf(block) < BLOCK; i++) block = appendToBlock(block, ps[i]);
          await tx.put(this.layout.postings, last.key, block);
        }
        for (; i < ps.length; i += BLOCK) {
          const part = ps.slice(i, i + BLOCK);
          await tx.put(this.layout.postings, blockKey(prefix, part[0].id), encodeBlock(part));
        }
        added = ps.length;
      } else {
        for (const p of ps) if (await this.insert(tx, prefix, p)) added++;
      }
      if (added > 0) await tx.put(this.layout.terms, termKey(term), u32((await this.df(tx, term)) + added));
    }
    const st = await this.stats(tx);
    await tx.put(this.layout.terms, STATS_KEY, Buffer.from(JSON.stringify({ docs: st.docs + docs.length, totalLen: st.totalLen + totalLen })));
  }

  /** Drop the whole index. */
  async clear(tx: WriteTx): Promise<void> {
    await clearCollection(tx, this.layout.terms);
    await clearCollection(tx, this.layout.postings);
  }

  /** The block that holds (or would hold) `id`: the last one starting at or before it, else the first. */
  private async blockFor(tx: ReadTx, prefix: Buffer, id: number): Promise<{ key: Buffer; value: Buffer } | undefined> {
    const [at] = await tx.range(this.layout.postings, { gte: prefix, lte: blockKey(prefix, id), reverse: true, limit: 1 });
    if (at) return at;
    const [first] = await tx.range(this.layout.postings, { prefix, limit: 1 });
    return first;
  }

  /** Put `p` into its block in id order (replacing an entry with its id); false when it replaced one. */
  private async insert(tx: WriteTx, prefix: Buffer, p: BlockPosting): Promise<boolean> {
    const b = (await this.blockFor(tx, prefix, p.id))!;
    const ps = decodeAll(firstIdOf(b.key), b.value);
    const i = ps.findIndex((x) => x.id >= p.id);
    const replaced = i >= 0 && ps[i].id === p.id;
    if (replaced) ps[i] = p;
    else if (i < 0) ps.push(p);
    else ps.splice(i, 0, p);
    await this.rewrite(tx, prefix, b.key, ps);
    return !replaced;
  }

  /** Store a block's postings again (under a new key if its first id changed; split if too big). */
  private async rewrite(tx: WriteTx, prefix: Buffer, oldKey: Buffer, ps: BlockPosting[]): Promise<void> {
    if (ps.length === 0 || firstIdOf(oldKey) !== ps[0].id) await tx.del(this.layout.postings, oldKey);
    if (ps.length === 0) return;
    const parts = ps.length > MAX_BLOCK ? [ps.slice(0, ps.length >> 1), ps.slice(ps.length >> 1)] : [ps];
    for (const part of parts) await tx.put(this.layout.postings, blockKey(prefix, part[0].id), encodeBlock(part));
  }

  /** Remove document `id`, indexed earlier with this same text. */
  async remove(tx: WriteTx, id: number, text: string): Promise<void> {
    const { terms, length } = termPositions(text);
    for (const term of terms.keys()) {
      const prefix = termPrefix(term);
      const b = await this.blockFor(tx, prefix, id);
      if (!b) continue;
      const ps = decodeAll(firstIdOf(b.key), b.value);
      const i = ps.findIndex((x) => x.id === id);
      if (i < 0) continue;
      ps.splice(i, 1);
      await this.rewrite(tx, prefix, b.key, ps);
      const df = (await this.df(tx, term)) - 1;
      if (df > 0) await tx.put(this.layout.terms, termKey(term), u32(df));
      else await tx.del(this.layout.terms, termKey(term));
    }
    const st = await this.stats(tx);
    const next = { docs: Math.max(0, st.docs - 1), totalLen: Math.max(0, st.totalLen - length) };
    await tx.put(this.layout.terms, STATS_KEY, Buffer.from(JSON.stringify(next)));
  }

  /** Every document matching the query, with its BM25 score (higher is better). */
  async evaluate(tx: ReadTx, query: QueryNode): Promise<Map<number, number>> {
    const st = await this.stats(tx);
    if (st.docs === 0) return new Map();
    const run = new Evaluation(this.layout, tx, st, (t) => this.df(tx, t));
    return run.node(query);
  }

  /** The `limit` best of `scores`: highest score first, newer (higher) id first on a tie. */
  static top(scores: Map<number, number>, limit: number): Scored[] {
    return topK(scores, limit);
  }
}

class Evaluation {
  private avgLen: number;
  private dfCache = new Map<string, number>();

  constructor(
    private layout: TextIndexLayout,
    private tx: ReadTx,
    private st: IndexStats,
    private dfLookup: (term: string) => Promise<number>,
  ) {
    this.avgLen = st.totalLen / st.docs || 1;
  }

  private async df(term: string): Promise<number> {
    let n = this.dfCache.get(term);
    if (n === undefined) {
      n = await this.dfLookup(term);
      this.dfCache.set(term, n);
    }
    return n;
  }

  private idf(df: number): number {
    const ratio = (this.st.docs - df + 0.5) / (df + 0.5);
    if (this.layout.idf !== 'fts5') return Math.log(1 + ratio);
    const v = Math.log(ratio);
    return v > 1e-6 ? v : 1e-6;
  }

  private weight(idf: number, tf: number, len: number): number {
    return (idf * (tf * (K1 + 1))) / (tf + K1 * (1 - B + (B * len) / this.avgLen));
  }

  /** How many documents a node may match, at most (to order the parts of an AND). */
  private async estimate(n: QueryNode): Promise<number> {
    switch (n.kind) {
      case 'phrase': {
        if (n.prefix) return this.st.docs; // not known without expanding; evaluate late
        let min = Infinity;
        for (const t of n.terms) min = Math.min(min, await this.df(t));
        return min;
      }
      case 'and': {
        let min = Infinity;
        for (const c of n.children) min = Math.min(min, await this.estimate(c));
        return min;
      }
      case 'or': {
        let sum = 0;
        for (const c of n.children) sum += await this.estimate(c);
        return sum;
      }
      case 'not':
        return this.estimate(n.pos);
    }
  }

  /** Scores of the documents matching `n`; only among `within` when given. */
  async node(n: QueryNode, within?: Scores): Promise<Scores> {
    switch (n.kind) {
      case 'phrase':
        return this.phrase(n.terms, n.prefix, within);
      case 'or': {
        const out: Scores = new Map();
        for (const c of n.children) {
          for (const [id, s] of await this.node(c, within)) out.set(id, (out.get(id) ?? 0) + s);
        }
        return out;
      }
      case 'and': {
        const costs = await Promise.all(n.children.map(async (c) => ({ c, est: await this.estimate(c) })));
        costs.sort((a, b) => a.est - b.est);
        let acc: Scores | undefined = within;
        let first = true;
        for (const { c } of costs) {
          const got = await this.node(c, acc);
          if (first && within === undefined) {
            acc = got;
          } else {
            const next: Scores = new Map();
            for (const [id, s] of got) {
              const prev = first ? 0 : acc!.get(id);
              if (prev !== undefined) next.set(id, prev + s);
            }
            acc = next;
          }
          first = false;
          if (acc.size === 0) break;
        }
        return acc ?? new Map();
      }
      case 'not': {
        const pos = await this.node(n.pos, within);
        if (pos.size === 0) return pos;
        const neg = await this.node(n.neg, pos);
        for (const id of neg.keys()) pos.delete(id);
        return pos;
      }
    }
  }

  /** The postings of one term: all of them, or only those of the candidate ids. */
  private async postings(term: string, positions: boolean, within?: Scores): Promise<Map<number, Posting>> {
    const out = new Map<number, Posting>();
    const df = await this.df(term);
    if (df === 0) return out;
    const prefix = termPrefix(term);
    const keep = (id: number, tf: number, len: number, pos: number[] | undefined): void => {
      if (within === undefined || within.has(id)) out.set(id, { tf, len, positions: pos });
    };
    if (within !== undefined && within.size * PROBE_FACTOR < df) {
      // Only the blocks that can hold a candidate: candidates in id order, one block at a time.
      const ids = [...within.keys()].sort((a, b) => a - b);
      let covered = -1; // candidates up to this id are settled by the blocks read so far
      for (const id of ids) {
        if (id <= covered) continue;
        const [b] = await this.tx.range(this.layout.postings, { gte: prefix, lte: blockKey(prefix, id), reverse: true, limit: 1 });
        if (!b) continue;
        const last = lastIdOf(b.value);
        if (last < id) continue; // falls between this block and the next
        decodeBlock(firstIdOf(b.key), b.value, positions, keep);
        covered = last;
      }
      return out;
    }
    for await (const e of scan(this.tx, this.layout.postings, { prefix }, PAGE)) decodeBlock(firstIdOf(e.key), e.value, positions, keep);
    return out;
  }

  /** The indexed words that start with `prefix`. */
  private async expand(prefix: string): Promise<string[]> {
    const start = Buffer.from(prefix);
    const end = prefixEnd(start);
    const out: string[] = [];
    for await (const e of scan(this.tx, this.layout.terms, { gte: start, ...(end ? { lt: end } : {}) }, PAGE)) {
      if (e.key[0] === 0) continue; // the stats row
      out.push(e.key.toString());
    }
    return out;
  }

  /** Postings of a prefix: every word it expands to, merged per document (positions united). */
  private async prefixPostings(prefix: string, positions: boolean, within?: Scores): Promise<Map<number, Posting>> {
    const merged = new Map<number, Posting>();
    for (const term of await this.expand(prefix)) {
      for (const [id, p] of await this.postings(term, positions, within)) {
        const m = merged.get(id);
        if (!m) merged.set(id, { tf: p.tf, len: p.len, positions: p.positions ? [...p.positions] : undefined });
        else {
          m.tf += p.tf;
          if (m.positions && p.positions) m.positions.push(...p.positions);
        }
      }
    }
    if (positions) for (const p of merged.values()) p.positions!.sort((a, b) => a - b);
    return merged;
  }

  private async phrase(terms: string[], prefix: boolean, within?: Scores): Promise<Scores> {
    const out: Scores = new Map();
    if (terms.length === 1) {
      const hits = prefix ? await this.prefixPostings(terms[0], false, within) : await this.postings(terms[0], false, within);
      // The idf wants the number of documents holding the word in the whole index: a probe saw
      // only the candidates, so take the stored count (for a prefix, the documents found).
      const df = prefix ? hits.size : await this.df(terms[0]);
      const idf = this.idf(df);
      for (const [id, p] of hits) out.set(id, this.weight(idf, p.tf, p.len));
      return out;
    }
    // Rarest word first; each next word only among the documents still in the running.
    const order = await Promise.all(
      terms.map(async (t, i) => ({ i, df: prefix && i === terms.length - 1 ? Infinity : await this.df(t) })),
    );
    order.sort((a, b) => a.df - b.df);
    const lists: Map<number, Posting>[] = new Array(terms.length);
    let cand: Scores | undefined = within;
    for (const { i } of order) {
      const last = prefix && i === terms.length - 1;
      const got = last ? await this.prefixPostings(terms[i], true, cand) : await this.postings(terms[i], true, cand);
      lists[i] = got;
      const next: Scores = new Map();
      for (const id of got.keys()) if (cand === undefined || cand.has(id)) next.set(id, 0);
      cand = next;
      if (cand.size === 0) return out;
    }
    const matches = new Map<number, { tf: number; len: number }>();
    for (const id of cand!.keys()) {
      const sets = lists.map((l) => l.get(id)!);
      const later = sets.slice(1).map((p) => new Set(p.positions));
      let tf = 0;
      for (const start of sets[0].positions!) {
        if (later.every((s, k) => s.has(start + k + 1))) tf++;
      }
      if (tf > 0) matches.set(id, { tf, len: sets[0].len });
    }
    // A phrase's document frequency is the number of documents holding the phrase (FTS5 counts
    // it the same way); among candidates only, it is the best figure there is.
    const idf = this.idf(matches.size);
    for (const [id, m] of matches) out.set(id, this.weight(idf, m.tf, m.len));
    return out;
  }
}

/** A bounded min-heap selection: O(n log k). */
function topK(scores: Map<number, number>, k: number): Scored[] {
  const better = (a: Scored, b: Scored): boolean => a.score > b.score || (a.score === b.score && a.id > b.id);
  const heap: Scored[] = [];
  const up = (i: number): void => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!better(heap[p], heap[i])) break;
      [heap[p], heap[i]] = [heap[i], heap[p]];
      i = p;
    }
  };
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && better(heap[m], heap[l])) m = l;
      if (r < heap.length && better(heap[m], heap[r])) m = r;
      if (m === i) return;
      [heap[m], heap[i]] = [heap[i], heap[m]];
      i = m;
    }
  };
  if (k <= 0) return [];
  for (const [id, score] of scores) {
    const s = { id, score };
    if (heap.length < k) {
      heap.push(s);
      up(heap.length - 1);
    } else if (better(s, heap[0])) {
      heap[0] = s;
      down(0);
    }
  }
  return heap.sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
}
