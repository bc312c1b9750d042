// forkVault: a new vault that starts as another one was at a point in time (now, a snapshot,
// an operation number, a time), with that vault's history up to the point, and then goes its
// own way. The source is only read. How the copy is made is in docs/history.md ("Forks").
import { existsSync, mkdirSync, openSync, closeSync, fsyncSync, renameSync, rmSync, rmdirSync, linkSync, unlinkSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve as resolveHost } from 'node:path';
import { randomBytes } from 'node:crypto';
import { vfsError } from '../errors.js';
import type { Engine } from '../storage/contract.js';
import { isEngineKind, openEngine } from '../storage/engines.js';
import { avfsHome } from '../vault/home.js';
import { Registry, checkVaultName, looksLikePath, STORE_SUFFIX } from '../vault/registry.js';
import { defaultActor } from '../vault/actor.js';
import type { Usage } from '../core/scope.js';
import { currentSeq, resolvePoint, type Point } from '../history/at.js';
import { finishFork, rebuildCurrent, streamInto, trimAfter, trimMeta, type Reader } from '../history/fork.js';
import { getSnapshot } from '../history/snapshots.js';
import { readMemory, replaceMemory } from '../memory/dump.js';
import { dropOrphanAttrs } from '../tags/rows.js';
import { openVault } from './open.js';
import type { Vault } from './vault.js';

export interface ForkOptions {
  /** The point to fork at: a snapshot name, an operation number, a time (see resolvePoint); default now. */
  at?: string | number;
  /** Backend of the fork (default: the source's; sqlite-or-config-default for a memory source). */
  backend?: string;
  /** Where avfs keeps its config (default: $AVFS_HOME or ~/.avfs). */
  home?: string;
  /** Name recorded in the fork's `vault.fork` operation. */
  actor?: string;
}

export interface ForkResult {
  /** Registered name of the fork, when DST was a name. */
  name?: string;
  path: string;
  backend: string;
  /** The source: its registered name, else its path. */
  from: string;
  /** The fork starts as the source was after this operation; `vault.fork` is operation seq + 1. */
  seq: number;
  /** How the point was named: "snapshot mid", "operation 42", a time, "now". */
  at: string;
  /** The agent memory is the one saved with the snapshot forked at (else it is the source's memory now). */
  memory: boolean;
  /** copy: the engine copied the store (Engine.copyTo) and it was trimmed; stream: collections were streamed. */
  method: 'copy' | 'stream';
  /** The fork's vault id (new). */
  id: string;
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not every file system lets a folder be synced; the rename is done either way.
  }
}

/** Remove a store at `path` (file with its SQLite companions, or folder). */
function removeStore(path: string): void {
  rmSync(path, { recursive: true, force: true });
  for (const extra of ['-wal', '-shm', '-journal']) rmSync(path + extra, { force: true });
}

/**
 * Put the finished store at `tmp` in place at `path`, refusing (EEXIST) if something appeared
 * there meanwhile: a file by link (which will not replace), a folder by claiming the name with
 * mkdir first (rename then replaces only that empty folder).
 */
function placeStore(tmp: string, path: string): void {
  if (statSync(tmp).isDirectory()) {
    try {
      mkdirSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw vfsError('EEXIST', path, 'something already exists here');
      throw e;
    }
    try {
      renameSync(tmp, path);
    } catch (e) {
      try {
        rmdirSync(path);
      } catch {
        // Someone else's now: leave it.
      }
      throw e;
    }
  } else {
    // Closing the last connection checkpointed the WAL and removed it; a WAL left over would
    // hold committed data that a rename of the main file alone would lose.
    if (existsSync(tmp + '-wal') && statSync(tmp + '-wal').size > 0) {
      throw vfsError('EIO', tmp, 'the new store still has a write-ahead log after closing');
    }
    for (const extra of ['-wal', '-shm']) rmSync(tmp + extra, { force: true });
    try {
      linkSync(tmp, path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw vfsError('EEXIST', path, 'something already exists here');
      // A file system without hard links: the existence check just made is the best we have.
      if (existsSync(path)) throw vfsError('EEXIST', path, 'something already exists here');
      renameSync(tmp, path);
      return;
    }
    unlinkSync(tmp);
  }
  fsyncDir(dirname(path));
}

/**
 * Make DST (a name to register, or a path) a new vault that starts as SRC (a name, a path, or
 * an open Vault, which is left open) was at `opts.at`, with SRC's history, snapshots and
 * settings up to that point; its own operation log gets one `vault.fork` record on top. DST
 * must not exist (EEXIST). Nothing appears at DST unless the fork completes.
 */
export async function forkVault(src: string | Vault, dst: string, opts: ForkOptions = {}): Promise<ForkResult> {
  if (typeof src === 'string' && src.trim() === '') throw vfsError('EINVAL', undefined, 'vault fork: the source vault is empty (give a name or a path)');
  if (typeof dst !== 'string' || dst.trim() === '') throw vfsError('EINVAL', undefined, 'vault fork: the destination is empty (give a name or a path)');
  if (opts.at !== undefined && typeof opts.at !== 'string' && !(typeof opts.at === 'number' && Number.isSafeInteger(opts.at))) {
    throw vfsError('EINVAL', undefined, 'vault fork: the point must be a snapshot name, an operation number or a time');
  }
  const home = opts.home ?? avfsHome();
  const reg = new Registry(home);
  let name: string | undefined;
  if (!looksLikePath(dst)) {
    checkVaultName(dst);
    if (reg.has(dst)) throw vfsError('EEXIST', undefined, `a vault named "${dst}" already exists`);
    name = dst;
  }
  if (opts.backend !== undefined && !isEngineKind(opts.backend)) {
    throw vfsError('EBACKEND', undefined, `unknown backend "${opts.backend}" (choose sqlite or lmdb)`);
  }
  if (opts.backend === 'memory') throw vfsError('EINVAL', undefined, 'vault fork: a fork into the memory backend would be gone at once (choose sqlite or lmdb)');

  const owned = typeof src === 'string';
  const source = typeof src === 'string' ? await openVault(src, { home, ...(opts.actor !== undefined ? { actor: opts.actor } : {}) }) : src;
  try {
    const backend = opts.backend ?? (source.backend === 'memory' ? reg.defaultBackend : source.backend);
    if (!isEngineKind(backend) || backend === 'memory') throw vfsError('EBACKEND', undefined, `cannot fork into backend "${backend}" (choose sqlite or lmdb)`);
    const path = name ? reg.defaultPath(name, backend) : resolveHost(dst);
    if (existsSync(path)) throw vfsError('EEXIST', path, 'something already exists here');
    const from = source.name ?? source.path;
    const actor = opts.actor ?? defaultActor();
    const settings = reg.settingsFor(backend);
    // Resolved before anything is made, so a bad point leaves nothing behind.
    const spec = typeof opts.at === 'number' ? `seq:${opts.at}` : opts.at;
    const point: Point | undefined = spec === undefined ? undefined : await source.engine.read((tx) => resolvePoint(tx, spec));

    mkdirSync(dirname(path), { recursive: true });
    const tmp = join(dirname(path), `.${basename(path)}.fork-${process.pid}-${randomBytes(4).toString('hex')}${STORE_SUFFIX[backend] ?? ''}`);
    const method: ForkResult['method'] = backend === source.backend && source.engine.copyTo ? 'copy' : 'stream';
    const vaultSettings = { chunkSize: source.record.chunkSize, actor };
    let engine: Engine | undefined;
    try {
      let seq: number;
      let usage: Usage | undefined;
      if (method === 'copy') {
        await source.engine.copyTo!(tmp);
        engine = await openEngine(backend, { path: tmp, create: false, settings });
        const dstEngine = engine;
        const last = await engine.read(currentSeq);
        seq = point?.seq ?? last;
        if (seq < last) {
          await trimAfter(engine, seq);
          const read: Reader = (fn) => dstEngine.read(fn);
          usage = await rebuildCurrent(read, engine, seq, vaultSettings);
        }
        await trimMeta(engine, seq);
      } else {
        engine = await openEngine(backend, { path: tmp, create: true, settings });
        const dstEngine = engine;
        // One read transaction on the source for the whole stream: one consistent state.
        ({ seq, usage } = await source.engine.read(async (tx) => {
          const seq = point?.seq ?? (await currentSeq(tx));
          await streamInto(tx, dstEngine, seq, source.record.chunkSize);
          const read: Reader = (fn) => fn(tx);
          return { seq, usage: await rebuildCurrent(read, dstEngine, seq, vaultSettings) };
        }));
      }
      // The tree was rebuilt as of an earlier point: tags and metadata (not kept in history) of
      // files that were not there then are dropped; the others keep the ones they have now.
      if (usage) await dropOrphanAttrs(engine);
      // Forked at a snapshot saved with memory: the fork's agent memory is that memory.
      const memory = point?.snapshot === undefined ? false : await memoryFromSnapshot(engine, point.snapshot, source.record.chunkSize);
      const at = point?.label ?? `now (operation ${seq})`;
      const record = await finishFork(engine, source.record, backend, seq, usage, actor, { from, fromId: source.record.id, at, method });
      await engine.sync();
      const closing = engine;
      engine = undefined;
      await closing.close();
      placeStore(tmp, path);
      if (name) {
        try {
          const now = new Registry(home); // read again: another process may have changed it
          now.add(name, path, backend);
          now.save();
        } catch (e) {
          removeStore(path);
          throw e;
        }
      }
      return { ...(name ? { name } : {}), path, backend, from, seq, at, method, id: record.id, memory };
    } catch (e) {
      await engine?.close().catch(() => {});
      removeStore(tmp);
      throw e;
    }
  } finally {
    if (owned) await source.close();
  }
}

/** Put the memory saved with snapshot `name` (if it has one) in place of the copied memory. */
async function memoryFromSnapshot(engine: Engine, name: string, chunkSize: number): Promise<boolean> {
  return engine.write(async (tx) => {
    const snap = await getSnapshot(tx, name);
    if (!snap?.memory) return false;
    await replaceMemory(tx, await readMemory(tx, snap.memory, chunkSize));
    return true;
  });
}
