// Which files of an operand grep reads, in walk order (names bytewise, a folder's contents
// right after it), and what the trigram index says about them: with the index, the candidates
// it allows (plus the files it cannot vouch for) are located through their parent pointers
// when they are few; otherwise the folders are walked (the whole vault's entries read in a few
// big scans when the operand is the root).
import type { ReadScope } from '../core/scope.js';
import { isWithin } from '../core/paths.js';
import { ROOT_INO, parseDirent, readU64 } from '../core/records.js';
import { InodePaths } from '../core/parents.js';
import { scan } from '../storage/contract.js';
import { trigramIndex } from '../search/trigram.js';
import type { TrigramQuery } from '../search/trigram-query.js';
import type { Runner } from './fileops.js';
import { shownBelow, type Operand } from './grep-operands.js';

/** Above this many index candidates, walking the folders beats looking up each file's path. */
const MAX_LOOKUPS = 3000;
/** A walk of the whole vault reads all folder entries at once, up to this many. */
const WHOLE_SCAN_MAX = 500_000;

export interface Target {
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
export interface IndexView {
  candidates: Set<number> | undefined;
  binary: Set<number>;
  large: Set<number>;
  queued: Set<number>;
}

/** What the index says for `query` (one snapshot), or undefined when it cannot be trusted yet. */
export function readIndexView(runner: Runner, query: TrigramQuery): Promise<IndexView | undefined> {
  return runner.read(async (sc) => {
    if (!(await trigramIndex.ready(sc.tx))) return undefined;
    const cands = await trigramIndex.candidates(sc.tx, query);
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

/** Path order as a walk gives it: names in order, a folder's contents right after it. */
const walkKey = (p: string): string => p.replaceAll('/', '\u0000');


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
 * The files of one operand to report on, in walk order. `every`: every text file is reported
 * (-c, -L), those the index rules out with a count of 0 and unread.
 */
export async function* targetsOf(
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
        const paths = new InodePaths(sc.tx);
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
