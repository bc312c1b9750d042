// grep's second thread (see src/api/grep-pool.ts), one per open store: it opens the store itself
// (read-only) and answers batches of contents (id, size) with their outcomes, found by the same code as on the calling
// thread (filesearch.ts). Content is immutable under its id, so reading it from another
// connection is safe; one collected meanwhile is reported 'gone'.
import { parentPort, workerData } from 'node:worker_threads';
import { openEngine } from '../storage/engines.js';
import type { Engine, EngineKind } from '../storage/contract.js';
import { decodeJson, inodeKey, type Inode } from '../core/records.js';
import { makeSearch, readBlob, searchContents, type Outcome, type Search, type SearchSpec } from './filesearch.js';

interface Data {
  /** lent: the store is read through the handle each batch brings (rocksdb: one opener per process). */
  store: { kind: EngineKind; path: string; chunkSize: number; lent?: boolean };
}

interface Batch {
  id: number;
  spec: SearchSpec;
  maxFile: number;
  files: { ino: number; known: boolean; path: string }[];
  handle?: bigint;
}

const port = parentPort!;
const { store } = workerData as Data;
const borrowed = store.lent ? await (await import('../storage/rocksdb/borrowed.js')).borrowedReader() : undefined;
const engine: Pick<Engine, 'read'> = borrowed ?? (await openEngine(store.kind, { path: store.path, create: false, readOnly: true }));
// The searches of the last few greps, compiled once each.
const searches = new Map<string, Search>();
function searchFor(spec: SearchSpec): Search {
  const key = JSON.stringify(spec);
  let s = searches.get(key);
  if (!s) {
    if (searches.size >= 8) searches.delete(searches.keys().next().value!);
    s = makeSearch(spec);
    searches.set(key, s);
  }
  return s;
}
port.on('message', (b: Batch) => {
  void (async () => {
    try {
      if (b.handle !== undefined) await borrowed?.use(b.handle);
      const search = searchFor(b.spec);
      // One read: each file's inode, then its content (each content once).
      const contents = new Map<string, { buf: Buffer; known: boolean; path: string }>();
      const files: [number, string, Outcome | 'gone' | 'too large' | undefined][] = [];
      await engine.read(async (tx) => {
        for (const f of b.files) {
          const raw = await tx.get('inodes', inodeKey(f.ino));
          const node = raw === undefined ? undefined : decodeJson<Inode>(raw);
          if (node?.type !== 'file') {
            files.push([f.ino, '', 'gone']);
            continue;
          }
          const hash = node.hash ?? '';
          if (node.size > b.maxFile) {
            files.push([f.ino, hash, 'too large']);
            continue;
          }
          files.push([f.ino, hash, undefined]);
          if (contents.has(hash)) continue;
          const buf = await readBlob(tx, hash, node.size, store.chunkSize);
          if (buf === undefined) files[files.length - 1][2] = 'gone';
          else contents.set(hash, { buf, known: f.known, path: f.path });
        }
      });
      const found = await searchContents(search, contents);
      const results = files.map(([ino, hash, r]) => [ino, hash, r ?? found.get(hash)!]);
      port.postMessage({ id: b.id, results });
    } catch (e) {
      const err = e as { code?: string; message?: string };
      port.postMessage({ id: b.id, error: { code: err.code, message: String(err.message ?? e) } });
    }
  })();
});
port.postMessage({ ready: true });
