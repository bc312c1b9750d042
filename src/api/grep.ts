// grep over vault files: GNU grep's options, results as events (streaming), the trigram index
// to skip files that cannot match, and no pattern that can hang the process (search/matcher.ts).
//
// Flow: the pattern list is compiled (search/pattern.ts: the line-matching regex and the trigram
// query); the operands are resolved (grep-operands.ts: files, folders with `recursive`, globs like
// /src/**/*.ts); with the index, the files the query allows (plus files the index cannot vouch
// for: over its size limit, or written since it last caught up) are found by their parent
// pointers, without walking the folders; without it, the folders are walked (grep-targets.ts).
// Contents are read a batch of files per read transaction (content is immutable under its id,
// so short reads are safe), files with the same content are searched once, and results come
// out file by file (grep-batches.ts).
//
// Binary files (a NUL byte, or not UTF-8) are skipped, as ripgrep does: the index knows them,
// so they are not even read. Files over `maxFileBytes` (256 MiB) are skipped too. After a grep
// that read many files, helper threads (grep-pool.ts, running search/grep-worker.ts, each with a
// read-only connection of its own) are started for the greps that follow and take whole batches
// of files.
import { availableParallelism } from 'node:os';
import { VfsError, vfsError } from '../errors.js';
import type { Dialect } from '../search/pattern-tree.js';
import { makeSearch, type GrepLine, type Outcome, type SearchSpec } from '../search/filesearch.js';
import type { FileOps, Runner } from './fileops.js';
import type { Engine } from '../storage/contract.js';
import { catchUp } from '../search/indexer.js';
import { nameFilter, resolveOperands } from './grep-operands.js';
import { readIndexView, targetsOf, type IndexView } from './grep-targets.js';
import { searchTargets } from './grep-batches.js';
import { HELPERS_AFTER, helperFor, type Helper, type HelperSlot, type StoreRef } from './grep-pool.js';

export type { GrepLine };
export type { StoreRef };

export interface GrepOptions {
  /** 'extended' (default: a JavaScript regular expression), 'basic' (GNU grep's BRE), 'fixed' (-F). */
  syntax?: Dialect;
  /** -i */
  ignoreCase?: boolean;
  /** -w: whole words only. */
  word?: boolean;
  /** -x: whole lines only. */
  lineRegexp?: boolean;
  /** -v: select the lines that do not match. */
  invert?: boolean;
  /** Search folders (default true; the CLI passes -r). Without it a folder operand is EISDIR. */
  recursive?: boolean;
  /**
   * What each file result holds: 'lines' (default: the selected lines, with context), 'count'
   * (-c: only the count, every file searched), 'files' (-l: files with a selected line),
   * 'files-without-match' (-L).
   */
  output?: 'lines' | 'count' | 'files' | 'files-without-match';
  /** -B, -A: context lines before and after each selected line. */
  before?: number;
  after?: number;
  /** -m: stop reading a file after this many selected lines. */
  maxCount?: number;
  /** Only files (found below a folder) whose name matches one of these globs (--include). */
  include?: string[];
  /** Skip files (found below a folder) whose name matches one of these globs (--exclude). */
  exclude?: string[];
  /** Number the lines (default true; off saves a little time when nobody shows them). */
  lineNumbers?: boolean;
  /** Cut returned lines to this many characters (default: whole lines). */
  maxLineChars?: number;
  /** Time limit per slice of text for the pattern, in ms (default 1000). */
  timeoutMs?: number;
  /** Use the trigram index where there is one (default true). */
  index?: boolean;
  /** Files larger than this are skipped (default 256 MiB). */
  maxFileBytes?: number;
  /**
   * 1: search on the calling thread only. Default: after a grep that read 1,000 files or more,
   * two helper threads (each with its own read-only connection to the store) are started in the
   * background and share the work of the greps that follow, until the vault is closed.
   */
  threads?: number;
}

export interface GrepFileResult {
  /** Canonical absolute vault path. */
  path: string;
  /** The path as grep prints it: below an operand, written from the operand as given. */
  shown: string;
  /** Selected lines (up to maxCount). */
  count: number;
  /** Selected lines and their context, in order ('lines' output only). */
  lines: GrepLine[];
}

export type GrepEvent =
  /** First: how many operands there are (globs expanded) and whether a folder is among them (GNU prints file names then). */
  | { type: 'operands'; count: number; folders: boolean }
  | { type: 'file'; file: GrepFileResult }
  /** An operand that could not be searched (missing, a folder without `recursive`, ...). */
  | { type: 'error'; path: string; error: VfsError }
  /** A file grep did not search. Reported for files it looked at (not for those the index ruled out). */
  | { type: 'skipped'; path: string; shown: string; reason: 'binary' | 'too large'; explicit: boolean }
  /** Last: files whose content was searched (by helper threads: `helped`), and whether the trigram index was used. */
  | { type: 'stats'; searched: number; helped: number; indexed: boolean };

export interface GrepResult {
  /** Files with a result ('lines' and 'files': files with a selected line; 'count': every file searched). */
  files: GrepFileResult[];
  errors: { path: string; error: VfsError }[];
  skipped: { path: string; reason: 'binary' | 'too large' }[];
  /** True when some line was selected (GNU's exit status 0); for 'files-without-match', some file listed. */
  matched: boolean;
  /** Files whose content was searched (the index ruled the others out unread). */
  searched: number;
  /** The trigram index was used. */
  indexed: boolean;
  /** Of `searched`, files searched by helper threads. */
  helped: number;
}

const DEFAULT_MAX_FILE = 256 * 1024 * 1024;

function checkCount(n: unknown, what: string): number | undefined {
  if (n === undefined) return undefined;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw vfsError('EINVAL', undefined, `grep: ${what} must be a non-negative integer`);
  return n;
}

const runnerOf = (ops: FileOps): Runner => (ops as unknown as { runner: Runner }).runner;

/**
 * grep over `ops` (a vault, a batch, or a view of the past). `useIndex`: the trigram index
 * describes what `ops` reads (the live vault, caught up by the caller).
 */
export async function* grepOps(ops: FileOps, patterns: string | string[], paths: string[] = [], o: GrepOptions = {}, useIndex = false, store?: StoreRef): AsyncGenerator<GrepEvent> {
  const list = typeof patterns === 'string' ? [patterns] : patterns;
  if (!Array.isArray(list) || list.length === 0 || list.some((p) => typeof p !== 'string')) throw vfsError('EINVAL', undefined, 'grep: the pattern must be a string (or a list of strings)');
  if (!Array.isArray(paths) || paths.some((p) => typeof p !== 'string')) throw vfsError('EINVAL', undefined, 'grep: paths must be a list of strings');
  const before = checkCount(o.before, 'before') ?? 0;
  const after = checkCount(o.after, 'after') ?? 0;
  const maxCount = checkCount(o.maxCount, 'maxCount') ?? Infinity;
  const maxFile = checkCount(o.maxFileBytes, 'maxFileBytes') ?? DEFAULT_MAX_FILE;
  const output = o.output ?? 'lines';
  if (!['lines', 'count', 'files', 'files-without-match'].includes(output)) throw vfsError('EINVAL', undefined, `grep: unknown output "${String(output)}"`);
  const syntax = o.syntax ?? 'extended';
  // GNU grep: a pattern holding newlines is one pattern per line.
  const lines = list.flatMap((p) => p.split('\n'));
  const spec: SearchSpec = {
    pattern: { patterns: lines, dialect: syntax, ignoreCase: !!o.ignoreCase, word: !!o.word, line: !!o.lineRegexp },
    output,
    invert: !!o.invert,
    before,
    after,
    maxCount,
    lineNumbers: o.lineNumbers !== false,
    maxLineChars: o.maxLineChars ?? Infinity,
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
  };
  const s = makeSearch(spec);
  const { compiled, matcher } = s;
  const invert = spec.invert;
  const runner = runnerOf(ops);
  const recursive = o.recursive !== false;
  const accept = nameFilter(o);
  try {
    const operands = await resolveOperands(ops, runner, paths);
    yield { type: 'operands', count: operands.length, folders: operands.some((op) => !('error' in op) && op.kind === 'dir') };
    // What the index says (one snapshot). Inverted searches and -L need every file anyway.
    let view: IndexView | undefined;
    if (useIndex && o.index !== false) {
      // An inverted search selects the lines that do not match: every file can have some.
      view = await readIndexView(runner, invert ? { op: 'all' } : compiled.query);
    }
    const cache = new Map<string, Outcome | 'gone'>();
    const stats = { searched: 0, helped: 0 };
    // Helper threads (ripgrep uses every core too): started in the background after a grep
    // that read many files, used by the greps that follow (a thread costs more to start than a
    // short grep takes, so a one-shot command never waits for one), for patterns this thread
    // could run itself.
    const useHelpers = store !== undefined && matcher.inThread && o.threads !== 1 && availableParallelism() > 1;
    let helperReady: Helper | undefined;
    let starting = false;
    const helper: HelperSlot | undefined = useHelpers
      ? {
          get(): Helper | undefined {
            if (helperReady || starting) return helperReady;
            const h = helperFor(store, false);
            if (h) {
              starting = true;
              void h.then((x) => {
                helperReady = x;
                starting = false;
              });
            }
            return undefined;
          },
          starting: () => starting,
        }
      : undefined;
    for (const op of operands) {
      if ('error' in op) {
        yield { type: 'error', path: op.path, error: op.error };
        continue;
      }
      if (op.kind === 'dir' && !recursive) {
        yield { type: 'error', path: op.shown, error: vfsError('EISDIR', op.shown) };
        continue;
      }
      const every = output === 'count' || output === 'files-without-match';
      yield* searchTargets(runner, s, targetsOf(runner, op, view, accept, every, useIndex), maxFile, cache, stats, helper, spec);
    }
    if (useHelpers && stats.searched >= HELPERS_AFTER) void helperFor(store, true);
    yield { type: 'stats', searched: stats.searched, helped: stats.helped, indexed: view !== undefined };
  } finally {
    await matcher.close();
  }
}

/**
 * Bring the index up to the last finished write before a grep (a store opened read-only stays
 * behind: grep then reads the files still queued itself).
 */
export async function catchUpForGrep(engine: Engine, chunkSize: number): Promise<void> {
  await catchUp(engine, chunkSize);
}

/** Run a grep to the end and gather the results. */
export async function collect(events: AsyncIterable<GrepEvent>, output: GrepOptions['output'] = 'lines'): Promise<GrepResult> {
  const r: GrepResult = { files: [], errors: [], skipped: [], matched: false, searched: 0, indexed: false, helped: 0 };
  for await (const e of events) {
    if (e.type === 'file') {
      r.files.push(e.file);
      if (output === 'files-without-match' || e.file.count > 0) r.matched = true;
    } else if (e.type === 'error') r.errors.push({ path: e.path, error: e.error });
    else if (e.type === 'skipped') r.skipped.push({ path: e.path, reason: e.reason });
    else if (e.type === 'stats') {
      r.searched = e.searched;
      r.indexed = e.indexed;
      r.helped = e.helped;
    }
  }
  return r;
}

export { VfsError };
