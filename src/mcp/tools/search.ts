// Tools that look inside files: grep (regular expressions, safe against patterns that
// backtrack forever) and search (ranked full text over the search index; see src/search/).
import { z } from 'zod';
import { catchUpForGrep, grepOps } from '../../api/grep.js';
import { tool, pathArg, atArg, type ToolDef, READ_ONLY } from '../common.js';
import type { Session } from '../session.js';

const int = (min: number, max: number): z.ZodNumber => z.number().int().min(min).max(max);

const grep = tool({
  name: 'grep',
  title: 'Search file contents (regex)',
  description:
    'Search the lines of text files below a folder (or one file) for a JavaScript regular expression; returns matching lines as path, line number (from 1) and text. ' +
    "`include` limits the files by name glob ('*.ts'); `ignore_case` and `fixed_strings` (match the pattern literally) work as in grep. " +
    'Binary files and files over 32 MiB are skipped; a trigram index skips files that cannot match. Stops after `max_results` lines (default 100). ' +
    'Patterns run in linear time where V8 allows; one that still takes too long (back-references or lookarounds that backtrack) is stopped with an EINVAL error: simplify it.',
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
    filesSearched: z.number().describe('files whose content was read (the index rules the others out)'),
    skipped: z.array(z.object({ path: z.string(), reason: z.enum(['binary', 'too large']) })),
    truncated: z.boolean().describe('max_results was reached; there may be more'),
  },
  ...READ_ONLY,
  async run(a, s) {
    const max = a.max_results ?? 100;
    // The index catches up first (a write), outside the read the search runs in.
    if (a.at === undefined) await catchUpForGrep(s.vault.engine, s.vault.record.chunkSize);
    const r = await s.readAt(a.at, async (ops) => {
      const start = await s.resolve(ops, a.path ?? '/', true);
      const out = { matches: [] as { path: string; line: number; text: string }[], filesSearched: 0, skipped: [] as { path: string; reason: 'binary' | 'too large' }[], truncated: false };
      const events = grepOps(
        ops,
        a.pattern,
        [start],
        {
          syntax: a.fixed_strings ? 'fixed' : 'extended',
          ignoreCase: !!a.ignore_case,
          include: a.include === undefined ? [] : [a.include],
          maxLineChars: 400,
          maxFileBytes: 32 * 1024 * 1024,
          ...(s.app.opts.grepTimeoutMs !== undefined ? { timeoutMs: s.app.opts.grepTimeoutMs } : {}),
        },
        a.at === undefined,
      );
      for await (const e of events) {
        if (e.type === 'error') throw e.error;
        if (e.type === 'skipped') out.skipped.push({ path: s.out(e.path), reason: e.reason });
        else if (e.type === 'stats') out.filesSearched = e.searched;
        else if (e.type === 'file') {
          for (const l of e.file.lines) out.matches.push({ path: s.out(e.file.path), line: l.line, text: l.text });
          if (out.matches.length >= max) {
            out.matches.length = max;
            out.truncated = true;
            break;
          }
        }
      }
      return out;
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
