// A logical copy of a database: compaction's fresh database, copyTo's fork, and the private
// copy a long read moves to when another process needs the store (handover.ts).
import { OPEN_OPTIONS, writeBatch, type RocksDb, type RocksDbClass } from './binding.js';
import { FORMAT_KEY, FORMAT_VALUE, isTextKey, toTextValue } from './keys.js';

const ENC = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;

/**
 * Copy every entry of `src` (one iterator: one consistent state) into a new database at `dest`.
 * The last batch is written with sync, which makes the whole copy durable. Returns the copy, open.
 * `upgrade`: `src` is format 1; the copy is format 2 (directory entry values as text, keys.ts).
 * Otherwise the copy keeps the source's format record with everything else.
 */
export async function copyDatabase(Rocks: RocksDbClass, src: RocksDb, dest: string, upgrade: boolean): Promise<RocksDb> {
  const out = new Rocks(dest);
  await out.open({ ...OPEN_OPTIONS, createIfMissing: true, errorIfExists: true });
  try {
    const it = src._iterator({ ...ENC });
    try {
      for (;;) {
        const { rows, finished } = it._nextvSync(1000, ENC);
        const last = finished || rows.length === 0;
        writeBatch(out, last, (batch) => {
          for (let i = 0; i < rows.length; i += 2) {
            const k = rows[i]!;
            const v = rows[i + 1] ?? Buffer.alloc(0);
            batch._put(k, upgrade && isTextKey(k) ? toTextValue(v) : v);
          }
          if (last && upgrade) batch._put(FORMAT_KEY, FORMAT_VALUE);
        });
        if (last) break;
      }
    } finally {
      it._closeSync();
    }
  } catch (e) {
    await out.close().catch(() => {});
    throw e;
  }
  return out;
}

