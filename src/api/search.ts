// Full-text search of the library: argument checks, the index caught up, then one read
// transaction for the query, the filters and the snippets. Vault's methods delegate here.
import { vfsError } from '../errors.js';
import type { Engine } from '../storage/contract.js';
import { withRead, type VaultSettings } from '../core/scope.js';
import { normalizePath } from '../core/paths.js';
import * as core from '../core/fs.js';
import { parseQuery, formatQuery } from '../text/query.js';
import { catchUp, indexStatus, readSearchState, rebuild, type IndexStatus } from '../search/indexer.js';
import { searchFiles, type SearchHit } from '../search/fulltext.js';
import { checkTags } from '../tags/rules.js';
import { getTagDef } from '../tags/rows.js';
import { inosWithTags, noSuchTag } from '../tags/tags.js';

export type { SearchHit, IndexStatus };
export type { Snippet } from '../search/snippet.js';

export interface SearchOptions {
  /** Only files at or below this path (relative paths from the working folder). */
  path?: string;
  /** Most hits returned, best first (default 20, at most 10,000). */
  limit?: number;
  /** Only files carrying all of these tags. */
  tags?: string[];
  /** Count every matching file (`total`), not only the ones returned. */
  count?: boolean;
  /** A snippet with each hit (default true). */
  snippets?: boolean;
}

export interface SearchResult {
  /** The query as understood (canonical form). */
  query: string;
  hits: SearchHit[];
  total?: number;
  more: boolean;
}

interface Ctx {
  engine: Engine;
  settings: VaultSettings;
  cwd: string;
}

const MAX_LIMIT = 10_000;

/** Make sure the index answers for every finished write: the shared index catches up; FTS5 is current unless writes deferred it. */
async function ready(c: Ctx): Promise<void> {
  if (c.engine.supports.fullText) {
    const state = await c.engine.read(readSearchState);
    if (state && !state.rebuild && !state.deferred) return;
  }
  await catchUp(c.engine, c.settings.chunkSize);
}

export async function search(c: Ctx, query: string, o: SearchOptions = {}): Promise<SearchResult> {
  if (typeof query !== 'string') throw vfsError('EINVAL', undefined, 'query must be a string');
  const parsed = parseQuery(query);
  const limit = o.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw vfsError('EINVAL', undefined, `limit must be an integer from 1 to ${MAX_LIMIT}`);
  const tags = o.tags === undefined || (Array.isArray(o.tags) && o.tags.length === 0) ? [] : checkTags(o.tags);
  const under = o.path === undefined ? undefined : normalizePath(o.path, c.cwd);
  if (under !== undefined && under !== '/') {
    // A folder or file that is not there is a mistake worth saying, not an empty result.
    await withRead(c.engine, c.settings, (s) => core.stat(s, under, true));
  }
  await ready(c);
  const r = await withRead(c.engine, c.settings, async (s) => {
    let only: Set<number> | undefined;
    if (tags.length > 0) {
      for (const t of tags) if ((await getTagDef(s.tx, t)) === undefined) throw noSuchTag(t);
      only = await inosWithTags(s, tags);
    }
    return searchFiles(s.tx, { query: parsed, under, only, limit, count: o.count === true, snippets: o.snippets !== false, chunkSize: c.settings.chunkSize });
  });
  return { query: formatQuery(parsed), ...r };
}

export async function searchStatus(c: Ctx): Promise<IndexStatus> {
  return indexStatus(c.engine);
}

/** Rebuild every search index from the files (after damage, or to reclaim index space). */
export async function rebuildSearch(c: Ctx): Promise<IndexStatus> {
  await rebuild(c.engine, c.settings.chunkSize);
  return indexStatus(c.engine);
}
