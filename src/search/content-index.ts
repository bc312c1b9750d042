// An index derived from file content (the shared full-text index on engines without FTS5, the
// trigram index grep uses to skip files). Such indexes are not written by every file write:
// a write only queues the file's inode in `search_queue` (one small row in its own transaction),
// and catchUp() (src/search/indexer.ts) feeds each queued file to every content index before a
// search or grep answers. So a write stays cheap, and a search still never misses a finished write.

import type { WriteTx } from '../storage/contract.js';
import type { IndexDoc } from '../core/indexing.js';

/**
 * What catch-up hands an index for one file: `hash` is the file's content id (so an index can
 * skip a file it already holds), `text` its content, UTF-8 with no NUL byte, at most
 * INDEX_MAX_BYTES (src/core/indexing.ts decides what is indexed).
 */
export type { IndexDoc };

export interface ContentIndex {
  /** A short name for status output ("fulltext", "trigram"). */
  readonly name: string;
  /**
   * Make the index hold `doc` for file `ino`, replacing whatever it held for it. `undefined`:
   * the file is gone, or is binary / too large to index; the index must drop it.
   */
  update(tx: WriteTx, ino: number, doc: IndexDoc | undefined): Promise<void>;
  /** Drop everything (before a rebuild). */
  clear(tx: WriteTx): Promise<void>;
}
