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
