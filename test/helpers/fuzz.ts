// The fuzz job's settings and its time-limited runner. `npm test` runs every property a few
// dozen times; `npm run fuzz` (AVFS_FUZZ_RUNS, AVFS_FUZZ_SEED) runs them as long as asked.
// fast-check prints the seed, the path and the shrunk counterexample of a failure; give the
// seed and path back to replay it (docs/fuzz.md).
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type { Answer } from './fuzz-worker.js';

/**
 * Runs per property: `quick` (what `npm test` affords) unless AVFS_FUZZ_RUNS=N is set, which
 * gives the cheapest properties (quick = 400) N runs and the others (each input a process or
 * a vault) as many in proportion.
 */
export function runs(quick: number): number {
  const n = Number(process.env.AVFS_FUZZ_RUNS);
  return Number.isSafeInteger(n) && n > 0 ? Math.max(quick, Math.ceil((n * quick) / 400)) : quick;
}

/** How long one input may take before it counts as a hang. */
export const LIMIT_MS = Number(process.env.AVFS_FUZZ_LIMIT_MS) > 0 ? Number(process.env.AVFS_FUZZ_LIMIT_MS) : 2000;

/** fast-check's parameters: the run count, and a seed/path to replay when given. */
export function params<T>(quick: number): fc.Parameters<T> {
  const p: fc.Parameters<T> = { numRuns: runs(quick), verbose: 1 };
  const seed = Number(process.env.AVFS_FUZZ_SEED);
  if (process.env.AVFS_FUZZ_SEED !== undefined && Number.isInteger(seed)) p.seed = seed;
  if (process.env.AVFS_FUZZ_PATH) p.path = process.env.AVFS_FUZZ_PATH;
  return p;
}

const WORKER = fileURLToPath(new URL('./fuzz-worker.js', import.meta.url));

export class Hang extends Error {
  constructor(op: string, ms: number) {
    super(`${op} did not answer within ${ms} ms (a hang)`);
  }
}

/**
 * A worker thread that runs fuzz-worker.ts's operations one at a time, each within `limitMs`;
 * one that does not answer in time is terminated (a Hang is thrown) and the next call starts a
 * fresh worker. A worker that dies (a native crash in a module, an uncaught error) fails the call.
 */
export class Sandbox {
  private worker: Promise<Worker> | undefined;
  private next = 1;

  constructor(private readonly limitMs = LIMIT_MS) {}

  /** A worker that has loaded its modules (start-up is not the input's time). */
  private start(): Promise<Worker> {
    const w = new Worker(WORKER, { resourceLimits: { maxOldGenerationSizeMb: 512 } });
    return new Promise((resolve, reject) => {
      w.once('message', () => {
        w.off('error', reject);
        w.unref();
        resolve(w);
      });
      w.once('error', reject);
    });
  }

  async call(op: string, ...args: unknown[]): Promise<Answer> {
    const w = await (this.worker ??= this.start());
    const id = this.next++;
    w.ref();
    try {
      return await new Promise<Answer>((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          w.off('message', onMessage);
          w.off('error', onError);
          w.off('exit', onExit);
        };
        const onMessage = (m: { id: number; answer: Answer }): void => {
          if (m.id !== id) return;
          done();
          resolve(m.answer);
        };
        const onError = (e: Error): void => {
          done();
          this.worker = undefined;
          reject(new Error(`${op}: the worker failed: ${e.stack ?? e.message}`));
        };
        const onExit = (code: number): void => {
          done();
          this.worker = undefined;
          reject(new Error(`${op}: the worker exited (code ${code})`));
        };
        const timer = setTimeout(() => {
          done();
          this.worker = undefined;
          void w.terminate();
          reject(new Hang(op, this.limitMs));
        }, this.limitMs);
        w.on('message', onMessage);
        w.on('error', onError);
        w.on('exit', onExit);
        w.postMessage({ id, op, args });
      });
    } finally {
      w.unref();
    }
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await (await w)?.terminate();
  }
}

/** A clear error: a VfsError with a known code and a message on one line. */
export function isClearError(a: Answer, codes?: readonly string[]): boolean {
  if (a.ok) return false;
  const t = a.thrown;
  return t.vfs && typeof t.code === 'string' && !t.message.includes('\n') && (codes === undefined || codes.includes(t.code));
}

/** Text an agent could send: any UTF-16 (lone surrogates too), control characters, NUL. */
export const hostileString = (maxLength = 40): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength, unit: 'binary' }),
    fc.string({ maxLength, unit: fc.constantFrom('\0', '\n', '\r', '\t', '\ud800', '\udfff', '\u2028', 'é', '/', '.', '-', '=', '*', '"', '\\', ' ') }),
    fc.string({ maxLength }),
  );
