// grep's helper threads: per open vault (sqlite or lmdb, never the memory engine), a pool of
// worker threads (search/grep-worker.ts), each with a read-only connection of its own, that take
// whole batches of files (they read the inodes and contents and search them) while the calling
// thread walks and orders the results. A grep that read many files starts them in the
// background for the greps that follow (a thread costs more to start than a short grep takes);
// idle, they never keep a process alive; they are closed with the vault.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { VfsError, vfsError } from '../errors.js';
import type { EngineKind } from '../storage/contract.js';
import type { Outcome, SearchSpec } from '../search/filesearch.js';

/** Where a store lives, for a helper thread to open it too (sqlite and lmdb; never the memory engine). */
export interface StoreRef {
  kind: EngineKind;
  path: string;
  chunkSize: number;
  /** Whose helpers they are (the open vault's engine): closed with it. */
  owner: object;
  /** Engines that cannot be opened twice in one process (rocksdb) lend their handle per batch. */
  lend?: () => Promise<{ handle: bigint; done(): void }>;
}

/** grep-worker.js of the library (dist/src), from here or from the CLI bundle beside it. */
function workerFile(): URL | undefined {
  const here = import.meta.url;
  if (here.includes('/dist/src/')) return new URL('../search/grep-worker.js', here);
  for (let dir = new URL('.', here); dir.pathname !== '/'; dir = new URL('..', dir)) {
    const u = new URL('dist/src/search/grep-worker.js', dir);
    if (existsSync(u)) return u;
  }
  return undefined;
}

/** Helper threads per open vault (its engine), kept until it is closed (started by a long grep). */
const helpers = new WeakMap<object, Promise<Helper | undefined>>();

export function helperFor(store: StoreRef, start: boolean): Promise<Helper | undefined> | undefined {
  let h = helpers.get(store.owner);
  if (h === undefined && start) {
    h = startPool(store, Math.min(HELPER_THREADS, availableParallelism()));
    helpers.set(store.owner, h);
  }
  return h;
}

/** Helper threads per store: with two, this thread only walks and hands out (two cores busy). */
const HELPER_THREADS = 2;
/** A grep that read this many files starts the helpers for the next ones. */
export const HELPERS_AFTER = 1000;

async function startPool(store: StoreRef, n: number): Promise<Helper | undefined> {
  const started = await Promise.all(Array.from({ length: n }, () => startHelper(store).catch(() => undefined)));
  const pool = started.filter((h): h is Helper & { busy(): number } => h !== undefined);
  if (pool.length === 0) return undefined;
  return {
    capacity: pool.length * 2,
    busy: () => pool.reduce((a, h) => a + h.busy(), 0),
    run(spec, maxFile, files) {
      let best = pool[0];
      for (const h of pool) if (h.busy() < best.busy()) best = h;
      return best.run(spec, maxFile, files);
    },
    async close() {
      await Promise.all(pool.map((h) => h.close()));
    },
  };
}

/** Stop a vault's helper threads (it is closing). */
export async function closeHelper(owner: object): Promise<void> {
  const h = helpers.get(owner);
  helpers.delete(owner);
  await (await h)?.close();
}

async function startHelper(store: StoreRef): Promise<(Helper & { busy(): number }) | undefined> {
  const file = workerFile();
  if (!file) return undefined;
  const w = new Worker(file, { workerData: { store: { kind: store.kind, path: store.path, chunkSize: store.chunkSize, lent: store.lend !== undefined } } });
  let failed: Error | undefined;
  w.on('error', (e) => (failed ??= e));
  const ok = await new Promise<boolean>((resolve) => {
    w.once('message', (m: { ready?: boolean }) => resolve(m.ready === true));
    w.once('error', () => resolve(false));
    w.once('exit', () => resolve(false));
  });
  if (!ok) {
    await w.terminate();
    return undefined;
  }
  // Idle, it never keeps a process alive.
  w.unref();
  let next = 1;
  let dead = false;
  let busy = 0; // batches in flight: the thread keeps the process alive only while there are some
  w.once('exit', () => (dead = true));
  return {
    capacity: 2,
    busy: () => busy,
    run(spec, maxFile, files) {
      if (dead) return Promise.reject(failed ?? vfsError('EIO', undefined, 'grep: the helper thread stopped'));
      if (!store.lend) return send(spec, maxFile, files);
      // The store stays open in this thread until the helper has answered.
      return store.lend().then((lent) => send(spec, maxFile, files, lent.handle).finally(() => lent.done()));
    },
    async close() {
      dead = true;
      await w.terminate();
    },
  };
  function send(spec: SearchSpec, maxFile: number, files: { ino: number; known: boolean; path: string }[], handle?: bigint): Promise<HelperResult[]> {
      if (dead) return Promise.reject(failed ?? vfsError('EIO', undefined, 'grep: the helper thread stopped'));
      const id = next++;
      if (busy++ === 0) w.ref();
      return new Promise((resolve, reject) => {
        const onMessage = (m: { id: number; results?: HelperResult[]; error?: { code?: string; message: string } }): void => {
          if (m.id !== id) return;
          w.off('message', onMessage);
          w.off('exit', onExit);
          if (--busy === 0) w.unref();
          if (m.error) reject(new VfsError((m.error.code && m.error.code.startsWith('E') ? m.error.code : 'EIO') as 'EIO', m.error.message));
          else resolve(m.results!);
        };
        const onExit = (): void => {
          w.off('message', onMessage);
          reject(failed ?? vfsError('EIO', undefined, 'grep: the helper thread stopped'));
        };
        w.on('message', onMessage);
        w.once('exit', onExit);
        w.postMessage({ id, spec, maxFile, files, ...(handle !== undefined ? { handle } : {}) });
      });
  }
}

/** What a helper answers for one file of a batch. */
export type HelperResult = [ino: number, hash: string, outcome: Outcome | 'gone' | 'too large'];

/** A second thread that reads and searches batches of files from its own connection to the store. */
export interface Helper {
  run(spec: SearchSpec, maxFile: number, files: { ino: number; known: boolean; path: string }[]): Promise<HelperResult[]>;
  /** Batches it can hold at once (two per thread: one in work, one queued). */
  capacity: number;
  busy(): number;
  close(): Promise<void>;
}

/** The helper of one grep: there once started (undefined until then, or if it cannot be). */
export interface HelperSlot {
  get(): Helper | undefined;
  /** Being started: its message of readiness comes through the event loop. */
  starting(): boolean;
}
