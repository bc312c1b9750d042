// The full-text index of engines that have none of their own (LMDB, memory): the same BM25
// index the agent memory uses (src/text/index.ts), with FTS5's idf so it ranks as SQLite does,
// kept in the store's own collections (so on disk wherever the store is) and fed by catch-up.
//
//   search_terms     term -> document frequency; 0x00 'stats' -> corpus stats
//   search_postings  term 0x00 first ino -> a block of postings
//   search_docs      ino -> the content id and size of the text indexed for it (DocRecord in
//                    src/core/indexing.ts: how a file's old words are found to take them out)
import type { ReadTx, WriteTx } from '../storage/contract.js';
import { clearCollection } from '../storage/contract.js';
import { encodeJson, inodeKey } from '../core/records.js';
import { holds, readDocRecord, recordedText, type DocRecord, type IndexDoc } from '../core/indexing.js';
import { TextIndex } from '../text/index.js';
import type { ContentIndex } from './content-index.js';

export const sharedText = new TextIndex({ terms: 'search_terms', postings: 'search_postings', idf: 'fts5' });

export async function sharedDocCount(tx: ReadTx): Promise<number> {
  return (await sharedText.stats(tx)).docs;
}

export class SharedFullText implements ContentIndex {
  readonly name = 'fulltext';
  constructor(private chunkSize: number) {}

  async update(tx: WriteTx, ino: number, doc: IndexDoc | undefined): Promise<void> {
    await this.updateMany(tx, [{ ino, doc }]);
  }

  /** Many files in one go: old texts out one by one, new texts in with one pass per word. */
  async updateMany(tx: WriteTx, items: { ino: number; doc: IndexDoc | undefined }[]): Promise<void> {
    const adds: { id: number; text: string }[] = [];
    for (const { ino, doc } of items) {
      const key = inodeKey(ino);
      const old = await readDocRecord(tx, ino);
      if (holds(old, doc)) continue;
      if (old !== undefined) {
        await sharedText.remove(tx, ino, await recordedText(tx, old, this.chunkSize));
        await tx.del('search_docs', key);
      }
      if (doc !== undefined) {
        adds.push({ id: ino, text: doc.text });
        await tx.put('search_docs', key, encodeJson({ h: doc.hash, s: doc.size } satisfies DocRecord));
      }
    }
    await sharedText.addMany(tx, adds);
  }

  async clear(tx: WriteTx): Promise<void> {
    await sharedText.clear(tx);
    await clearCollection(tx, 'search_docs');
  }
}

