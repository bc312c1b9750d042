// Workload A, small files: write the tree, read every file back (and compare bytes), list
// every folder (names, then names with sizes), then list one flat folder holding as many files.
import type { SmallSet } from './data.js';
import type { Subject } from './subjects/subject.js';
import { collectGarbage, timed, timedMedian } from './timing.js';

export const SMALL_PHASES = ['write', 'read', 'ls', 'ls -l', 'flat ls', 'flat ls -l'] as const;
export type SmallPhase = (typeof SMALL_PHASES)[number];

/**
 * Listing is quick, so each listing phase is run this many times and the median kept. Not 5: a
 * process's first few listings run before V8 has optimised the code they go through (on sqlite
 * 23, 12, 7.5, 7.3, 7.3 ms for the same 100 folders, 15-18 ms for the first five on another
 * run), so the median of 5 measured the warm-up as often as the listing; the host's readdir is
 * native code and has none.
 */
export const LIST_REPS = 15;

export interface SmallResult {
  files: number;
  folders: number;
  bytesPerFile: number;
  seconds: Record<SmallPhase, number>;
  /** Files whose bytes read back differ from what was written (or that failed to read). */
  mismatches: number;
  /** Listings that did not show the expected names or sizes. */
  listProblems: string[];
}

const equalBytes = (a: Uint8Array, b: Buffer) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

export async function runSmall(s: Subject, set: SmallSet, log: (m: string) => void): Promise<SmallResult> {
  const seconds = {} as Record<SmallPhase, number>;
  const problems: string[] = [];
  const phase = async (name: SmallPhase, fn: () => Promise<number>) => {
    collectGarbage();
    seconds[name] = await fn();
    log(`${name} ${seconds[name].toFixed(3)}s`);
  };

  await phase('write', () => timed(() => s.writeFiles(set.tree)));

  const got: (Uint8Array | Error)[] = new Array(set.tree.length);
  await phase('read', () =>
    timed(async () => {
      for (let i = 0; i < set.tree.length; i++) {
        try {
          got[i] = await s.readFile(set.tree[i].path);
        } catch (e) {
          got[i] = e as Error;
        }
      }
    }),
  );
  let mismatches = 0;
  set.tree.forEach((f, i) => {
    const g = got[i];
    if (g instanceof Error || !equalBytes(g, f.data)) mismatches++;
  });
  got.length = 0;

  const perFolder = new Map<string, number>();
  for (const f of set.tree) {
    const d = f.path.slice(0, f.path.lastIndexOf('/'));
    perFolder.set(d, (perFolder.get(d) ?? 0) + 1);
  }
  const expectCount = (what: string, n: number, want: number) => {
    if (n !== want && problems.length < 10) problems.push(`${what}: ${n} entries, expected ${want}`);
  };
  const expectSizes = (what: string, sizes: number[]) => {
    const bad = sizes.filter((z) => z !== set.bytesPerFile).length;
    if (bad > 0 && problems.length < 10) problems.push(`${what}: ${bad} entries with a wrong size`);
  };

  await phase('ls', () =>
    timedMedian(LIST_REPS, async () => {
      for (const d of set.folders) expectCount(d, (await s.readdir(d)).length, perFolder.get(d) ?? 0);
    }),
  );
  await phase('ls -l', () =>
    timedMedian(LIST_REPS, async () => {
      for (const d of set.folders) {
        const entries = await s.list(d);
        expectCount(`${d} (with sizes)`, entries.length, perFolder.get(d) ?? 0);
        expectSizes(d, entries.map((e) => e.size));
      }
    }),
  );

  // The flat folder is set-up for the listing, so it is written the subject's fastest way, untimed.
  collectGarbage();
  await s.fill(set.flat);
  await phase('flat ls', () => timedMedian(LIST_REPS, async () => expectCount('/flat', (await s.readdir('/flat')).length, set.flat.length)));
  await phase('flat ls -l', () =>
    timedMedian(LIST_REPS, async () => {
      const entries = await s.list('/flat');
      expectCount('/flat (with sizes)', entries.length, set.flat.length);
      expectSizes('/flat', entries.map((e) => e.size));
    }),
  );

  return { files: set.tree.length, folders: set.folders.length, bytesPerFile: set.bytesPerFile, seconds, mismatches, listProblems: [...new Set(problems)] };
}
