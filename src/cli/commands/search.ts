// search QUERY [PATH]: ranked full-text search over the files' text; --status and --rebuild
// for the index.
import type { Command, CommandModule, Context } from '../context.js';
import { vfsError } from '../../errors.js';
import { oneLine } from '../output.js';
import type { IndexStatus, SearchResult } from '../../api/search.js';
import { markSnippet } from '../../search/snippet.js';
import { parseQuery } from '../../text/query.js';

const BOLD_RED = '\x1b[1;31m';
const RESET = '\x1b[0m';

function statusLines(s: IndexStatus): string {
  const fts = s.fullText === 'fts5';
  const lazy = fts ? 'grep trigrams' : 'full text and grep trigrams';
  const lines = [
    `full text:  ${fts ? 'SQLite FTS5, written with every change' : 'shared index in the vault, caught up before each search'}`,
    `documents:  ${s.documents} text files`,
    `caught up:  ${lazy} to operation ${s.indexedSeq} of ${s.vaultSeq}${s.queued > 0 ? ` (${s.queued} changed files queued for the next ${fts ? 'grep' : 'search or grep'})` : ''}`,
  ];
  if (!s.built) lines.push('state:      not built yet (the next search builds it)');
  if (s.rebuilding) lines.push('state:      a rebuild is under way (the next search finishes it)');
  return lines.join('\n') + '\n';
}

function hitLines(ctx: Context, r: SearchResult): string {
  const colour = ctx.out.isTTY && !ctx.env.NO_COLOR;
  const [open, close] = colour ? [BOLD_RED, RESET] : ['**', '**'];
  let out = '';
  for (const h of r.hits) {
    if (!h.snippet) out += `${oneLine(h.path)}\n`;
    else out += `${oneLine(h.path)}:${h.snippet.line}: ${oneLine(markSnippet(h.snippet, open, close))}\n`;
  }
  return out;
}

const search: Command = {
  usage: 'search [-l] [-c] [-i] [-w] [--limit N] [--tag T]... QUERY [PATH] | search --status | search --rebuild',
  notes: [
    'Files whose text matches QUERY, most relevant first (BM25), each with its best line: PATH:LINE: text,',
    'the matching words marked (**word**, or in colour on a terminal). PATH limits the search to a folder.',
    'QUERY: words (all must be there), "a phrase", prefix*, a OR b, a NOT b, ( ). Matching ignores case',
    'and accents and takes whole words (-i and -w say so explicitly; they are always on). Binary files',
    'and files over 8 MiB are not indexed. Exit 0 with hits, 1 with none (as grep).',
    '--json: {query, hits: [{path, score, line, snippet, highlights, size, version, mtime}], total?, more}.',
  ],
  flags: [
    { key: 'list', short: 'l', long: 'files-with-matches', help: 'print only the paths, best first' },
    { key: 'count', short: 'c', long: 'count', help: 'print only the number of matching files' },
    { key: 'icase', short: 'i', long: 'ignore-case', help: 'ignore case (always: the index folds case)' },
    { key: 'words', short: 'w', long: 'word-regexp', help: 'whole words only (always: the index holds words)' },
    { key: 'limit', long: 'limit', short: 'n', value: 'N', int: true, help: 'at most N hits (default 20)' },
    { key: 'tag', long: 'tag', value: 'T', multi: true, help: 'only files tagged T (repeat: all of them)' },
    { key: 'status', long: 'status', help: 'show what the index holds and how far it has caught up' },
    { key: 'rebuild', long: 'rebuild', help: 'drop the index and build it again from the files' },
  ],
  min: 0,
  max: 2,
  async run(ctx: Context) {
    const status = ctx.flags.bool('status');
    const rebuild = ctx.flags.bool('rebuild');
    if (status || rebuild) {
      if (ctx.args.length > 0 || (status && rebuild)) throw vfsError('EUSAGE', undefined, 'search: --status and --rebuild take nothing else');
      const vault = await ctx.vault();
      const s = rebuild ? await vault.rebuildSearchIndex() : await vault.searchStatus();
      if (ctx.json) await ctx.printJson(s);
      else await ctx.print(statusLines(s));
      return;
    }
    if (ctx.args.length === 0) throw vfsError('EUSAGE', undefined, 'search: give a QUERY (see avfs search --help)');
    try {
      parseQuery(ctx.args[0]);
    } catch (e) {
      // A query that does not parse is a usage error (exit 2, as grep's bad pattern), in the parser's words.
      throw vfsError('EUSAGE', undefined, `search: ${(e as Error).message}`);
    }
    const limit = ctx.flags.int('limit');
    if (limit === 0) throw vfsError('EUSAGE', undefined, 'search: --limit must be at least 1');
    const count = ctx.flags.bool('count');
    const list = ctx.flags.bool('list');
    const vault = await ctx.vault();
    const r = await vault.search(ctx.args[0], {
      ...(ctx.args[1] !== undefined ? { path: ctx.args[1] } : {}),
      ...(limit !== undefined ? { limit } : {}),
      tags: ctx.flags.list('tag'),
      count,
      snippets: !list && !count,
    });
    if (ctx.json) {
      await ctx.printJson({
        query: r.query,
        hits: r.hits.map((h) => ({
          path: h.path,
          score: Number(h.score.toPrecision(6)),
          ...(h.snippet ? { line: h.snippet.line, snippet: h.snippet.text, highlights: h.snippet.highlights } : {}),
          size: h.size,
          version: h.version,
          mtime: h.mtime.toISOString(),
        })),
        ...(r.total !== undefined ? { total: r.total } : {}),
        more: r.more,
      });
    } else if (count) {
      await ctx.print(`${r.total ?? r.hits.length}\n`);
    } else if (list) {
      await ctx.print(r.hits.map((h) => `${oneLine(h.path)}\n`).join(''));
    } else {
      await ctx.print(hitLines(ctx, r));
    }
    // As grep: nothing found is exit status 1, with no message.
    if (r.hits.length === 0) ctx.setExitCode(1);
  },
};

export const commands: CommandModule = { search };
