// Tools that look inside files: grep (regular expressions, safe against patterns that
// backtrack forever) and search (ranked full text over the search index; see src/search/).
import { z } from 'zod';
import type { FileOps } from '../../api/fileops.js';
import { globToRegExp } from '../../util/glob.js';
import { grepFiles, type GrepFile } from '../../search/grep.js';
import { tool, pathArg, atArg, type ToolDef, READ_ONLY } from '../common.js';
import type { Session } from '../session.js';

const int = (min: number, max: number): z.ZodNumber => z.number().int().min(min).max(max);

/** The files below `start` (or `start` itself), as the search engines take them. */
async function* filesBelow(s: Session, ops: FileOps, start: string, include: RegExp | undefined): AsyncGenerator<GrepFile> {
  for await (const e of ops.walk(start)) {
    if (e.stat.type !== 'file') continue;
    if (include && e.depth > 0 && !include.test(e.stat.name)) continue;
    const p = e.path;
    yield { path: s.out(p), size: e.stat.size, read: () => ops.readFile(p) };
  }
}

const grep = tool({
  name: 'grep',
  title: 'Search file contents (regex)',
  description:
    'Search the lines of text files below a folder (or one file) for a JavaScript regular expression; returns matching lines as path, line number (from 1) and text. ' +
    "`include` limits the files by name glob ('*.ts'); `ignore_case` and `fixed_strings` (match the pattern literally) work as in grep. " +
    'Binary files and files over 32 MiB are skipped. Stops after `max_results` lines (default 100). ' +
    'A pattern that takes too long (catastrophic backtracking, e.g. (a+)+$) is stopped after a fraction of a second with an EINVAL error: simplify it.',
  input: {
    pattern: z.string().describe("regular expression (JavaScript syntax), e.g. 'TODO|FIXME' or '^import .* from'"),
    path: pathArg().optional().describe("folder or file to search (default '/')"),
    include: z.string().optional().describe("only files whose name matches this glob, e.g. '*.md'"),
    ignore_case: z.boolean().optional().describe('case-insensitive (default false)'),
    fixed_strings: z.boolean().optional().describe('take the pattern as a literal string (default false)'),
    max_results: int(1, 2000).optional().describe('most matching lines to return (default 100)'),
    at: atArg,
  },
  output: {
    matches: z.array(z.object({ path: z.string(), line: z.number(), text: z.string().describe('the line (cut at 400 characters)') })),
    filesSearched: z.number(),
    skipped: z.array(z.object({ path: z.string(), reason: z.enum(['binary', 'too large']) })),
    truncated: z.boolean().describe('max_results was reached; there may be more'),
  },
  ...READ_ONLY,
  async run(a, s) {
    const include = a.include === undefined ? undefined : globToRegExp(a.include);
    const r = await s.readAt(a.at, async (ops) => {
      const start = await s.resolve(ops, a.path ?? '/', true);
      return grepFiles(filesBelow(s, ops, start, include), {
        pattern: a.pattern,
        ignoreCase: !!a.ignore_case,
        fixedStrings: !!a.fixed_strings,
        maxMatches: a.max_results ?? 100,
        ...(s.app.opts.grepTimeoutMs !== undefined ? { timeoutMs: s.app.opts.grepTimeoutMs } : {}),
      });
    });
    const lines = r.matches.map((m) => `${m.path}:${m.line}:${m.text}`);
    if (lines.length === 0) lines.push(`no matches (${r.filesSearched} ${r.filesSearched === 1 ? 'file' : 'files'} searched)`);
    if (r.truncated) lines.push(`[stopped at ${r.matches.length} matches: narrow the search or raise max_results]`);
    return { text: lines.join('\n'), data: r };
  },
});

const search = tool({
  name: 'search',
  title: 'Search file contents (ranked full text)',
  description:
    'Full-text search of the text files, most relevant first (BM25), each hit with its best matching line. The query language is SQLite FTS5\'s: ' +
    'words (all must occur), "exact phrases", prefix*, a OR b, a NOT b, ( ). Case and accents do not matter; words match whole. ' +
    "E.g. 'retry* AND (timeout OR backoff)' or '\"connection refused\" NOT test'. `path` limits it to a folder, `tags` to files carrying all those tags. " +
    'Searches the current files (use grep with `at` for the past). Binary files and files over 8 MiB are not indexed; use grep for regular expressions.',
  input: {
    query: z.string().describe('the search, in the FTS5 query language'),
    path: pathArg().optional().describe("folder to search (default '/')"),
    tags: z.array(z.string()).max(32).optional().describe('only files carrying all of these tags'),
    limit: int(1, 500).optional().describe('most files to return (default 20)'),
  },
  output: {
    query: z.string().describe('the query as understood'),
    hits: z.array(
      z.object({
        path: z.string(),
        score: z.number().describe('BM25 relevance, higher is better'),
        line: z.number().optional().describe('line of the snippet (from 1)'),
        snippet: z.string().optional().describe('the best matching line (cut at 200 characters)'),
      }),
    ),
    more: z.boolean().describe('more files match: raise limit'),
  },
  ...READ_ONLY,
  async run(a, s) {
    const start = await s.read((ops) => s.resolve(ops, a.path ?? '/', true));
    const r = await s.vault.search(a.query, { path: start, limit: a.limit ?? 20, ...(a.tags ? { tags: a.tags } : {}) });
    const hits = r.hits.map((h) => ({
      path: s.out(h.path),
      score: Number(h.score.toPrecision(6)),
      ...(h.snippet ? { line: h.snippet.line, snippet: h.snippet.text } : {}),
    }));
    const lines = hits.map((h) => (h.snippet !== undefined ? `${h.path}:${h.line}: ${h.snippet}` : h.path));
    if (hits.length === 0) lines.push(`no file matches ${r.query}`);
    if (r.more) lines.push('[more files match: raise limit]');
    return { text: lines.join('\n'), data: { query: r.query, hits, more: r.more } };
  },
});

export const searchTools: ToolDef[] = [grep, search] as unknown as ToolDef[];
