// What a write does for the search indexes, inside its own transaction:
//   - every file whose content changed (or that appeared or went) gets a row in search_queue,
//     seq + ino; the lazy indexes (the shared full-text index of engines without FTS5, grep's
//     trigram index) take it from there before they next answer (src/search/indexer.ts);
//   - on an engine with its own full-text index (SQLite FTS5) the file is indexed right here,
//     so the index commits with the content.
// Also the rule for what is indexed at all: UTF-8 text with no NUL byte, up to INDEX_MAX_BYTES.
import type { ReadTx, WriteTx } from '../storage/contract.js';
import { readContent } from '../content/chunks.js';
import { ftsWords } from '../text/tokenize.js';
import { decodeJson, encodeJson, inodeKey, u64, type Inode } from './records.js';

/** Files larger than this are not indexed for search or grep's index (grep still reads them). */
export const INDEX_MAX_BYTES = 8 * 1024 * 1024;

export interface IndexDoc {
  /** The content id the text is of, and the content's size in bytes. */
  hash: string;
  size: number;
  text: string;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The bytes as text, or undefined when they are not text (a NUL byte, or not UTF-8). */
export function textOf(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** The document an index should hold for this inode: undefined for anything but an indexable text file. */
export async function indexDoc(tx: ReadTx, node: Inode | undefined, chunkSize: number): Promise<IndexDoc | undefined> {
  if (node?.type !== 'file' || node.size > INDEX_MAX_BYTES) return undefined;
  const hash = node.hash ?? '';
  if (node.size === 0) return { hash, size: 0, text: '' };
  const text = textOf(await readContent(tx, { hash, size: node.size }, chunkSize));
  return text === undefined ? undefined : { hash, size: node.size, text };
}

/**
 * meta 'search': the indexes' state. `seq`: the operation they have indexed up to (the queue
 * holds what came after); `rebuild`: a rebuild is under way (every queued file goes to the
 * engine's own index too). A vault without the row (made before search existed, or a fork
 * whose tree was rebuilt) has its indexes rebuilt before the first search.
 */
export const META_SEARCH = Buffer.from('search');
export const SEARCH_FORMAT = 1;
export interface SearchState {
  format: number;
  seq: number;
  rebuild?: boolean;
  /**
   * Writes left the engine's own index (FTS5) to catch-up, as the lazy indexes are (the mount's
   * batches do: tokenizing every file as it lands is most of what a bulk write costs). The
   * next search catches up first, feeding FTS5 too, and clears it.
   */
  deferred?: boolean;
}

export const queueKey = (seq: number, ino: number): Buffer => Buffer.concat([u64(seq), u64(ino)]);

/**
 * search_docs: ino -> {"h": content id, "s": size} of the text the full-text index (FTS5, or
 * the shared one) holds for the file. Taking a file's words out needs the words it went in
 * with: they are read back by this content id (content is immutable, and gc keeps what
 * search_docs names).
 */
export interface DocRecord {
  h: string;
  s: number;
}

export async function readDocRecord(tx: ReadTx, ino: number): Promise<DocRecord | undefined> {
  const raw = await tx.get('search_docs', inodeKey(ino));
  return raw === undefined ? undefined : decodeJson<DocRecord>(raw);
}

/** The text a doc record names (empty if it cannot be decoded any more: it always could when indexed). */
export async function recordedText(tx: ReadTx, rec: DocRecord, chunkSize: number): Promise<string> {
  if (rec.s === 0) return '';
  return textOf(await readContent(tx, { hash: rec.h, size: rec.s }, chunkSize)) ?? '';
}

/** True when the index already holds exactly this document. */
export const holds = (rec: DocRecord | undefined, doc: IndexDoc | undefined): boolean =>
  rec !== undefined && doc !== undefined && rec.h === doc.hash && rec.s === doc.size;

/** The engine's own index entry for one file (FTS5 on SQLite): its words, or nothing. */
export async function indexInline(tx: WriteTx, ino: number, doc: IndexDoc | undefined, chunkSize: number): Promise<void> {
  const fts = tx.fullText!;
  const rec = await readDocRecord(tx, ino);
  if (holds(rec, doc)) return;
  if (rec !== undefined) {
    await fts.del(ino, ftsWords(await recordedText(tx, rec, chunkSize)).words);
    await tx.del('search_docs', inodeKey(ino));
  }
  if (doc !== undefined) {
    await fts.put(ino, ftsWords(doc.text).words);
    await tx.put('search_docs', inodeKey(ino), encodeJson({ h: doc.hash, s: doc.size } satisfies DocRecord));
  }
}

/**
 * Called by the write scope when it ends, with each file inode it changed: before (null: new)
 * and after (null: gone). Only content changes matter; a rename or chmod changes no index.
 */
export async function contentChanged(
  tx: WriteTx,
  seq: number,
  changes: { ino: number; before: Inode | null; after: Inode | null }[],
  chunkSize: number,
  deferFullText = false,
): Promise<void> {
  let deferred = false;
  for (const { ino, before, after } of changes) {
    const wasFile = before?.type === 'file';
    const isFile = after?.type === 'file';
    if (!wasFile && !isFile) continue;
    if (wasFile && isFile && before!.hash === after!.hash && before!.size === after!.size) continue;
    await tx.put('search_queue', queueKey(seq, ino), Buffer.alloc(0));
    if (!tx.fullText) continue;
    if (deferFullText) deferred = true;
    else await indexInline(tx, ino, await indexDoc(tx, after ?? undefined, chunkSize), chunkSize);
  }
  if (deferred) {
    const raw = await tx.get('meta', META_SEARCH);
    const state = raw === undefined ? undefined : decodeJson<SearchState>(raw);
    // Not built yet: the first search builds everything anyway.
    if (state && state.format === SEARCH_FORMAT && !state.deferred) await tx.put('meta', META_SEARCH, encodeJson({ ...state, deferred: true }));
  }
}
