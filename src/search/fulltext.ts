// Ranked full-text search over the vault's files: the query goes to the engine's own index
// (FTS5) or to the shared one, both BM25; then the path and tag filters, each hit's current
// path (from its parent pointer, checked against the folder entry), and a snippet from its text.
import type { ReadTx } from '../storage/contract.js';
import { decodeJson, inodeKey, type Inode } from '../core/records.js';
import { InodePaths } from '../core/parents.js';
import { isWithin } from '../core/paths.js';
import { readContent } from '../content/chunks.js';
import { INDEX_MAX_BYTES } from '../core/indexing.js';
import { TextIndex } from '../text/index.js';
import { positivePhrases, type QueryNode } from '../text/query.js';
import { sharedText } from './shared-fulltext.js';
import { makeSnippet, snippetTerms, type Snippet, type SnippetTerms } from './snippet.js';

export interface SearchQuery {
  query: QueryNode;
  /** Only files at or below this absolute vault path. */
  under?: string;
  /** Only these files (those carrying the tags asked for). */
  only?: Set<number>;
  limit: number;
  /** Count every matching file (after the filters), not only the `limit` returned. */
  count?: boolean;
  snippets: boolean;
  chunkSize: number;
}

export interface SearchHit {
  path: string;
  /** BM25 relevance, higher is better (comparable within one search only). */
  score: number;
  size: number;
  version: number;
  mtime: Date;
  snippet?: Snippet;
}

export interface SearchResult {
  hits: SearchHit[];
  /** Matching files in all (only when asked for with `count`, or when it was free). */
  total?: number;
  /** More files matched than were returned. */
  more: boolean;
}

export async function searchFiles(tx: ReadTx, q: SearchQuery): Promise<SearchResult> {
  const tagged = q.only;
  const filtered = tagged !== undefined || (q.under !== undefined && q.under !== '/');
  const fts = tx.fullText;
  // Ranked candidates, best first. With no filter and no count, FTS5 ranks and cuts itself.
  let ranked: { id: number; score: number }[];
  let all = true;
  if (fts && !filtered && !q.count) {
    const best = await fts.match(q.query, q.limit + 1);
    ranked = [...best].map(([id, score]) => ({ id, score }));
    all = ranked.length <= q.limit;
  } else {
    const scores = fts ? await fts.match(q.query) : await sharedText.evaluate(tx, q.query);
    if (tagged) for (const id of scores.keys()) if (!tagged.has(id)) scores.delete(id);
    ranked = TextIndex.top(scores, filtered || q.count ? scores.size : q.limit + 1);
  }
  const paths = new InodePaths(tx);
  const terms = snippetTerms(positivePhrases(q.query));
  const hits: SearchHit[] = [];
  const snippets = new Map<string, Snippet | undefined>();
  let total = 0;
  let more = false;
  for (const r of ranked) {
    const path = await paths.of(r.id);
    if (path === undefined || (q.under !== undefined && !isWithin(path, q.under))) continue;
    total++;
    if (hits.length >= q.limit) {
      more = true;
      if (!q.count) break;
      continue;
    }
    const raw = await tx.get('inodes', inodeKey(r.id));
    if (raw === undefined) continue;
    const node = decodeJson<Inode>(raw);
    const hit: SearchHit = { path, score: r.score, size: node.size, version: node.version, mtime: new Date(node.mtimeMs) };
    if (q.snippets && node.type === 'file' && node.size <= INDEX_MAX_BYTES) {
      // Copies of one file (a vendored licence, say) share the work: same content, same snippet.
      const key = node.hash ?? '';
      if (!snippets.has(key)) snippets.set(key, await snippetOf(tx, node, terms, q.chunkSize));
      const s = snippets.get(key);
      if (s) hit.snippet = s;
    }
    hits.push(hit);
  }
  if (!all && !more) more = true;
  const result: SearchResult = { hits, more };
  if (q.count || (all && !more)) result.total = total;
  return result;
}

/** Text is read for a snippet this much at a time: a hit in a 2 MB file must not cost 2 MB. */
const SNIPPET_WINDOW = 256 * 1024;

/**
 * The snippet of a hit: the best line of the first window of the file that holds a query word
 * (windows end at a line end, so each is whole lines of valid UTF-8).
 */
async function snippetOf(tx: ReadTx, node: Inode, terms: SnippetTerms, chunkSize: number): Promise<Snippet | undefined> {
  const ref = { hash: node.hash ?? '', size: node.size };
  let offset = 0;
  let lines = 0;
  while (offset < node.size) {
    const end = Math.min(node.size, offset + SNIPPET_WINDOW);
    let buf = await readContent(tx, ref, chunkSize, offset, end);
    if (end < node.size) {
      const nl = buf.lastIndexOf(10);
      if (nl >= 0) buf = buf.subarray(0, nl + 1);
    }
    const s = makeSnippet(buf.toString('utf8'), terms);
    if (s) return { ...s, line: s.line + lines };
    for (let at = buf.indexOf(10); at >= 0; at = buf.indexOf(10, at + 1)) lines++;
    offset += buf.length;
  }
  return undefined;
}
