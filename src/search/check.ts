// What `vault check` verifies of the search indexes (read in the check's snapshot): every file
// the full-text index holds is a current file with that content, unless a change to it is still
// queued for catch-up; the index's document count agrees with its records; and every entry's
// parent pointer leads back to it. A vault whose indexes were never built has nothing to check.
import type { ReadTx } from '../storage/contract.js';
import { scan } from '../storage/contract.js';
import { decodeJson, inodeKey, parseDirent, readU64, type Inode } from '../core/records.js';
import type { DocRecord } from '../core/indexing.js';
import { readSearchState } from './indexer.js';
import { sharedDocCount } from './shared-fulltext.js';

const FIX = '(avfs search --rebuild rebuilds it)';

export async function checkSearch(tx: ReadTx, inodes: Map<number, Inode>): Promise<string[]> {
  const state = await readSearchState(tx);
  if (!state) return [];
  const out: string[] = [];
  const queued = new Set<number>();
  for await (const e of scan(tx, 'search_queue')) queued.add(readU64(e.key, 8));
  let docs = 0;
  for await (const e of scan(tx, 'search_docs')) {
    docs++;
    const ino = readU64(e.key);
    const rec = decodeJson<DocRecord>(e.value);
    const node = inodes.get(ino);
    const current = node?.type === 'file' && node.hash === rec.h && node.size === rec.s;
    if (!current && !(queued.has(ino) && (!tx.fullText || state.deferred || state.rebuild))) out.push(`search index: holds inode ${ino}, which is ${node ? 'no longer that content' : 'gone'} ${FIX}`);
  }
  const indexed = tx.fullText ? await tx.fullText.count() : await sharedDocCount(tx);
  if (indexed !== docs) out.push(`search index: ${indexed} documents indexed but ${docs} recorded ${FIX}`);
  for await (const e of scan(tx, 'dirents')) {
    const { ino } = parseDirent(e.value);
    const raw = await tx.get('parents', inodeKey(ino));
    if (raw === undefined || !raw.equals(e.key)) out.push(`search index: inode ${ino} has no parent pointer back to its entry ${FIX}`);
  }
  return out;
}
