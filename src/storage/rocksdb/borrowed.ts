// Reading a rocksdb store from a helper thread of the process that holds it open: the binding
// lets a thread wrap another thread's open database by its native handle (a pointer, as a
// bigint). The holder keeps the database open while the handle is lent (engine.lend()), so a
// reader here never outlives it; it is never closed from here (that would close the holder's).
import type { ReadTx } from '../contract.js';
import { loadRocks, type RocksDb } from './binding.js';
import { readFormat } from './format.js';
import { TEXT_FORMAT } from './keys.js';
import { LiveSource, RocksReadTx } from './tx.js';

export async function borrowedReader(): Promise<{ use(handle: bigint): Promise<void>; read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> }> {
  const Rocks = (await loadRocks()) as unknown as new (handle: bigint) => RocksDb;
  let db: RocksDb | undefined;
  let current: bigint | undefined;
  let text = true;
  return {
    async use(handle) {
      if (handle === current && db) return;
      const d = new Rocks(handle);
      await d.open({}); // the database is open already: this only marks the wrapper open
      text = readFormat(d, 'rocksdb store') >= TEXT_FORMAT;
      db = d;
      current = handle;
    },
    async read(fn) {
      if (!db) throw new Error('rocksdb: no database handle lent to this thread');
      const tx = new RocksReadTx(new LiveSource(db), undefined, text);
      try {
        return await fn(tx);
      } finally {
        tx.finished = true;
      }
    },
  };
}

