// Reading and searching the files grep chose: a batch of files (64, up to 8 MiB) per read
// transaction (content is immutable under its id, so short reads are safe), each content
// searched once, a whole batch handed to a helper thread (grep-pool.ts) when one is free, and
// the outcomes reported file by file in walk order.
import type { Inode } from '../core/records.js';
import { readBlob, searchContents, type Outcome, type Search, type SearchSpec } from '../search/filesearch.js';
import type { Runner } from './fileops.js';
import type { GrepEvent } from './grep.js';
import type { Helper, HelperSlot } from './grep-pool.js';
import type { Target } from './grep-targets.js';

/** Files per read transaction, and bytes per batch. */
const BATCH_FILES = 64;
const BATCH_BYTES = 8 * 1024 * 1024;

interface Item {
  t: Target;
  node: Inode;
  hash: string;
  buf?: Buffer;
  /** Set when a helper searched the file: its outcome directly. */
  outcome?: Outcome | 'gone' | 'too large';
}

/** Read, search and report a stream of files: a batch per read transaction, files of the same content searched once. */
export async function* searchTargets(
  runner: Runner,
  s: Search,
  targets: AsyncGenerator<Target[]>,
  maxFile: number,
  cache: Map<string, Outcome | 'gone'>,
  stats: { searched: number; helped: number },
  helper: HelperSlot | undefined,
  spec: SearchSpec,
): AsyncGenerator<GrepEvent> {
  // Items waiting for their outcome, in order.
  const waiting: Item[] = [];
  const fresh = new Map<string, Outcome | 'gone'>();
  const ZERO: Outcome = { count: 0, lines: [] };
  const PENDING = '\0pending'; // no content id looks like this
  // Helper batches in flight (a second one queued keeps it busy while this thread answers).
  let pending = 0;
  let settled: Promise<void> = Promise.resolve();
  let failure: unknown;

  const keep = (hash: string, r: Outcome | 'gone'): void => {
    // Small results are kept for files of the same content later on; big ones only until shown.
    if (typeof r === 'string' || r.lines.length <= 1000) cache.set(hash, r);
    else fresh.set(hash, r);
  };

  function* drain(): Generator<GrepEvent> {
    while (waiting.length > 0) {
      const it = waiting[0];
      let r: Outcome | 'gone' | 'too large' | undefined;
      if (it.t.zero) r = ZERO;
      else if (it.outcome !== undefined) r = it.outcome;
      else if (it.hash === PENDING) return; // with the helper still
      else if (it.node.size > maxFile) r = 'too large';
      else {
        r = cache.get(it.hash) ?? fresh.get(it.hash);
        if (r === undefined) return;
      }
      waiting.shift();
      const t = it.t;
      if (r === 'gone') continue; // gone since it was listed, or its content collected since
      if (r === 'too large' || r === 'binary') yield { type: 'skipped', path: t.path, shown: t.shown, reason: r, explicit: t.explicit };
      else {
        if (!t.zero) stats.searched++;
        const show = s.output === 'files-without-match' ? r.count === 0 : s.output === 'count' ? true : r.count > 0;
        if (show) yield { type: 'file', file: { path: t.path, shown: t.shown, count: r.count, lines: r.lines } };
      }
    }
    fresh.clear();
  }

  /** A batch to the helper, whole: it reads the inodes and contents itself. */
  const toHelper = (h: Helper, list: Target[]): void => {
    const items: Item[] = [];
    const files: { ino: number; known: boolean; path: string }[] = [];
    for (const t of list) {
      const it: Item = { t, node: { size: 0 } as Inode, hash: PENDING };
      waiting.push(it);
      if (!t.zero) {
        items.push(it);
        files.push({ ino: t.ino, known: t.known, path: t.path });
      }
    }
    pending++;
    const done = h.run(spec, maxFile, files).then(
      (results) => {
        results.forEach(([, hash, r], i) => {
          items[i].outcome = r;
          if (r !== 'too large') keep(hash, r);
          if (typeof r !== 'string' || r === 'binary') stats.helped++;
        });
        pending--;
      },
      (e) => {
        failure ??= e;
        pending--;
      },
    );
    settled = settled.then(() => done);
  };

  const handle = async (list: Target[]): Promise<void> => {
    // A free helper takes this batch; else it is read and searched here.
    const hp = helper?.get();
    const h = hp && hp.busy() < hp.capacity ? hp : undefined;
    if (h) return toHelper(h, list);
    const chunkSize = runner.settings.chunkSize;
    const items = await runner.read(async (sc) => {
      const out: Item[] = [];
      let bytes = 0;
      for (const t of list) {
        if (t.zero) {
          out.push({ t, node: { size: 0 } as Inode, hash: 'zero' });
          continue;
        }
        const node = await sc.inode(t.ino);
        if (!node || node.type !== 'file') continue; // gone since it was listed
        const it: Item = { t, node, hash: node.hash ?? '' };
        if (node.size <= maxFile && !cache.has(it.hash) && bytes + node.size <= BATCH_BYTES) {
          it.buf = await readBlob(sc.tx, it.hash, node.size, chunkSize);
          bytes += node.size;
        }
        out.push(it);
      }
      return out;
    });
    let contents = new Map<string, { buf: Buffer; known: boolean; path: string }>();
    let bytes = 0;
    const flush = async (): Promise<void> => {
      if (contents.size === 0) return;
      const c = contents;
      contents = new Map();
      bytes = 0;
      for (const [hash, r] of await searchContents(s, c)) keep(hash, r);
    };
    for (const it of items) {
      waiting.push(it);
      const hash = it.hash;
      if (it.t.zero || it.node.size > maxFile || cache.has(hash) || contents.has(hash)) continue;
      if (bytes > 0 && bytes + it.node.size > BATCH_BYTES) await flush();
      // Over the batch's budget: read on its own.
      const buf = it.buf ?? (await runner.read((sc) => readBlob(sc.tx, hash, it.node.size, chunkSize)));
      it.buf = undefined;
      if (buf === undefined) cache.set(hash, 'gone');
      else {
        contents.set(hash, { buf, known: it.t.known, path: it.t.path });
        bytes += it.node.size;
      }
    }
    await flush();
  };

  let batch: Target[] = [];
  for await (const list of targets) {
    for (const t of list) {
      batch.push(t);
      if (batch.length < BATCH_FILES) continue;
      await handle(batch);
      batch = [];
      // Store calls resolve at once, so nothing here waits on the event loop: let it take the
      // helper's answer (or its readiness), if there is one, before the next batch.
      if (pending > 0 || helper?.starting()) await new Promise((r) => setImmediate(r));
      if (failure) throw failure;
      yield* drain();
    }
  }
  await handle(batch);
  await settled;
  if (failure) throw failure;
  yield* drain();
}
