// Running a compiled grep pattern (pattern.ts) over text, so that no pattern can hang the process.
//
// V8's backtracking engine can take exponential time ((a+)+$ on a long line of a's), and a
// running match cannot be interrupted. Two defences:
//   - V8 has a linear-time engine. With --enable-experimental-regexp-engine-on-excessive-backtracks
//     (set at load, process-wide), a match that backtracks more than 50,000 times is finished by
//     it. It takes most patterns (not back-references, not lookarounds, not flag 'i': pattern.ts
//     spells case out in classes instead). Such patterns run right here, in the calling thread,
//     with no copying; text goes in slices of at most SLICE characters, and a slice that still
//     takes longer than the time limit stops the search with a clear error.
//   - Anything else runs in a worker thread: the text goes over in batches, each must be answered
//     within the time limit, and a worker that does not answer is terminated.
// Results are line ranges: [start, end) offsets of each line with a match, start after a
// newline (or 0), end at the next newline (or the end of the text).
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { vfsError } from '../errors.js';
import type { CompiledPattern } from './pattern.js';

let flagsSet = false;
function linearFallback(): void {
  if (flagsSet) return;
  flagsSet = true;
  // Process-wide, and harmless to other regexes: they only ever get the linear engine after
  // backtracking pathologically, and flag 'l' becomes available.
  setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
  setFlagsFromString('--enable-experimental-regexp-engine');
}

/** Characters per slice searched in one go (whole lines; a longer line goes whole). */
export const SLICE = 256 * 1024;

/**
 * Find the lines of `text` with a match of `re` (flags 'gm'), appending [start, end) pairs to
 * `out`, at most `max` lines. `exact` (the pattern without 'm') re-checks a line holding \r,
 * \u2028 or \u2029, beside which 'm' lets ^ and $ match too. `perLine`: match line by line
 * with `exact` only. Self-contained: the worker runs this same function's source.
 */
export function scanText(re: RegExp, exact: RegExp | null, perLine: boolean, text: string, max: number, out: number[]): void {
  const n = text.length;
  let pos = 0;
  const limit = max * 2;
  if (perLine) {
    const one = exact as RegExp;
    while (pos < n && out.length < limit) {
      let le = text.indexOf('\n', pos);
      if (le < 0) le = n;
      one.lastIndex = 0;
      if (one.test(text.slice(pos, le))) out.push(pos, le);
      pos = le + 1;
    }
    return;
  }
  while (out.length < limit && pos <= n) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (m === null) return;
    const at = m.index;
    // The empty "line" after a final newline is no line.
    if (at >= n && (n === 0 || text.charCodeAt(n - 1) === 10)) return;
    const ls = at === 0 ? 0 : text.lastIndexOf('\n', at - 1) + 1;
    let le = text.indexOf('\n', at);
    if (le < 0) le = n;
    let ok = true;
    if (exact !== null) {
      const line = text.slice(ls, le);
      if (/[\r\u2028\u2029]/.test(line)) {
        exact.lastIndex = 0;
        ok = exact.test(line);
      }
    }
    if (ok) out.push(ls, le);
    pos = le + 1;
  }
}

/** The lines of `buf` holding the bytes `needle` (no newline in it), as scanText reports them. */
export function scanBytes(buf: Buffer, needle: Buffer, max: number, out: number[]): void {
  const n = buf.length;
  const limit = max * 2;
  let pos = 0;
  while (out.length < limit && pos < n) {
    const at = buf.indexOf(needle, pos);
    if (at < 0) return;
    const ls = at === 0 ? 0 : buf.lastIndexOf(10, at - 1) + 1;
    let le = buf.indexOf(10, at);
    if (le < 0) le = n;
    out.push(ls, le);
    pos = le + 1;
  }
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const scanText = ${scanText.toString()};
const d = workerData;
const re = new RegExp(d.source, d.flags + 'gm');
const exact = d.anchored || d.perLine ? new RegExp(d.source, d.flags) : null;
parentPort.on('message', (batch) => {
  const results = [];
  for (const t of batch.texts) {
    const out = [];
    scanText(re, exact, d.perLine, t, batch.max, out);
    results.push(out);
  }
  parentPort.postMessage({ id: batch.id, results });
});
`;

export interface MatcherOptions {
  /** How long one slice (main thread) or one batch (worker) may take, in ms (default 1000). */
  timeoutMs?: number;
  /** Run in a worker even when the linear engine could take the pattern (tests). */
  forceWorker?: boolean;
}

function slowError(ms: number, where: string): Error {
  return vfsError(
    'EINVAL',
    undefined,
    `grep: the pattern took over ${ms} ms on ${where} and was stopped (catastrophic backtracking, as nested quantifiers like (a+)+ cause); simplify the pattern, or use fixed strings (-F)`,
  );
}

/** Can V8's linear-time engine run this (so a runaway match falls back to it)? */
function linearOk(source: string, flags: string): boolean {
  linearFallback();
  if (flags.includes('i')) return false;
  try {
    new RegExp(source, flags + 'l');
    return true;
  } catch {
    return false;
  }
}

/** A compiled pattern ready to search texts, on this thread or in a worker. */
export class Matcher {
  readonly inThread: boolean;
  private readonly re: RegExp;
  private readonly exact: RegExp | null;
  private readonly one: RegExp;
  private readonly timeoutMs: number;
  private worker: WorkerRunner | undefined;

  constructor(
    readonly pattern: CompiledPattern,
    opts: MatcherOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 1000;
    const { source, flags } = pattern;
    // A huge pattern makes even the linear engine slow per character: it goes to the worker.
    this.inThread = !opts.forceWorker && source.length <= 4000 && linearOk(source, flags + 'gm') && (!(pattern.anchored || pattern.perLine) || linearOk(source, flags));
    this.re = new RegExp(source, flags + 'gm');
    this.exact = pattern.anchored || pattern.perLine ? new RegExp(source, flags) : null;
    this.one = new RegExp(source, flags);
  }

  /** Does one line (no newline in it) match? On this thread: inThread only. */
  testLine(line: string): boolean {
    return this.one.test(line);
  }

  /** Throw the time-limit error if a piece of work that started at `t0` took too long. */
  check(t0: number, where: () => string): void {
    if (performance.now() - t0 > this.timeoutMs) throw slowError(this.timeoutMs, where());
  }

  /**
   * The matching lines of each text (pairs of offsets into it), at most `max` lines per text.
   * `where` names the texts in a time-limit error.
   */
  async scan(texts: string[], max: number, where: () => string): Promise<number[][]> {
    if (this.inThread) {
      const results: number[][] = [];
      for (const t of texts) results.push(this.scanHere(t, max, where));
      return results;
    }
    this.worker ??= new WorkerRunner(this.pattern, this.timeoutMs);
    return this.worker.run(texts, max, where);
  }

  /** scan() for one text, on this thread (inThread only). */
  scanHere(text: string, max: number, where: () => string): number[] {
    const out: number[] = [];
    if (text.length <= SLICE) {
      this.timed(text, max, out, 0, where);
      return out;
    }
    for (let start = 0; start < text.length && out.length < max * 2; ) {
      let end = Math.min(text.length, start + SLICE);
      if (end < text.length) {
        const nl = text.lastIndexOf('\n', end - 1);
        if (nl >= start) end = nl + 1;
        else {
          const next = text.indexOf('\n', end);
          end = next < 0 ? text.length : next + 1;
        }
      }
      this.timed(text.slice(start, end), max - out.length / 2, out, start, where);
      start = end;
    }
    return out;
  }

  private timed(text: string, max: number, out: number[], base: number, where: () => string): void {
    const t0 = performance.now();
    const from = out.length;
    scanText(this.re, this.exact, this.pattern.perLine, text, max, out);
    if (base !== 0) for (let i = from; i < out.length; i++) out[i] += base;
    const took = performance.now() - t0;
    if (took > this.timeoutMs) throw slowError(this.timeoutMs, where());
  }

  async close(): Promise<void> {
    await this.worker?.close();
  }
}

/** A worker that answers batches, each within `timeoutMs`, or is terminated. */
class WorkerRunner {
  private worker: Worker;
  private ready: Promise<void>;
  private nextId = 1;
  private dead: Error | undefined;

  constructor(
    p: CompiledPattern,
    private readonly timeoutMs: number,
  ) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { source: p.source, flags: p.flags, anchored: p.anchored, perLine: p.perLine },
      resourceLimits: { maxOldGenerationSizeMb: 512 },
    });
    // Always listened to: an 'error' nobody listens to would take the whole process down.
    this.worker.on('error', (e) => {
      this.dead ??= vfsError('EIO', undefined, `grep: the matcher failed: ${e.message.split('\n')[0]}`);
    });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('online', () => resolve());
      this.worker.once('error', () => reject(this.dead));
    });
    this.ready.catch(() => {});
    // A CLI run must be able to end while the worker idles between batches.
    this.worker.unref();
  }

  async run(texts: string[], max: number, where: () => string): Promise<number[][]> {
    if (this.dead) throw this.dead;
    const w = this.worker;
    w.ref();
    try {
      await this.ready;
      const id = this.nextId++;
      return await new Promise<number[][]>((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          w.off('message', onMessage);
          w.off('error', onError);
        };
        const onMessage = (m: { id: number; results: number[][] }): void => {
          if (m.id !== id) return;
          done();
          resolve(m.results);
        };
        const onError = (e: Error): void => {
          done();
          reject(vfsError('EIO', undefined, `grep: the matcher failed: ${e.message.split('\n')[0]}`));
        };
        const timer = setTimeout(() => {
          done();
          this.dead = slowError(this.timeoutMs, where());
          void w.terminate();
          reject(this.dead);
        }, this.timeoutMs);
        w.on('message', onMessage);
        w.on('error', onError);
        w.postMessage({ id, texts, max });
      });
    } finally {
      w.unref();
    }
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
