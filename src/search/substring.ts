// `search` until full-text search lands: a plain, case-insensitive substring search over file
// contents, ranked by how often the query occurs. No index, no query language, no stemming: it
// reads every file it is given. Linear in the text (indexOf), so no query can make it hang. The
// full-text issue replaces this module; callers depend only on searchFiles().
import { vfsError } from '../errors.js';
import type { GrepFile } from './grep.js';

export interface SubstringOptions {
  /** Most files returned (default 50). */
  limit?: number;
  /** Snippets per file (default 3). */
  snippets?: number;
  /** Characters of context each side of a hit in a snippet (default 60). */
  context?: number;
  /** Files larger than this are skipped (default 32 MiB). */
  maxFileBytes?: number;
}

export interface SubstringHit {
  path: string;
  /** Occurrences of the query in the file. */
  count: number;
  snippets: { line: number; text: string }[];
}

export interface SubstringResult {
  results: SubstringHit[];
  filesSearched: number;
  /** More files matched than `limit`. */
  truncated: boolean;
}

function utf8(buf: Buffer): string | undefined {
  if (buf.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf);
  } catch {
    return undefined;
  }
}

export async function searchFiles(files: AsyncIterable<GrepFile>, query: string, opts: SubstringOptions = {}): Promise<SubstringResult> {
  if (typeof query !== 'string' || query.trim() === '') throw vfsError('EINVAL', undefined, 'search: empty query');
  if (query.length > 1000) throw vfsError('EINVAL', undefined, 'search: query longer than 1000 characters');
  const limit = opts.limit ?? 50;
  const maxSnippets = opts.snippets ?? 3;
  const ctx = opts.context ?? 60;
  const maxFileBytes = opts.maxFileBytes ?? 32 * 1024 * 1024;
  const needle = query.toLowerCase();
  const hits: SubstringHit[] = [];
  let filesSearched = 0;
  for await (const f of files) {
    if (f.size > maxFileBytes) continue;
    const text = utf8(await f.read());
    if (text === undefined) continue;
    filesSearched++;
    // toLowerCase can change a string's length (a few characters expand), so positions are
    // looked up in the lowered text and snippets cut from it too.
    const low = text.toLowerCase();
    const shown = low.length === text.length ? text : low;
    let count = 0;
    const snippets: { line: number; text: string }[] = [];
    let line = 1;
    let counted = 0;
    for (let p = low.indexOf(needle); p >= 0; p = low.indexOf(needle, p + needle.length)) {
      count++;
      if (snippets.length < maxSnippets) {
        for (let q = low.indexOf('\n', counted); q >= 0 && q < p; q = low.indexOf('\n', q + 1)) {
          line++;
          counted = q + 1;
        }
        const from = Math.max(0, p - ctx);
        const to = Math.min(low.length, p + needle.length + ctx);
        const snippet = (from > 0 ? '…' : '') + shown.slice(from, to).replace(/\s+/g, ' ') + (to < low.length ? '…' : '');
        snippets.push({ line, text: snippet });
      }
    }
    if (count > 0) hits.push({ path: f.path, count, snippets });
  }
  hits.sort((a, b) => b.count - a.count || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { results: hits.slice(0, limit), filesSearched, truncated: hits.length > limit };
}
