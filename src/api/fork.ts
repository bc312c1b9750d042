// forkVault: a new vault that starts as another one was at a point in time (now, a snapshot,
// an operation number, a time), with that vault's history up to the point, and then goes its
// own way. The source is only read. How the copy is made is in docs/history.md ("Forks").
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve as resolveHost } from 'node:path';
import { vfsError } from '../errors.js';
import type { Engine } from '../storage/contract.js';
import { isEngineKind, openEngine } from '../storage/engines.js';
import { avfsHome } from '../vault/home.js';
import { Registry, checkVaultName, looksLikePath } from '../vault/registry.js';
import { placeAndRegister, removeStore, tempStorePath } from '../vault/place.js';
import { placeAndRegisterServer, refuseExistingServerStore, removeServerStore, serverTemp } from '../vault/place-server.js';
import { isPgUrl, schemaForName, withSchema, withoutPassword } from '../storage/postgres/url.js';
import { defaultActor } from '../vault/actor.js';
import type { Usage } from '../core/scope.js';
import { currentSeq, resolvePoint, type Point } from '../history/at.js';
import { finishFork, rebuildCurrent, streamInto, trimAfter, trimMeta, type Reader } from '../history/fork.js';
import { getSnapshot } from '../history/snapshots.js';
import { readMemory, replaceMemory } from '../memory/dump.js';
import { dropOrphanAttrs } from '../tags/rows.js';
import { checkSource, openVault, passphraseOf } from './open.js';
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
  /** Passphrase of an encrypted source (default: $AVFS_PASSPHRASE); a copy stays encrypted with it. */
  passphrase?: string;
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

/**
 * Make DST (a name to register, or a path) a new vault that starts as SRC (a name, a path, or
 * an open Vault, which is left open) was at `opts.at`, with SRC's history, snapshots and
 * settings up to that point; its own operation log gets one `vault.fork` record on top. DST
 * must not exist (EEXIST). Nothing appears at DST unless the fork completes.
 */
export async function forkVault(src: string | Vault, dst: string, opts: ForkOptions = {}): Promise<ForkResult> {
  checkSource(src, 'vault fork');
  if (typeof dst !== 'string' || dst.trim() === '') throw vfsError('EINVAL', undefined, 'vault fork: the destination is empty (give a name or a path)');
  if (opts.at !== undefined && typeof opts.at !== 'string' && !(typeof opts.at === 'number' && Number.isSafeInteger(opts.at))) {
    throw vfsError('EINVAL', undefined, 'vault fork: the point must be a snapshot name, an operation number or a time');
  }
  const home = opts.home ?? avfsHome();
  const reg = new Registry(home);
  let name: string | undefined;
  const dstUrl = isPgUrl(dst);
  if (!dstUrl && !looksLikePath(dst)) {
    checkVaultName(dst);
    if (reg.has(dst)) throw vfsError('EEXIST', undefined, `a vault named "${dst}" already exists`);
    name = dst;
  }
  if (opts.backend !== undefined && !isEngineKind(opts.backend)) {
    throw vfsError('EBACKEND', undefined, `unknown backend "${opts.backend}" (choose sqlite, lmdb, log, rocksdb or postgres)`);
  }
  if (opts.backend === 'memory') throw vfsError('EINVAL', undefined, 'vault fork: a fork into the memory backend would be gone at once (choose sqlite, lmdb, log, rocksdb or postgres)');

  const owned = typeof src === 'string';
  const source = typeof src === 'string' ? await openVault(src, { home, ...(opts.actor !== undefined ? { actor: opts.actor } : {}), ...(opts.passphrase !== undefined ? { passphrase: opts.passphrase } : {}) }) : src;
  try {
    // A DST URL is a postgres store; a DST path is a local store, so a postgres source forks
    // into the default backend there; a DST name takes the source's backend (postgres: on the
    // source's server, in schema avfs_NAME).
    const backend =
      opts.backend ?? (dstUrl ? 'postgres' : source.backend === 'memory' || (source.backend === 'postgres' && !name) ? reg.defaultBackend : source.backend);
    if (!isEngineKind(backend) || backend === 'memory') throw vfsError('EBACKEND', undefined, `cannot fork into backend "${backend}" (choose sqlite, lmdb, log, rocksdb or postgres)`);
    const server = backend === 'postgres';
    if (server && !dstUrl && !(name && source.backend === 'postgres')) {
      throw vfsError('EUSAGE', undefined, 'vault fork: a postgres fork goes to a postgres:// URL, or to a name on the source\'s server (not to a path)');
    }
    if (!server && dstUrl) throw vfsError('EUSAGE', undefined, `vault fork: a URL is a postgres store (not ${backend})`);
    const path = server ? (dstUrl ? dst : withSchema(source.path, schemaForName(name!))) : name ? reg.defaultPath(name, backend) : resolveHost(dst);
    if (server) await refuseExistingServerStore(path, reg.settingsFor(backend));
    else if (existsSync(path)) throw vfsError('EEXIST', path, 'something already exists here');
    const from = source.name ?? source.path;
    const actor = opts.actor ?? defaultActor();
    const settings = reg.settingsFor(backend);
    // Resolved before anything is made, so a bad point leaves nothing behind.
    const spec = typeof opts.at === 'number' ? `seq:${opts.at}` : opts.at;
    const point: Point | undefined = spec === undefined ? undefined : await source.engine.read((tx) => resolvePoint(tx, spec));

    if (!server) mkdirSync(dirname(path), { recursive: true });
    const tmp = server ? serverTemp(path, 'fork') : tempStorePath(path, 'fork', backend);
    const method: ForkResult['method'] = backend === source.backend && source.engine.copyTo ? 'copy' : 'stream';
    const vaultSettings = { chunkSize: source.record.chunkSize, actor };
    let engine: Engine | undefined;
    try {
      let seq: number;
      let usage: Usage | undefined;
      if (method === 'copy') {
        await source.engine.copyTo!(tmp);
        const passphrase = passphraseOf(opts);
        engine = await openEngine(backend, { path: tmp, create: false, settings, ...(passphrase !== undefined ? { passphrase } : {}) });
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
      if (server) await placeAndRegisterServer(tmp, path, home, name, backend, settings);
      else placeAndRegister(tmp, path, home, name, backend);
      const shown = server ? withoutPassword(path) : path;
      return { ...(name ? { name } : {}), path: shown, backend, from, seq, at, method, id: record.id, memory };
    } catch (e) {
      await engine?.close().catch(() => {});
      if (server) await removeServerStore(tmp, settings);
      else removeStore(tmp);
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
