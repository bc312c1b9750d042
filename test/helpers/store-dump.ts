// A vault store's content as one hash, to tell whether a refused command changed anything.
// Read in-process (no CLI spawn per look), so the bad-input tables stay cheap to run.
import { createHash } from 'node:crypto';
import { COLLECTION_NAMES, scan, type Collection } from '../../src/storage/contract.js';
import { openStore } from '../../src/vault/store.js';

// Derived data a read may bring up to date (the lazy search indexes catch up on `search` and
// `grep`, which exit 1 when nothing matched): not the vault's content.
const DERIVED = new Set(['search_queue', 'search_terms', 'search_postings', 'search_docs', 'grep_trigrams', 'grep_docs']);
const COUNTERS = new Set(['seq', 'search']);

/**
 * The vault's content, hashed (every collection but the derived indexes; the operation log
 * without the records of refused operations, which the audit keeps on purpose, and without
 * the sequence counter they advance), and how many operations succeeded. `only` narrows it to
 * some collections.
 */
export async function dumpStore(path: string, only?: readonly Collection[]): Promise<{ state: string; done: number }> {
  const { engine } = await openStore(path, undefined);
  try {
    return await engine.read(async (tx) => {
      const h = createHash('sha256');
      let done = 0;
      for (const c of only ?? COLLECTION_NAMES) {
        if (DERIVED.has(c)) continue;
        h.update(`\0${c}\0`);
        for await (const e of scan(tx, c)) {
          if (c === 'meta' && COUNTERS.has(Buffer.from(e.key).toString())) continue;
          if (c === 'oplog') {
            if ((JSON.parse(Buffer.from(e.value).toString()) as { outcome?: string }).outcome !== undefined) continue;
            done++;
          }
          h.update(String(e.key.length) + ':');
          h.update(e.key);
          h.update(String(e.value.length) + ':');
          h.update(e.value);
        }
      }
      return { state: h.digest('hex'), done };
    });
  } finally {
    await engine.close();
  }
}
