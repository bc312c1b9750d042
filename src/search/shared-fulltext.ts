// The full-text index of engines that have none of their own (LMDB, memory): the same BM25
// index the agent memory uses (src/text/index.ts), with FTS5's idf so it ranks as SQLite does,
// kept in the store's own collections (so on disk wherever the store is) and fed by catch-up.
//
//   search_terms     term -> document frequency; 0x00 'stats' -> corpus stats
//   search_postings  term 0x00 first ino -> a block of postings
//   search_docs      ino -> {"h": content id, "s": size} of the text indexed for it
//
// To take a file's old words out, the index needs the old text: it reads it back by the content
// id it recorded (content is immutable, and gc keeps whatever search_docs names).
import type { ReadTx, WriteTx } from '../storage/contract.js';
import { scan } from '../storage/contract.js';
import { readContent } from '../content/chunks.js';
import { decodeJson, encodeJson, inodeKey, readU64 } from '../core/records.js';
import { textOf, type IndexDoc } from '../core/indexing.js';
import { TextIndex } from '../text/index.js';
import type { ContentIndex } from './content-index.js';

export const sharedText = new TextIndex({ terms: 'search_terms', postings: 'search_postings', idf: 'fts5' });

interface DocRecord {
  h: string;
  s: number;
}

/** Content ids the shared index holds text of (gc keeps them). */
export async function* indexedHashes(tx: ReadTx): AsyncGenerator<string> {
  for await (const e of scan(tx, 'search_docs')) yield decodeJson<DocRecord>(e.value).h;
}

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
      const raw = await tx.get('search_docs', key);
      const old = raw === undefined ? undefined : decodeJson<DocRecord>(raw);
      if (old !== undefined && doc !== undefined && old.h === doc.hash && old.s === doc.size) continue;
      if (old !== undefined) {
        await this.removeOld(tx, ino, old);
        await tx.del('search_docs', key);
      }
      if (doc !== undefined) {
        adds.push({ id: ino, text: doc.text });
        await tx.put('search_docs', key, encodeJson({ h: doc.hash, s: doc.size }));
      }
    }
    await sharedText.addMany(tx, adds);
  }

  private async removeOld(tx: WriteTx, ino: number, old: DocRecord): Promise<void> {
    const text = old.s === 0 ? '' : textOf(await readContent(tx, { hash: old.h, size: old.s }, this.chunkSize));
    // The record only ever names text it indexed; undecodable now would mean damage.
    await sharedText.remove(tx, ino, text ?? '');
  }

  async clear(tx: WriteTx): Promise<void> {
    await sharedText.clear(tx);
    for (;;) {
      const page = await tx.range('search_docs', { limit: 1000 });
      if (page.length === 0) break;
      for (const e of page) await tx.del('search_docs', e.key);
    }
  }
}

export const inoOfDocKey = (key: Buffer): number => readU64(key);
