// A FIFO async lock. Engines hold it around each transaction so that, inside one process,
// transactions never interleave on a shared connection; across processes the engine's own
// lock (SQLite's, LMDB's) takes over.
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  async run<T>(fn: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const next = new Promise<void>((r) => (release = r));
    const prev = this.tail;
    this.tail = prev.then(() => next);
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/**
 * One lock per store path, shared by every engine in this process that opens that path: two
 * handles on one file must not both hold a write transaction across awaits, or the second
 * blocks the thread that the first needs to finish.
 */
export class LockRegistry<L> {
  private locks = new Map<string, { lock: L; users: number }>();
  constructor(private make: () => L) {}

  acquire(key: string): L {
    let e = this.locks.get(key);
    if (!e) this.locks.set(key, (e = { lock: this.make(), users: 0 }));
    e.users++;
    return e.lock;
  }
  release(key: string): void {
    const e = this.locks.get(key);
    if (e && --e.users <= 0) this.locks.delete(key);
  }
}
