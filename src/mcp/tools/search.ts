// Tools that look inside files: grep (regular expressions, safe against patterns that
// backtrack forever) and search (for now a plain substring search; see src/search/).
import { z } from 'zod';
import type { FileOps } from '../../api/fileops.js';
import { globToRegExp } from '../../util/glob.js';
import { grepFiles, type GrepFile } from '../../search/grep.js';
import { searchFiles } from '../../search/substring.js';
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

const NOTE = 'plain case-insensitive substring search over file contents (not ranked full-text search: no index, no query syntax, no stemming); files ranked by number of occurrences';

const search = tool({
  name: 'search',
  title: 'Search file contents (substring)',
  description:
    'For now a PLAIN SUBSTRING SEARCH: finds text files below a folder containing `query` as written (case-insensitive; spaces and punctuation are part of the query, there are no operators), ' +
    'ranked by how often it occurs, with a few snippets each. Reads every file, so it is slower on big vaults. Use grep for regular expressions and exact line numbers.',
  input: {
    query: z.string().describe('the text to look for, matched literally and case-insensitively'),
    path: pathArg().optional().describe("folder to search (default '/')"),
    limit: int(1, 500).optional().describe('most files to return (default 20)'),
    at: atArg,
  },
  output: {
    engine: z.literal('substring'),
    note: z.string(),
    results: z.array(
      z.object({
        path: z.string(),
        count: z.number().describe('occurrences in the file'),
        snippets: z.array(z.object({ line: z.number(), text: z.string() })),
      }),
    ),
    filesSearched: z.number(),
    truncated: z.boolean(),
  },
  ...READ_ONLY,
  async run(a, s) {
    const r = await s.readAt(a.at, async (ops) => {
      const start = await s.resolve(ops, a.path ?? '/', true);
      return searchFiles(filesBelow(s, ops, start, undefined), a.query, { limit: a.limit ?? 20 });
    });
    const lines = [`[${NOTE}]`];
    for (const h of r.results) {
      lines.push(`${h.path} (${h.count})`);
      for (const sn of h.snippets) lines.push(`  ${sn.line}: ${sn.text}`);
    }
    if (r.results.length === 0) lines.push(`no file contains "${a.query}" (${r.filesSearched} searched)`);
    if (r.truncated) lines.push(`[more files match: raise limit]`);
    return { text: lines.join('\n'), data: { engine: 'substring' as const, note: NOTE, ...r } };
  },
});

export const searchTools: ToolDef[] = [grep, search] as unknown as ToolDef[];
