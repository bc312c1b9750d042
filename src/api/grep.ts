// grep over vault files: GNU grep's options, results as events (streaming), the trigram index
// to skip files that cannot match, and no pattern that can hang the process (search/matcher.ts).
//
// Flow: the pattern list is compiled (search/regex.ts: the line-matching regex and the trigram
// query); the operands are resolved (files, folders with `recursive`, globs like /src/**/*.ts);
// with the index, the files the query allows (plus files the index cannot vouch for: over its
// size limit, or written since it last caught up) are found by their parent pointers, without
// walking the folders; without it, the folders are walked. Contents are read a batch of files
// per read transaction (content is immutable under its id, so short reads are safe), files with
// the same content are searched once, and results come out file by file.
//
// Binary files (a NUL byte, or not UTF-8) are skipped, as ripgrep does: the index knows them,
// so they are not even read. Files over `maxFileBytes` (256 MiB) are skipped too. After a grep
// that read many files, helper threads (search/grep-worker.ts, each with a read-only connection
// of its own) are started for the greps that follow and take whole batches of files.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ERROR_CODES, VfsError, isVfsError, vfsError } from '../errors.js';
import type { ReadScope } from '../core/scope.js';
import * as core from '../core/fs.js';
import { isWithin, joinPath, normalizePath } from '../core/paths.js';
import { ROOT_INO, direntKey, inodeKey, parseDirent, readU64, type Inode } from '../core/records.js';
import { globToRegExp, hasGlob } from '../util/glob.js';
import type { Dialect } from '../search/regex.js';
import { makeSearch, readBlob, searchContents, type GrepLine, type Outcome, type Search, type SearchSpec } from '../search/filesearch.js';
import { trigramIndex } from '../search/trigram.js';
import type { FileOps, Runner } from './fileops.js';
import type { Engine, EngineKind } from '../storage/contract.js';
import { scan } from '../storage/contract.js';
import { catchUp } from '../search/indexer.js';

export type { GrepLine };

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
/** Files per read transaction, and bytes per batch. */
const BATCH_FILES = 64;
const BATCH_BYTES = 8 * 1024 * 1024;
/** Above this many index candidates, walking the folders beats looking up each file's path. */
const MAX_LOOKUPS = 3000;
/** A walk of the whole vault reads all folder entries at once, up to this many. */
const WHOLE_SCAN_MAX = 500_000;

interface Operand {
  kind: 'file' | 'dir';
  /** Canonical absolute path. */
  path: string;
  ino: number;
  /** How paths below it are shown ('' for the implicit operand: no prefix). */
  shown: string;
  explicit: boolean;
}

interface Target {
  path: string;
  shown: string;
  ino: number;
  /** The index vouches that it is text. */
  known: boolean;
  /** The index rules a match out: shown with a count of 0 (-c, -L) without being read. */
  zero?: boolean;
  explicit: boolean;
}

/** What the index says, read once per grep. */
interface IndexView {
  candidates: Set<number> | undefined;
  binary: Set<number>;
  large: Set<number>;
  queued: Set<number>;
}

function checkCount(n: unknown, what: string): number | undefined {
  if (n === undefined) return undefined;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw vfsError('EINVAL', undefined, `grep: ${what} must be a non-negative integer`);
  return n;
}

const runnerOf = (ops: FileOps): Runner => (ops as unknown as { runner: Runner }).runner;

/** Path order as a walk gives it: names in order, a folder's contents right after it. */
const walkKey = (p: string): string => p.replaceAll('/', '\u0000');

function shownBelow(op: Operand, path: string): string {
  if (path === op.path) return op.shown === '' ? path : op.shown;
  const rel = op.path === '/' ? path.slice(1) : path.slice(op.path.length + 1);
  if (op.shown === '') return rel;
  return op.shown.endsWith('/') ? op.shown + rel : `${op.shown}/${rel}`;
}

/** Where an inode is, from its parent pointer (checked against the folder's entry). */
class Paths {
  private dirs = new Map<number, string | null>([[ROOT_INO, '']]);
  constructor(private readonly s: ReadScope) {}

  async of(ino: number): Promise<string | undefined> {
    const p = await this.prefix(ino, 0);
    return p === null ? undefined : p === '' ? '/' : p;
  }

  private async prefix(ino: number, depth: number): Promise<string | null> {
    const known = this.dirs.get(ino);
    if (known !== undefined) return known;
    if (depth > 4096) return null;
    const raw = await this.s.tx.get('parents', inodeKey(ino));
    let out: string | null = null;
    if (raw !== undefined) {
      const parent = readU64(raw);
      const name = raw.subarray(8).toString();
      const entry = await this.s.tx.get('dirents', direntKey(parent, name));
      if (entry !== undefined && parseDirent(entry).ino === ino) {
        const up = await this.prefix(parent, depth + 1);
        if (up !== null) out = `${up}/${name}`;
      }
    }
    this.dirs.set(ino, out);
    return out;
  }
}

/** The PATH operands in order: each a file or a folder (globs expanded), or what went wrong with it. */
async function resolveOperands(ops: FileOps, runner: Runner, paths: string[]): Promise<(Operand | { error: VfsError; path: string })[]> {
  const out: (Operand | { error: VfsError; path: string })[] = [];
  const implicit = paths.length === 0;
  const list = implicit ? ['.'] : paths;
  for (const given of list) {
    try {
      if (!implicit && hasGlob(given)) {
        const found = await expandGlob(ops, runner, given);
        if (found.length === 0) throw vfsError('ENOENT', given, 'no such file or directory (no match for the pattern)');
        out.push(...found);
        continue;
      }
      const abs = normalizePath(given, ops.cwd);
      const f = await runner.read((s) => core.stat(s, abs, true));
      const isDir = f.node.type === 'directory';
      out.push({ kind: isDir ? 'dir' : 'file', path: f.path, ino: f.ino, shown: implicit ? '' : given, explicit: !implicit });
    } catch (e) {
      // Named as given (GNU: "grep: src/x: No such file or directory").
      const err = isVfsError(e) ? (e.path !== undefined && e.message === `${e.path}: ${ERROR_CODES[e.code]}` ? vfsError(e.code, given) : e) : vfsError('EIO', given, (e as Error).message);
      out.push({ error: err, path: given });
    }
  }
  return out;
}

/** A glob operand's matches (files and folders), in walk order, shown as the glob was written. */
async function expandGlob(ops: FileOps, runner: Runner, glob: string): Promise<Operand[]> {
  // '.' and '..' taken out first (lexically, as for any path); the rest may hold glob characters.
  const segs: string[] = [];
  for (const part of (glob.startsWith('/') ? glob : joinPath(ops.cwd, glob)).split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') segs.pop();
    else segs.push(part);
  }
  const absGlob = '/' + segs.join('/');
  const parts = absGlob.split('/');
  let i = 1;
  while (i < parts.length && !hasGlob(parts[i])) i++;
  const base = normalizePath(parts.slice(0, i).join('/') || '/');
  const re = globToRegExp(absGlob);
  const out: Operand[] = [];
  const show = (p: string): string => {
    if (glob.startsWith('/')) return p;
    const cwd = ops.cwd;
    return cwd === '/' ? p.slice(1) : p.startsWith(cwd + '/') ? p.slice(cwd.length + 1) : p;
  };
  await runner.read(async (s) => {
    let start;
    try {
      start = await core.stat(s, base, true);
    } catch {
      return;
    }
    if (start.node.type !== 'directory') return;
    const deep = absGlob.includes('**');
    const depth = parts.length - i;
    const walk = async (dirIno: number, dirPath: string, level: number): Promise<void> => {
      for (const c of await s.children(dirIno)) {
        const p = joinPath(dirPath, c.name);
        let kind: 'file' | 'dir' | undefined = c.type === 'file' ? 'file' : c.type === 'directory' ? 'dir' : undefined;
        let ino = c.ino;
        if (c.type === 'symlink' && re.test(p)) {
          try {
            const f = await core.stat(s, p, true);
            kind = f.node.type === 'directory' ? 'dir' : 'file';
            ino = f.ino;
          } catch {
            kind = undefined;
          }
        }
        if (kind && re.test(p)) out.push({ kind, path: c.type === 'symlink' ? (await core.stat(s, p, true)).path : p, ino, shown: show(p), explicit: true });
        if (c.type === 'directory' && (deep || level + 1 < depth)) await walk(c.ino, p, level + 1);
      }
    };
    await walk(start.ino, start.path, 0);
  });
  return out;
}

function nameFilter(o: GrepOptions): ((name: string) => boolean) | undefined {
  const inc = (o.include ?? []).map((g) => globToRegExp(g));
  const exc = (o.exclude ?? []).map((g) => globToRegExp(g));
  if (inc.length === 0 && exc.length === 0) return undefined;
  return (name) => (inc.length === 0 || inc.some((r) => r.test(name))) && !exc.some((r) => r.test(name));
}

/** The files below a folder, in walk order (symlinks are not followed, as grep -r does). */
async function* walkFiles(runner: Runner, root: Operand, live: boolean): AsyncGenerator<{ path: string; ino: number }[]> {
  // Folders are listed ahead, up to ~4,000 entries per read transaction, then visited in order.
  const listed = new Map<number, { name: string; ino: number; type: string }[]>();
  const fetch = (dirIno: number): Promise<void> =>
    runner.read(async (s) => {
      const queue = [dirIno];
      let budget = 4000;
      while (queue.length > 0 && budget > 0) {
        const d = queue.shift()!;
        if (listed.has(d)) continue;
        const kids = await s.children(d);
        listed.set(d, kids);
        budget -= kids.length + 1;
        for (const k of kids) if (k.type === 'directory') queue.push(k.ino);
      }
    });
  // The whole vault now (not a view of the past): every folder's entries in a few big reads (a
  // folder's entries are contiguous, in name order) rather than one read per folder.
  let scanned = false;
  if (live && root.ino === ROOT_INO) {
    scanned = await runner.read(async (s) => {
      let n = 0;
      for await (const e of scan(s.tx, 'dirents', {}, 4096)) {
        if (++n > WHOLE_SCAN_MAX) {
          listed.clear();
          return false;
        }
        const parent = readU64(e.key);
        const d = parseDirent(e.value);
        let kids = listed.get(parent);
        if (!kids) listed.set(parent, (kids = []));
        kids.push({ name: e.key.subarray(8).toString(), ino: d.ino, type: d.type });
      }
      return true;
    });
  }
  // Iterative, in walk order (names in order, a folder's contents right after it), files handed
  // out in arrays: one async step per few hundred files, not per file and folder level.
  const stack: { kids: { name: string; ino: number; type: string }[]; i: number; path: string }[] = [];
  const open = async (ino: number, path: string): Promise<void> => {
    if (!listed.has(ino) && !scanned) await fetch(ino);
    const kids = listed.get(ino) ?? [];
    listed.delete(ino);
    stack.push({ kids, i: 0, path });
  };
  await open(root.ino, root.path);
  let out: { path: string; ino: number }[] = [];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.i >= top.kids.length) {
      stack.pop();
      continue;
    }
    const k = top.kids[top.i++];
    const p = top.path === '/' ? '/' + k.name : `${top.path}/${k.name}`;
    if (k.type === 'file') {
      out.push({ path: p, ino: k.ino });
      if (out.length >= 256) {
        yield out;
        out = [];
      }
    } else if (k.type === 'directory') await open(k.ino, p);
  }
  if (out.length > 0) yield out;
}

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
      view = await runner.read(async (sc) => {
        if (!(await trigramIndex.ready(sc.tx))) return undefined;
        // An inverted search selects the lines that do not match: every file can have some.
        const q = invert ? { op: 'all' as const } : compiled.query;
        const cands = await trigramIndex.candidates(sc.tx, q);
        const skip = await trigramIndex.skipLists(sc.tx);
        const queued = new Set<number>();
        for (let from: Buffer | undefined; ; ) {
          const page = await sc.tx.range('search_queue', from ? { gt: from, limit: 1000 } : { limit: 1000 });
          for (const e of page) queued.add(readU64(e.key, 8));
          if (page.length < 1000) break;
          from = page[page.length - 1].key;
        }
        return { candidates: cands === undefined ? undefined : new Set(cands), binary: skip.binary, large: skip.large, queued };
      });
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

/** Where a store lives, for a helper thread to open it too (sqlite and lmdb; never the memory engine). */
export interface StoreRef {
  kind: EngineKind;
  path: string;
  chunkSize: number;
  /** Whose helpers they are (the open vault's engine): closed with it. */
  owner: object;
}

/** grep-worker.js of the library (dist/src), from here or from the CLI bundle beside it. */
function workerFile(): URL | undefined {
  const here = import.meta.url;
  if (here.includes('/dist/src/')) return new URL('../search/grep-worker.js', here);
  for (let dir = new URL('.', here); dir.pathname !== '/'; dir = new URL('..', dir)) {
    const u = new URL('dist/src/search/grep-worker.js', dir);
    if (existsSync(u)) return u;
  }
  return undefined;
}

/** Helper threads per open vault (its engine), kept until it is closed (started by a long grep). */
const helpers = new WeakMap<object, Promise<Helper | undefined>>();

function helperFor(store: StoreRef, start: boolean): Promise<Helper | undefined> | undefined {
  let h = helpers.get(store.owner);
  if (h === undefined && start) {
    h = startPool(store, Math.min(HELPER_THREADS, availableParallelism()));
    helpers.set(store.owner, h);
  }
  return h;
}

/** Helper threads per store: with two, this thread only walks and hands out (two cores busy). */
const HELPER_THREADS = 2;
/** A grep that read this many files starts the helpers for the next ones. */
const HELPERS_AFTER = 1000;

async function startPool(store: StoreRef, n: number): Promise<Helper | undefined> {
  const started = await Promise.all(Array.from({ length: n }, () => startHelper(store).catch(() => undefined)));
  const pool = started.filter((h): h is Helper & { busy(): number } => h !== undefined);
  if (pool.length === 0) return undefined;
  return {
    capacity: pool.length * 2,
    busy: () => pool.reduce((a, h) => a + h.busy(), 0),
    run(spec, maxFile, files) {
      let best = pool[0];
      for (const h of pool) if (h.busy() < best.busy()) best = h;
      return best.run(spec, maxFile, files);
    },
    async close() {
      await Promise.all(pool.map((h) => h.close()));
    },
  };
}

/** Stop a vault's helper threads (it is closing). */
export async function closeHelper(owner: object): Promise<void> {
  const h = helpers.get(owner);
  helpers.delete(owner);
  await (await h)?.close();
}

async function startHelper(store: StoreRef): Promise<(Helper & { busy(): number }) | undefined> {
  const file = workerFile();
  if (!file) return undefined;
  const w = new Worker(file, { workerData: { store: { kind: store.kind, path: store.path, chunkSize: store.chunkSize } } });
  let failed: Error | undefined;
  w.on('error', (e) => (failed ??= e));
  const ok = await new Promise<boolean>((resolve) => {
    w.once('message', (m: { ready?: boolean }) => resolve(m.ready === true));
    w.once('error', () => resolve(false));
    w.once('exit', () => resolve(false));
  });
  if (!ok) {
    await w.terminate();
    return undefined;
  }
  // Idle, it never keeps a process alive.
  w.unref();
  let next = 1;
  let dead = false;
  let busy = 0; // batches in flight: the thread keeps the process alive only while there are some
  w.once('exit', () => (dead = true));
  return {
    capacity: 2,
    busy: () => busy,
    run(spec, maxFile, files) {
      if (dead) return Promise.reject(failed ?? vfsError('EIO', undefined, 'grep: the helper thread stopped'));
      const id = next++;
      if (busy++ === 0) w.ref();
      return new Promise((resolve, reject) => {
        const onMessage = (m: { id: number; results?: HelperResult[]; error?: { code?: string; message: string } }): void => {
          if (m.id !== id) return;
          w.off('message', onMessage);
          w.off('exit', onExit);
          if (--busy === 0) w.unref();
          if (m.error) reject(new VfsError((m.error.code && m.error.code.startsWith('E') ? m.error.code : 'EIO') as 'EIO', m.error.message));
          else resolve(m.results!);
        };
        const onExit = (): void => {
          w.off('message', onMessage);
          reject(failed ?? vfsError('EIO', undefined, 'grep: the helper thread stopped'));
        };
        w.on('message', onMessage);
        w.once('exit', onExit);
        w.postMessage({ id, spec, maxFile, files });
      });
    },
    async close() {
      dead = true;
      await w.terminate();
    },
  };
}

/**
 * The files of one operand to report on, in walk order. `every`: every text file is reported
 * (-c, -L), those the index rules out with a count of 0 and unread.
 */
async function* targetsOf(
  runner: Runner,
  op: Operand,
  view: IndexView | undefined,
  accept: ((name: string) => boolean) | undefined,
  every: boolean,
  live: boolean,
): AsyncGenerator<Target[]> {
  const classify = (ino: number): 'skip' | 'known' | 'unknown' | 'zero' => {
    if (!view) return 'unknown';
    if (view.queued.has(ino) || view.large.has(ino)) return 'unknown';
    if (view.binary.has(ino)) return 'skip';
    if (view.candidates === undefined || view.candidates.has(ino)) return 'known';
    return every ? 'zero' : 'skip';
  };
  const target = (path: string, shown: string, ino: number, explicit: boolean): Target | undefined => {
    const c = classify(ino);
    // A binary file named on the command line is read after all, so that it can be reported.
    if (c === 'skip' && !(explicit && view?.binary.has(ino))) return undefined;
    return { path, shown, ino, known: c === 'known' || c === 'zero', zero: c === 'zero', explicit };
  };
  if (op.kind === 'file') {
    const t = target(op.path, op.shown === '' ? op.path : op.shown, op.ino, op.explicit);
    if (t) yield [t];
    return;
  }
  const nameOk = (p: string): boolean => accept === undefined || accept(p.slice(p.lastIndexOf('/') + 1));
  if (view && view.candidates !== undefined && !every) {
    const wanted = new Set<number>([...view.candidates, ...view.large, ...view.queued]);
    if (wanted.size <= MAX_LOOKUPS) {
      // Few candidates: find each one's path from its parent pointers instead of walking every folder.
      const found = await runner.read(async (sc) => {
        const paths = new Paths(sc);
        const out: { path: string; ino: number }[] = [];
        for (const ino of wanted) {
          const p = await paths.of(ino);
          if (p !== undefined && p !== op.path && isWithin(p, op.path)) out.push({ path: p, ino });
        }
        return out;
      });
      found.sort((a, b) => (walkKey(a.path) < walkKey(b.path) ? -1 : 1));
      const out: Target[] = [];
      for (const f of found) {
        if (!nameOk(f.path)) continue;
        const t = target(f.path, shownBelow(op, f.path), f.ino, false);
        if (t) out.push(t);
      }
      yield out;
      return;
    }
  }
  for await (const files of walkFiles(runner, op, live)) {
    const out: Target[] = [];
    for (const f of files) {
      if (!nameOk(f.path)) continue;
      const t = target(f.path, shownBelow(op, f.path), f.ino, false);
      if (t) out.push(t);
    }
    if (out.length > 0) yield out;
  }
}

interface Item {
  t: Target;
  node: Inode;
  hash: string;
  buf?: Buffer;
  /** Set when a helper searched the file: its outcome directly. */
  outcome?: Outcome | 'gone' | 'too large';
}

/** What a helper answers for one file of a batch. */
export type HelperResult = [ino: number, hash: string, outcome: Outcome | 'gone' | 'too large'];

/** A second thread that reads and searches batches of files from its own connection to the store. */
interface Helper {
  run(spec: SearchSpec, maxFile: number, files: { ino: number; known: boolean; path: string }[]): Promise<HelperResult[]>;
  /** Batches it can hold at once (two per thread: one in work, one queued). */
  capacity: number;
  busy(): number;
  close(): Promise<void>;
}

/** The helper of one grep: there once started (undefined until then, or if it cannot be). */
interface HelperSlot {
  get(): Helper | undefined;
  /** Being started: its message of readiness comes through the event loop. */
  starting(): boolean;
}

/** Read, search and report a stream of files: a batch per read transaction, files of the same content searched once. */
async function* searchTargets(
  runner: Runner,
  s: Search,
  targets: AsyncGenerator<Target[]>,
  maxFile: number,
  cache: Map<string, Outcome | 'gone'>,
  stats: { searched: number; helped: number },
  helper: HelperSlot | undefined,
  spec: SearchSpec,
): AsyncGenerator<GrepEvent> {
  // Items waiting for their outcome, in order.
  const waiting: Item[] = [];
  const fresh = new Map<string, Outcome | 'gone'>();
  const ZERO: Outcome = { count: 0, lines: [] };
  const PENDING = '\0pending'; // no content id looks like this
  // Helper batches in flight (a second one queued keeps it busy while this thread answers).
  let pending = 0;
  let settled: Promise<void> = Promise.resolve();
  let failure: unknown;

  const keep = (hash: string, r: Outcome | 'gone'): void => {
    // Small results are kept for files of the same content later on; big ones only until shown.
    if (typeof r === 'string' || r.lines.length <= 1000) cache.set(hash, r);
    else fresh.set(hash, r);
  };

  function* drain(): Generator<GrepEvent> {
    while (waiting.length > 0) {
      const it = waiting[0];
      let r: Outcome | 'gone' | 'too large' | undefined;
      if (it.t.zero) r = ZERO;
      else if (it.outcome !== undefined) r = it.outcome;
      else if (it.hash === PENDING) return; // with the helper still
      else if (it.node.size > maxFile) r = 'too large';
      else {
        r = cache.get(it.hash) ?? fresh.get(it.hash);
        if (r === undefined) return;
      }
      waiting.shift();
      const t = it.t;
      if (r === 'gone') continue; // gone since it was listed, or its content collected since
      if (r === 'too large' || r === 'binary') yield { type: 'skipped', path: t.path, shown: t.shown, reason: r, explicit: t.explicit };
      else {
        if (!t.zero) stats.searched++;
        const show = s.output === 'files-without-match' ? r.count === 0 : s.output === 'count' ? true : r.count > 0;
        if (show) yield { type: 'file', file: { path: t.path, shown: t.shown, count: r.count, lines: r.lines } };
      }
    }
    fresh.clear();
  }

  /** A batch to the helper, whole: it reads the inodes and contents itself. */
  const toHelper = (h: Helper, list: Target[]): void => {
    const items: Item[] = [];
    const files: { ino: number; known: boolean; path: string }[] = [];
    for (const t of list) {
      const it: Item = { t, node: { size: 0 } as Inode, hash: PENDING };
      waiting.push(it);
      if (!t.zero) {
        items.push(it);
        files.push({ ino: t.ino, known: t.known, path: t.path });
      }
    }
    pending++;
    const done = h.run(spec, maxFile, files).then(
      (results) => {
        results.forEach(([, hash, r], i) => {
          items[i].outcome = r;
          if (r !== 'too large') keep(hash, r);
          if (typeof r !== 'string' || r === 'binary') stats.helped++;
        });
        pending--;
      },
      (e) => {
        failure ??= e;
        pending--;
      },
    );
    settled = settled.then(() => done);
  };

  const handle = async (list: Target[]): Promise<void> => {
    // A free helper takes this batch; else it is read and searched here.
    const hp = helper?.get();
    const h = hp && hp.busy() < hp.capacity ? hp : undefined;
    if (h) return toHelper(h, list);
    const chunkSize = runner.settings.chunkSize;
    const items = await runner.read(async (sc) => {
      const out: Item[] = [];
      let bytes = 0;
      for (const t of list) {
        if (t.zero) {
          out.push({ t, node: { size: 0 } as Inode, hash: 'zero' });
          continue;
        }
        const node = await sc.inode(t.ino);
        if (!node || node.type !== 'file') continue; // gone since it was listed
        const it: Item = { t, node, hash: node.hash ?? '' };
        if (node.size <= maxFile && !cache.has(it.hash) && bytes + node.size <= BATCH_BYTES) {
          it.buf = await readBlob(sc.tx, it.hash, node.size, chunkSize);
          bytes += node.size;
        }
        out.push(it);
      }
      return out;
    });
    let contents = new Map<string, { buf: Buffer; known: boolean; path: string }>();
    let bytes = 0;
    const flush = async (): Promise<void> => {
      if (contents.size === 0) return;
      const c = contents;
      contents = new Map();
      bytes = 0;
      for (const [hash, r] of await searchContents(s, c)) keep(hash, r);
    };
    for (const it of items) {
      waiting.push(it);
      const hash = it.hash;
      if (it.t.zero || it.node.size > maxFile || cache.has(hash) || contents.has(hash)) continue;
      if (bytes > 0 && bytes + it.node.size > BATCH_BYTES) await flush();
      // Over the batch's budget: read on its own.
      const buf = it.buf ?? (await runner.read((sc) => readBlob(sc.tx, hash, it.node.size, chunkSize)));
      it.buf = undefined;
      if (buf === undefined) cache.set(hash, 'gone');
      else {
        contents.set(hash, { buf, known: it.t.known, path: it.t.path });
        bytes += it.node.size;
      }
    }
    await flush();
  };

  let batch: Target[] = [];
  for await (const list of targets) {
    for (const t of list) {
      batch.push(t);
      if (batch.length < BATCH_FILES) continue;
      await handle(batch);
      batch = [];
      // Store calls resolve at once, so nothing here waits on the event loop: let it take the
      // helper's answer (or its readiness), if there is one, before the next batch.
      if (pending > 0 || helper?.starting()) await new Promise((r) => setImmediate(r));
      if (failure) throw failure;
      yield* drain();
    }
  }
  await handle(batch);
  await settled;
  if (failure) throw failure;
  yield* drain();
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
