// Write-behind for the mount: many operations, one transaction. A program such as tar makes
// several requests per file (create, write, chmod, utimens, close), each waiting for the last;
// a commit per request would make the commit, not the work, what a mount's speed is. Here the
// first change opens a write transaction and the requests that follow run inside it, each
// answered as soon as it has run; the transaction commits once no request came for IDLE_MS,
// or when it has been open MAX_MS, or when flush() asks (fsync, unmount). That is a host
// filesystem's promise too: a change is visible at once through the mount, reaches other
// processes within MAX_MS, and is durable after fsync.
//
// While a batch is open, reads run inside it as well (they must see its changes), in order
// with the writes. A request that fails inside a batch and left something behind (an operation
// begun, a row written: `WriteScope.mutations` and the writes counted on the tx) would take
// its half-change into the commit, so the batch is rolled back and the requests that had
// succeeded are run again in a new transaction. Should a commit itself fail (disk full, a
// quota), each request is retried in a transaction of its own, so only the one at fault is
// lost; it is logged, and the next flush() reports the error, as a host filesystem reports a
// failed write-back at fsync.
import { isVfsError, vfsError } from '../errors.js';
import type { Engine, WriteTx } from '../storage/contract.js';
import { ReadScope, WriteScope, withRead, withWrite, type VaultSettings } from '../core/scope.js';
import type { Intent, Runner } from './fileops.js';

export const IDLE_MS = 2;
export const MAX_MS = 100;

interface Job {
  kind: 'read' | 'write';
  fn: (s: WriteScope) => Promise<unknown>;
  intent?: Intent;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/** Rolls a batch back so that its good requests can run again without a failed one's leftovers. */
class Replay extends Error {}

/** A WriteTx that counts its puts and deletes. */
function counted(tx: WriteTx): { tx: WriteTx; writes: () => number } {
  let n = 0;
  const wrapped = Object.create(tx) as WriteTx;
  wrapped.put = (c, k, v) => (n++, tx.put(c, k, v));
  wrapped.del = (c, k) => (n++, tx.del(c, k));
  return { tx: wrapped, writes: () => n };
}

export class BatchRunner implements Runner {
  private queue: Job[] = [];
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private flushWanted = false;
  private failure: Error | undefined;

  readonly settings: VaultSettings;

  constructor(
    private readonly engine: Engine,
    settings: VaultSettings,
    private readonly log: (line: string) => void,
  ) {
    // Files land faster than they can be tokenized: full-text indexing waits for the next search.
    this.settings = { ...settings, deferFullText: true };
  }

  read<T>(fn: (s: ReadScope) => Promise<T>): Promise<T> {
    // No batch open: a read transaction of its own (it sees everything committed).
    if (!this.running) return withRead(this.engine, this.settings, fn);
    return this.enqueue('read', fn as (s: WriteScope) => Promise<T>);
  }

  write<T>(fn: (s: WriteScope) => Promise<T>, intent?: Intent): Promise<T> {
    return this.enqueue('write', fn, intent);
  }

  /** Commit the open batch (if any) and report a write-back failure since the last flush. */
  async flush(): Promise<void> {
    while (this.running) {
      this.flushWanted = true;
      this.wake?.();
      await this.running;
    }
    const f = this.failure;
    this.failure = undefined;
    if (f) throw isVfsError(f) ? f : vfsError('EIO', undefined, f.message);
  }

  private enqueue<T>(kind: Job['kind'], fn: (s: WriteScope) => Promise<T>, intent?: Intent): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ kind, fn, intent, resolve: resolve as (v: unknown) => void, reject });
      if (this.wake) this.wake();
      else if (!this.running) this.start();
    });
  }

  private start(): void {
    this.running = this.batch().finally(() => {
      this.running = undefined;
      this.flushWanted = false;
      if (this.queue.length > 0) this.start();
    });
  }

  /** The next request, or undefined when the batch should commit now. */
  private async next(opened: number): Promise<Job | undefined> {
    for (;;) {
      const job = this.queue.shift();
      if (job) return job;
      const left = MAX_MS - (Date.now() - opened);
      if (this.flushWanted || left <= 0) return undefined;
      const arrived = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), Math.min(IDLE_MS, left));
        this.wake = () => {
          clearTimeout(t);
          resolve(true);
        };
      });
      this.wake = undefined;
      if (!arrived && this.queue.length === 0) return undefined;
    }
  }

  /** One transaction: run requests until idle, full or flushed, then commit. */
  private async batch(): Promise<void> {
    const done: Job[] = []; // write requests answered in this batch, in order
    for (;;) {
      try {
        await this.engine.write(async (raw) => {
          const { tx, writes } = counted(raw);
          const scope = new WriteScope(tx, this.settings);
          // After a rollback: the requests already answered run again, their answers kept.
          for (const job of done) await job.fn(scope);
          const opened = Date.now();
          for (let job = await this.next(opened); job; job = await this.next(opened)) {
            const before = { m: scope.mutations, w: writes() };
            try {
              const value = await job.fn(scope);
              if (job.kind === 'write') done.push(job);
              job.resolve(value);
            } catch (e) {
              const dirty = scope.mutations !== before.m || writes() !== before.w;
              if (dirty) {
                job.reject(e);
                throw new Replay();
              }
              // Refused without a trace: log the refusal in this batch, as every interface does.
              if (job.intent && isVfsError(e)) {
                await scope.refused(job.intent.op, job.intent.paths, e.code);
                if (job.intent.info) scope.note(job.intent.info);
              }
              job.reject(e);
            }
          }
          await scope.flush();
        });
        return;
      } catch (e) {
        if (e instanceof Replay) continue;
        await this.oneByOne(done, e);
        return;
      }
    }
  }

  /** The batch could not commit: each answered request again in a transaction of its own. */
  private async oneByOne(jobs: Job[], cause: unknown): Promise<void> {
    this.log(`a batch of ${jobs.length} changes could not commit (${(cause as Error)?.message ?? cause}); retrying them one by one`);
    for (const job of jobs) {
      try {
        await withWrite(this.engine, this.settings, (s) => job.fn(s));
      } catch (e) {
        const what = job.intent ? `${job.intent.op} ${job.intent.paths.join(' ')}` : 'a change';
        this.log(`lost ${what}: ${(e as Error)?.message ?? e}`);
        this.failure ??= e instanceof Error ? e : new Error(String(e));
      }
    }
  }
}
