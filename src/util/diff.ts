// Line diffs for `avfs diff`: Myers' O(ND) algorithm in its linear-space form (the "middle
// snake", divide and conquer), so memory stays O(N+M) however far apart the inputs are. Time is
// O((N+M)·D); a work budget caps it, and a part of the input that would exceed the budget is
// reported as one replaced block (still a correct diff, just not a minimal one), so a hostile
// or huge input can never hang the process.

/** A run of lines replaced: a[aStart, aEnd) became b[bStart, bEnd) (either may be empty). */
export interface Change {
  aStart: number;
  aEnd: number;
  bStart: number;
  bEnd: number;
}

/** One `@@` hunk. Starts are 0-based; `lines` are ' ', '-' or '+' followed by the line. */
export interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: string[];
}

export interface DiffOptions {
  /**
   * Steps of the search allowed in all (diagonal moves plus snake comparisons) before the rest
   * is reported as whole-block replacements. The default allows about 10^8 steps, well under
   * a second or two.
   */
  maxWork?: number;
}

const DEFAULT_MAX_WORK = 100_000_000;

/**
 * Split text into lines, each keeping its '\n', so that a last line without a newline differs
 * from the same line with one (as in diff(1)). '' has no lines.
 */
export function splitLines(text: string): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) {
      out.push(text.slice(pos));
      break;
    }
    out.push(text.slice(pos, nl + 1));
    pos = nl + 1;
  }
  return out;
}

/** The changes that turn `a` into `b`, in order; minimal unless the work budget ran out. */
export function diffLines(a: readonly string[], b: readonly string[], opts: DiffOptions = {}): Change[] {
  // Lines become small integers: the search compares numbers, not strings.
  const ids = new Map<string, number>();
  const intern = (lines: readonly string[]): Int32Array => {
    const out = new Int32Array(lines.length);
    for (let i = 0; i < lines.length; i++) {
      let id = ids.get(lines[i]);
      if (id === undefined) ids.set(lines[i], (id = ids.size));
      out[i] = id;
    }
    return out;
  };
  const A = intern(a);
  const B = intern(b);
  const search = new Search(A, B, opts.maxWork ?? DEFAULT_MAX_WORK);
  search.run(0, A.length, 0, B.length);
  return search.changes;
}

class Search {
  readonly changes: Change[] = [];
  private readonly vf: Int32Array;
  private readonly vr: Int32Array;
  private readonly off: number;
  private work = 0;

  constructor(
    private readonly A: Int32Array,
    private readonly B: Int32Array,
    private readonly maxWork: number,
  ) {
    // One pair of arrays for the whole run: each level's search is over before it recurses.
    const max = Math.ceil((A.length + B.length) / 2) + 2;
    this.off = max;
    this.vf = new Int32Array(2 * max + 1);
    this.vr = new Int32Array(2 * max + 1);
  }

  private emit(aStart: number, aEnd: number, bStart: number, bEnd: number): void {
    if (aStart === aEnd && bStart === bEnd) return;
    const last = this.changes[this.changes.length - 1];
    if (last && last.aEnd === aStart && last.bEnd === bStart) {
      last.aEnd = aEnd;
      last.bEnd = bEnd;
    } else {
      this.changes.push({ aStart, aEnd, bStart, bEnd });
    }
  }

  /** Diff A[aLo, aHi) against B[bLo, bHi). */
  run(aLo: number, aHi: number, bLo: number, bHi: number): void {
    const { A, B } = this;
    // Common prefix and suffix cost nothing and shrink the search.
    while (aLo < aHi && bLo < bHi && A[aLo] === B[bLo]) {
      aLo++;
      bLo++;
    }
    while (aLo < aHi && bLo < bHi && A[aHi - 1] === B[bHi - 1]) {
      aHi--;
      bHi--;
    }
    this.work += aHi - aLo + (bHi - bLo);
    if (aLo === aHi || bLo === bHi) {
      this.emit(aLo, aHi, bLo, bHi);
      return;
    }
    const split = this.work > this.maxWork ? undefined : this.middle(aLo, aHi, bLo, bHi);
    // (A split that leaves the whole problem on one side cannot happen; the check makes
    // termination independent of that argument.)
    if (!split || (split.x === aLo && split.y === bLo) || (split.x === aHi && split.y === bHi)) {
      this.emit(aLo, aHi, bLo, bHi);
      return;
    }
    this.run(aLo, split.x, bLo, split.y);
    this.run(split.x, aHi, split.y, bHi);
  }

  /**
   * A point (x, y) on an optimal path that splits the problem into two strictly smaller ones,
   * or undefined when the work budget ran out. Both inputs are non-empty and differ at both
   * ends (run() trimmed them).
   */
  private middle(aLo: number, aHi: number, bLo: number, bHi: number): { x: number; y: number } | undefined {
    const { A, B, vf, vr, off } = this;
    const N = aHi - aLo;
    const M = bHi - bLo;
    const delta = N - M;
    const odd = (delta & 1) !== 0;
    const maxD = Math.ceil((N + M) / 2);
    // vf[off + k]: the furthest x (from aLo) reached on diagonal k = x - y going forward;
    // vr[off + k]: the furthest distance from the end reached on reverse diagonal k, where a
    // point (x, y) counted from the end is (N - x, M - y) in forward terms, on diagonal delta - k.
    vf[off + 1] = 0;
    vr[off + 1] = 0;
    for (let d = 0; d <= maxD; d++) {
      this.work += 2 * d + 2;
      if (this.work > this.maxWork) return undefined;
      for (let k = -d; k <= d; k += 2) {
        let x = k === -d || (k !== d && vf[off + k - 1] < vf[off + k + 1]) ? vf[off + k + 1] : vf[off + k - 1] + 1;
        let y = x - k;
        const x0 = x;
        while (x < N && y < M && A[aLo + x] === B[bLo + y]) {
          x++;
          y++;
        }
        this.work += x - x0;
        vf[off + k] = x;
        // The reverse search has done d - 1 rounds: it covers reverse diagonals -(d-1)..d-1.
        const kr = delta - k;
        if (odd && kr >= -(d - 1) && kr <= d - 1 && x + vr[off + kr] >= N) return { x: aLo + x, y: bLo + y };
      }
      for (let k = -d; k <= d; k += 2) {
        let x = k === -d || (k !== d && vr[off + k - 1] < vr[off + k + 1]) ? vr[off + k + 1] : vr[off + k - 1] + 1;
        let y = x - k;
        const x0 = x;
        while (x < N && y < M && A[aHi - 1 - x] === B[bHi - 1 - y]) {
          x++;
          y++;
        }
        this.work += x - x0;
        vr[off + k] = x;
        const kf = delta - k;
        if (!odd && kf >= -d && kf <= d && x + vf[off + kf] >= N) return { x: aHi - x, y: bHi - y };
      }
    }
    // Unreachable: the searches meet by round ceil((N+M)/2).
    return undefined;
  }
}

/** Group changes into hunks with `context` unchanged lines around them (diff -u uses 3). */
export function toHunks(a: readonly string[], b: readonly string[], changes: readonly Change[], context = 3): Hunk[] {
  const hunks: Hunk[] = [];
  let i = 0;
  while (i < changes.length) {
    let j = i;
    // Changes closer than twice the context share a hunk (their contexts would touch).
    while (j + 1 < changes.length && changes[j + 1].aStart - changes[j].aEnd <= 2 * context) j++;
    const first = changes[i];
    const last = changes[j];
    const aStart = Math.max(0, first.aStart - context);
    const bStart = first.bStart - (first.aStart - aStart);
    const aEnd = Math.min(a.length, last.aEnd + context);
    const bEnd = last.bEnd + (aEnd - last.aEnd);
    const lines: string[] = [];
    let pos = aStart;
    for (let k = i; k <= j; k++) {
      const c = changes[k];
      for (; pos < c.aStart; pos++) lines.push(' ' + a[pos]);
      for (let x = c.aStart; x < c.aEnd; x++) lines.push('-' + a[x]);
      for (let y = c.bStart; y < c.bEnd; y++) lines.push('+' + b[y]);
      pos = c.aEnd;
    }
    for (; pos < aEnd; pos++) lines.push(' ' + a[pos]);
    hunks.push({ oldStart: aStart, oldLines: aEnd - aStart, newStart: bStart, newLines: bEnd - bStart, lines });
    i = j + 1;
  }
  return hunks;
}

/** `@@ -1,4 +1,5 @@` as diff -u writes it (an empty range names the line before it). */
export function hunkHeader(h: Hunk): string {
  const range = (start: number, n: number): string => (n === 0 ? `${start},0` : n === 1 ? `${start + 1}` : `${start + 1},${n}`);
  return `@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`;
}

export interface UnifiedOptions {
  context?: number;
  /** ANSI colours for removed (red) and added (green) lines. */
  color?: boolean;
  maxWork?: number;
}

const RED = '\x1b[31m';
const GREEN = '\x1b[32m';
const RESET = '\x1b[0m';

/** Hunks rendered as text (no ---/+++ header). */
export function formatHunks(hunks: readonly Hunk[], opts: { color?: boolean } = {}): string {
  const out: string[] = [];
  for (const h of hunks) {
    out.push(hunkHeader(h) + '\n');
    for (const line of h.lines) {
      const eol = line.endsWith('\n');
      const body = eol ? line.slice(0, -1) : line;
      const colour = opts.color && line[0] === '-' ? RED : opts.color && line[0] === '+' ? GREEN : '';
      out.push(colour ? `${colour}${body}${RESET}\n` : `${body}\n`);
      if (!eol) out.push('\\ No newline at end of file\n');
    }
  }
  return out.join('');
}

/**
 * A unified diff of two texts with `--- labelA` / `+++ labelB` headers, or '' when they are
 * equal.
 */
export function unifiedDiff(a: string, b: string, labelA: string, labelB: string, opts: UnifiedOptions = {}): string {
  if (a === b) return '';
  const al = splitLines(a);
  const bl = splitLines(b);
  const hunks = toHunks(al, bl, diffLines(al, bl, opts), opts.context ?? 3);
  return `--- ${labelA}\n+++ ${labelB}\n` + formatHunks(hunks, opts);
}

/** Apply hunks to `a` (checking every context and removed line); the inverse of toHunks. */
export function applyHunks(a: readonly string[], hunks: readonly Hunk[]): string[] {
  const out: string[] = [];
  let pos = 0;
  for (const h of hunks) {
    if (h.oldStart < pos || h.oldStart > a.length) throw new Error(`hunk at ${h.oldStart} out of order`);
    while (pos < h.oldStart) out.push(a[pos++]);
    for (const line of h.lines) {
      const body = line.slice(1);
      if (line[0] === '+') {
        out.push(body);
        continue;
      }
      if (a[pos] !== body) throw new Error(`hunk does not apply at line ${pos + 1}`);
      if (line[0] === ' ') out.push(body);
      pos++;
    }
  }
  while (pos < a.length) out.push(a[pos++]);
  return out;
}
