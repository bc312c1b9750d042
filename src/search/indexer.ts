// Keeping the lazy content indexes caught up (see content-index.ts for why they are lazy).
//
// A write leaves seq + ino in search_queue for each file whose content it changed. catchUp()
// takes the queue in order, in write transactions of a bounded size: for each file it reads the
// current inode and text (src/core/indexing.ts decides what is text) and hands it to every lazy
// index, deletes the queue rows it handled and moves meta 'search' `seq` on. A search or grep
// calls it before answering, so it never misses a write that returned. A process killed half
// way loses nothing: the rows it had not deleted are still queued, and an index's update is
// idempotent (it replaces whatever it held for the file).
//
// rebuild() starts over: clears every index (the engine's own one too), queues every file, sets
// `rebuild` and catches up; while `rebuild` is set catch-up also feeds the engine's own index,
// so a rebuild killed half way is finished by the next search. `deferred` (writes that left FTS5
// behind, core/indexing.ts) makes catch-up feed the engine's own index the same way.
import type { Engine, ReadTx, WriteTx } from '../storage/contract.js';
import { clearCollection, scan } from '../storage/contract.js';
import { isVfsError } from '../errors.js';
import { META_SEARCH, SEARCH_FORMAT, indexDoc, indexInline, queueKey, type IndexDoc, type SearchState } from '../core/indexing.js';
import { META_SEQ, ROOT_INO, decodeJson, direntKey, encodeJson, inodeKey, parseDirent, readU64, type Inode } from '../core/records.js';
import type { ContentIndex } from './content-index.js';
import { SharedFullText, sharedDocCount } from './shared-fulltext.js';
import { trigramIndex } from './trigram.js';

/** Files per catch-up transaction, and text per transaction (whichever comes first). */
const BATCH_FILES = 1000;
const BATCH_BYTES = 32 * 1024 * 1024;

export interface CatchUpResult {
  /** Files (re)indexed or dropped. */
  files: number;
  /** True when the store could not be written (opened read-only): the indexes may be behind. */
  behind: boolean;
}

interface BatchIndex extends ContentIndex {
  updateMany?(tx: WriteTx, items: { ino: number; doc: IndexDoc | undefined }[]): Promise<void>;
}

/** The indexes fed by catch-up on this engine. */
function lazyIndexes(engine: Engine, chunkSize: number): BatchIndex[] {
  const out: BatchIndex[] = [];
  if (!engine.supports.fullText) out.push(new SharedFullText(chunkSize));
  // grep's trigram index (src/search/trigram.ts).
  out.push(trigramIndex);
  return out;
}

export async function readSearchState(tx: ReadTx): Promise<SearchState | undefined> {
  const raw = await tx.get('meta', META_SEARCH);
  if (raw === undefined) return undefined;
  const st = decodeJson<SearchState>(raw);
  return st.format === SEARCH_FORMAT ? st : undefined;
}

async function currentSeq(tx: ReadTx): Promise<number> {
  const raw = await tx.get('meta', META_SEQ);
  return raw === undefined ? 0 : readU64(raw);
}

/** Bring every lazy index up to the last finished write (and rebuild them first if they never were built). */
export async function catchUp(engine: Engine, chunkSize: number): Promise<CatchUpResult> {
  const result: CatchUpResult = { files: 0, behind: false };
  const look = await engine.read(async (tx) => ({ state: await readSearchState(tx), queued: (await tx.range('search_queue', { limit: 1 })).length > 0 }));
  if (!look.state) return rebuild(engine, chunkSize);
  if (!look.queued) return result;
  const indexes = lazyIndexes(engine, chunkSize);
  try {
    for (;;) {
      const done = await engine.write(async (tx) => {
        const rows = await tx.range('search_queue', { limit: BATCH_FILES });
        const state = (await readSearchState(tx)) ?? { format: SEARCH_FORMAT, seq: 0 };
        const inos: number[] = [];
        const seen = new Set<number>();
        for (const r of rows) {
          const ino = readU64(r.key, 8);
          if (!seen.has(ino)) {
            seen.add(ino);
            inos.push(ino);
          }
        }
        // Read the texts for as many files as fit the byte budget (at least one).
        const items: { ino: number; doc: IndexDoc | undefined }[] = [];
        let bytes = 0;
        for (const ino of inos) {
          if (items.length > 0 && bytes >= BATCH_BYTES) break;
          const raw = await tx.get('inodes', inodeKey(ino));
          const doc = await indexDoc(tx, raw === undefined ? undefined : decodeJson<Inode>(raw), chunkSize);
          bytes += doc?.size ?? 0;
          items.push({ ino, doc });
        }
        for (const index of indexes) {
          if (index.updateMany) await index.updateMany(tx, items);
          else for (const { ino, doc } of items) await index.update(tx, ino, doc);
        }
        if ((state.rebuild || state.deferred) && tx.fullText) for (const { ino, doc } of items) await indexInline(tx, ino, doc, chunkSize);
        const handled = new Set(items.map((i) => i.ino));
        let seq = state.seq;
        for (const r of rows) {
          if (!handled.has(readU64(r.key, 8))) continue;
          await tx.del('search_queue', r.key);
          seq = Math.max(seq, readU64(r.key, 0));
        }
        const empty = (await tx.range('search_queue', { limit: 1 })).length === 0;
        const next: SearchState = { format: SEARCH_FORMAT, seq: empty ? await currentSeq(tx) : seq };
        if (state.rebuild && !empty) next.rebuild = true;
        if (state.deferred && !empty) next.deferred = true;
        await tx.put('meta', META_SEARCH, encodeJson(next));
        result.files += items.length;
        return empty;
      });
      if (done) return result;
    }
  } catch (e) {
    if (isVfsError(e, 'EROFS')) return { ...result, behind: true };
    throw e;
  }
}

/** Drop every search index and build them again from the current files. */
export async function rebuild(engine: Engine, chunkSize: number): Promise<CatchUpResult> {
  const indexes = lazyIndexes(engine, chunkSize);
  try {
    await engine.write(async (tx) => {
      await clearCollection(tx, 'search_queue');
      await clearCollection(tx, 'parents');
      if (tx.fullText) {
        await tx.fullText.clear();
        await clearCollection(tx, 'search_docs');
      }
      for (const index of indexes) await index.clear(tx);
      // Every file into the queue, and every entry's parent pointer again (a vault made before
      // they existed has none).
      const seq = await currentSeq(tx);
      const folders = [ROOT_INO];
      while (folders.length > 0) {
        const dir = folders.pop()!;
        for await (const e of scan(tx, 'dirents', { prefix: inodeKey(dir) })) {
          const child = parseDirent(e.value);
          await tx.put('parents', inodeKey(child.ino), direntKey(dir, e.key.subarray(8).toString()));
          if (child.type === 'directory') folders.push(child.ino);
          else if (child.type === 'file') await tx.put('search_queue', queueKey(seq, child.ino), Buffer.alloc(0));
        }
      }
      await tx.put('meta', META_SEARCH, encodeJson({ format: SEARCH_FORMAT, seq: 0, rebuild: true } satisfies SearchState));
    });
  } catch (e) {
    if (isVfsError(e, 'EROFS')) return { files: 0, behind: true };
    throw e;
  }
  return catchUp(engine, chunkSize);
}

export interface IndexStatus {
  /** 'fts5' (the engine's own) or 'shared' (src/search, kept in the store's collections). */
  fullText: 'fts5' | 'shared';
  /** Files the full-text index holds. */
  documents: number;
  /** The operation the lazy indexes have caught up to, and the vault's last operation. */
  indexedSeq: number;
  vaultSeq: number;
  /** Changed files waiting for the lazy indexes (the next search or grep takes them). */
  queued: number;
  /** False for a vault whose indexes were never built (the next search builds them). */
  built: boolean;
  rebuilding: boolean;
}

export async function indexStatus(engine: Engine): Promise<IndexStatus> {
  return engine.read(async (tx) => {
    const state = await readSearchState(tx);
    const fts = tx.fullText;
    return {
      fullText: engine.supports.fullText ? 'fts5' : 'shared',
      documents: fts ? await fts.count() : await sharedDocCount(tx),
      indexedSeq: state?.seq ?? 0,
      vaultSeq: await currentSeq(tx),
      queued: await tx.count('search_queue'),
      built: state !== undefined,
      rebuilding: state?.rebuild === true,
    };
  });
}
