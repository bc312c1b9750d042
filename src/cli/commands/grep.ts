// grep: GNU grep's everyday options over vault files, output like GNU grep (path:line:text,
// context with '-' and '--' separators), exit status 0 (a line selected), 1 (none), 2 (trouble).
// The patterns are GNU's basic regular expressions by default, JavaScript's with -E (or -P),
// plain strings with -F. See docs/grep.md.
import type { Command, CommandModule, Context } from '../context.js';
import type { GrepEvent, GrepFileResult, GrepLine, GrepOptions } from '../../api/grep.js';
import { usageError } from '../args.js';
import { AT_FLAG, readOps } from './point.js';
import { isVfsError, vfsError } from '../../errors.js';

const grep: Command = {
  usage: 'grep [OPTIONS] PATTERN [PATH...]   or   grep [OPTIONS] -e PATTERN... [PATH...]',
  notes: [
    'Searches files for lines matching PATTERN: GNU basic regular expressions by default (\\| \\( \\) \\{ \\} \\+ \\?),',
    '-E (or -P) a JavaScript regular expression, -F a plain string. PATHs are files, folders (with -r) and',
    "globs ('/src/**/*.ts'); none: the working folder, recursively. Output as GNU grep: PATH:LINE:TEXT (the path",
    'when more than one file is searched, the line number with -n), context lines with "-" and groups split by "--".',
    'Binary files (a NUL byte, or not UTF-8) are skipped. A pattern that backtracks too long is stopped with an',
    'error. Exit status: 0 a line was selected, 1 none, 2 an error (a missing PATH, a bad pattern).',
    '--json: {"matches": [{path, line, text, before, after}], "errors": [...]} (with -c "counts", with -l/-L "files").',
  ],
  flags: [
    { key: 'regexp', short: 'e', long: 'regexp', value: 'PATTERN', multi: true, help: 'a pattern (repeatable: a line matching any is selected)' },
    { key: 'extended', short: 'E', long: 'extended-regexp', help: 'PATTERN is a JavaScript regular expression' },
    { key: 'perl', short: 'P', long: 'perl-regexp', help: 'the same as -E (JavaScript syntax)' },
    { key: 'fixed', short: 'F', long: 'fixed-strings', help: 'PATTERN is a plain string' },
    { key: 'basic', short: 'G', long: 'basic-regexp', help: 'PATTERN is a GNU basic regular expression (the default)' },
    { key: 'ignoreCase', short: 'i', long: 'ignore-case', help: 'ignore case' },
    { key: 'invert', short: 'v', long: 'invert-match', help: 'select the lines that do not match' },
    { key: 'word', short: 'w', long: 'word-regexp', help: 'match whole words only' },
    { key: 'lineRegexp', short: 'x', long: 'line-regexp', help: 'match whole lines only' },
    { key: 'count', short: 'c', long: 'count', help: 'print the number of selected lines per file' },
    { key: 'filesWith', short: 'l', long: 'files-with-matches', help: 'print only the names of files with a selected line' },
    { key: 'filesWithout', short: 'L', long: 'files-without-match', help: 'print only the names of files with none' },
    { key: 'quietGrep', short: 'q', long: 'quiet', help: 'print nothing; exit 0 at the first selected line' },
    { key: 'silent', long: 'silent', help: 'the same as -q' },
    { key: 'noMessages', short: 's', long: 'no-messages', help: 'no messages about missing or unreadable files' },
    { key: 'maxCount', short: 'm', long: 'max-count', value: 'NUM', int: true, help: 'stop reading a file after NUM selected lines' },
    { key: 'lineNumber', short: 'n', long: 'line-number', help: 'print line numbers' },
    { key: 'withFilename', short: 'H', long: 'with-filename', help: 'print the file name for each match' },
    { key: 'noFilename', short: 'h', long: 'no-filename', help: 'never print file names' },
    { key: 'after', short: 'A', long: 'after-context', value: 'NUM', int: true, help: 'print NUM lines after each selected line' },
    { key: 'before', short: 'B', long: 'before-context', value: 'NUM', int: true, help: 'print NUM lines before each selected line' },
    { key: 'context', short: 'C', long: 'context', value: 'NUM', int: true, help: 'print NUM lines before and after' },
    { key: 'recursive', short: 'r', long: 'recursive', help: 'search folders, recursively (symlinks in them are not followed)' },
    { key: 'recursiveR', short: 'R', long: 'dereference-recursive', help: 'the same as -r' },
    { key: 'include', long: 'include', value: 'GLOB', multi: true, help: 'only search files (found in folders) whose name matches GLOB' },
    { key: 'exclude', long: 'exclude', value: 'GLOB', multi: true, help: 'skip files (found in folders) whose name matches GLOB' },
    { key: 'noIndex', long: 'no-index', help: 'read every file instead of asking the trigram index (slower; for comparison)' },
    AT_FLAG,
  ],
  min: 0,
  max: Infinity,
  async run(ctx: Context) {
    const f = ctx.flags;
    const args = [...ctx.args];
    let patterns = f.list('regexp');
    if (patterns.length === 0) {
      if (args.length === 0) throw usageError('grep: missing PATTERN (see avfs grep --help)');
      patterns = [args.shift()!];
    }
    const syntaxes = (['extended', 'perl', 'fixed', 'basic'] as const).filter((k) => f.bool(k));
    if (new Set(syntaxes.map((k) => (k === 'perl' ? 'extended' : k))).size > 1) throw usageError('grep: -E, -F and -G (and -P) exclude each other');
    const syntax: GrepOptions['syntax'] = f.bool('fixed') ? 'fixed' : f.bool('extended') || f.bool('perl') ? 'extended' : 'basic';
    const modes = (['count', 'filesWith', 'filesWithout'] as const).filter((k) => f.bool(k));
    if (modes.length > 1) throw usageError('grep: -c, -l and -L exclude each other');
    const quiet = f.bool('quietGrep') || f.bool('silent');
    const context = f.int('context');
    const opts: GrepOptions = {
      syntax,
      ignoreCase: f.bool('ignoreCase'),
      invert: f.bool('invert'),
      word: f.bool('word'),
      lineRegexp: f.bool('lineRegexp'),
      // No PATH: the working folder, searched recursively (as ripgrep does; GNU would read stdin).
      recursive: f.bool('recursive') || f.bool('recursiveR') || args.length === 0,
      output: quiet || f.bool('filesWith') ? 'files' : f.bool('filesWithout') ? 'files-without-match' : f.bool('count') ? 'count' : 'lines',
      before: f.int('before') ?? context ?? 0,
      after: f.int('after') ?? context ?? 0,
      lineNumbers: f.bool('lineNumber') || ctx.json,
      include: f.list('include'),
      exclude: f.list('exclude'),
      index: !f.bool('noIndex'),
    };
    const maxCount = f.int('maxCount');
    if (maxCount !== undefined) opts.maxCount = maxCount;
    // One command, one grep: helper threads would only cost their start-up.
    opts.threads = 1;
    const timeout = Number(ctx.env.AVFS_GREP_TIMEOUT_MS);
    if (Number.isFinite(timeout) && timeout > 0) opts.timeoutMs = timeout;

    const at = f.str('at');
    let events: AsyncGenerator<GrepEvent>;
    if (at === undefined) {
      events = (await ctx.vault()).grepStream(patterns, args, opts);
    } else {
      const view = await readOps(ctx);
      const { grepOps } = await import('../../api/grep.js');
      events = grepOps(view, patterns, args, opts, false);
    }
    const out = new Printer(ctx, opts, f.bool('withFilename') ? true : f.bool('noFilename') ? false : undefined);
    let selected = false;
    let trouble = false;
    try {
      for await (const e of events) {
        if (e.type === 'stats') continue;
        if (e.type === 'operands') {
          out.multiple = e.count > 1 || e.folders;
          continue;
        }
        if (e.type === 'error') {
          trouble = true;
          if (ctx.json) out.errors.push({ path: e.path, error: e.error.code, message: e.error.message });
          else if (!f.bool('noMessages')) await ctx.err.write(`avfs: grep: ${oneLine(e.error.message)}\n`);
          continue;
        }
        if (e.type === 'skipped') {
          if (ctx.json) out.skipped.push({ path: e.path, reason: e.reason });
          else if (e.explicit && !f.bool('noMessages') && !quiet) await ctx.err.write(`avfs: grep: ${oneLine(e.shown)}: ${e.reason === 'binary' ? 'binary file' : 'file too large'}, not searched\n`);
          continue;
        }
        const file = e.file;
        if (opts.output === 'files-without-match' || file.count > 0) selected = true;
        if (quiet) {
          if (selected) break;
          continue;
        }
        await out.file(file);
        if (ctx.out.closed) break;
      }
    } catch (err) {
      // A bad pattern, a pattern that took too long, a damaged store: one line, exit 2.
      await out.flush();
      await ctx.fail(isVfsError(err) ? err : vfsError('EIO', undefined, `grep: ${(err as Error).message}`));
      ctx.setExitCode(2);
      return;
    }
    await out.finish(selected);
    // GNU: 2 if there was trouble (unless -q found a line), else 0 if a line was selected, else 1.
    if (trouble && !(quiet && selected)) ctx.setExitCode(2);
    else if (!selected) ctx.setExitCode(1);
  },
};

function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

interface JsonMatch {
  path: string;
  line: number;
  text: string;
  before?: { line: number; text: string }[];
  after?: { line: number; text: string }[];
}

/** Prints results as GNU grep does (or gathers them for --json). */
class Printer {
  multiple = false;
  errors: { path: string; error: string; message: string }[] = [];
  skipped: { path: string; reason: string }[] = [];
  private buf: string[] = [];
  private printedAny = false;
  private matches: JsonMatch[] = [];
  private files: string[] = [];
  private counts: { path: string; count: number }[] = [];
  private readonly context: boolean;

  constructor(
    private readonly ctx: Context,
    private readonly opts: GrepOptions,
    private readonly names: boolean | undefined,
  ) {
    this.context = (opts.before ?? 0) > 0 || (opts.after ?? 0) > 0;
  }

  private get withName(): boolean {
    return this.names ?? this.multiple;
  }

  async file(f: GrepFileResult): Promise<void> {
    const o = this.opts.output;
    if (this.ctx.json) {
      if (o === 'files' || o === 'files-without-match') this.files.push(f.path);
      else if (o === 'count') this.counts.push({ path: f.path, count: f.count });
      else this.jsonLines(f);
      return;
    }
    if (o === 'files' || o === 'files-without-match') this.buf.push(oneLine(f.shown) + '\n');
    else if (o === 'count') this.buf.push((this.withName ? `${oneLine(f.shown)}:` : '') + f.count + '\n');
    else {
      let prev: GrepLine | undefined;
      for (const l of f.lines) {
        // GNU: '--' between groups of context that do not touch, in a file and across files.
        if (this.context && this.printedAny && (prev === undefined || l.line !== prev.line + 1)) this.buf.push('--\n');
        const sep = l.selected ? ':' : '-';
        let line = '';
        if (this.withName) line += f.shown + sep;
        if (this.opts.lineNumbers) line += l.line + sep;
        this.buf.push(line + l.text + '\n');
        this.printedAny = true;
        prev = l;
      }
    }
    if (this.buf.length >= 512) await this.flush();
  }

  private jsonLines(f: GrepFileResult): void {
    const byLine = new Map(f.lines.map((l) => [l.line, l]));
    const B = this.opts.before ?? 0;
    const A = this.opts.after ?? 0;
    for (const l of f.lines) {
      if (!l.selected) continue;
      const m: JsonMatch = { path: f.path, line: l.line, text: l.text };
      if (B > 0) {
        const before: { line: number; text: string }[] = [];
        for (let k = l.line - B; k < l.line; k++) {
          const c = byLine.get(k);
          if (c && !c.selected) before.push({ line: k, text: c.text });
        }
        m.before = before;
      }
      if (A > 0) {
        const after: { line: number; text: string }[] = [];
        for (let k = l.line + 1; k <= l.line + A; k++) {
          const c = byLine.get(k);
          if (c && !c.selected) after.push({ line: k, text: c.text });
        }
        m.after = after;
      }
      this.matches.push(m);
    }
  }

  async flush(): Promise<void> {
    if (this.buf.length === 0) return;
    const text = this.buf.join('');
    this.buf = [];
    await this.ctx.print(text);
  }

  async finish(selected: boolean): Promise<void> {
    if (!this.ctx.json) {
      await this.flush();
      return;
    }
    const o = this.opts.output;
    const doc: Record<string, unknown> =
      o === 'files' || o === 'files-without-match' ? { files: this.files } : o === 'count' ? { counts: this.counts } : { matches: this.matches };
    doc.matched = selected;
    doc.errors = this.errors;
    doc.skipped = this.skipped;
    await this.ctx.printJson(doc);
  }
}

export const commands: CommandModule = { grep };
