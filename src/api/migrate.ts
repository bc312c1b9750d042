// migrateVault: the same vault on another engine. Every collection is streamed into a fresh
// store of the target backend built at a temporary path beside the destination, the search
// indexes are rebuilt there, the copy is verified against the source (digests of every
// collection, the vault record field by field, the index and one search), and only then is the
// store put in place and the name registered. The source is opened read-only and never written.
// How and why: docs/migrate.md.
import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, resolve as resolveHost } from 'node:path';
import { vfsError } from '../errors.js';
import type { Engine } from '../storage/contract.js';
import { scan } from '../storage/contract.js';
import { isEngineKind, openEngine } from '../storage/engines.js';
import { ENGINE_KINDS } from '../storage/contract.js';
import { avfsHome } from '../vault/home.js';
import { Registry, checkVaultName, looksLikePath, STORE_SUFFIX, isServerBackend } from '../vault/registry.js';
import { placeAndRegisterServer, refuseExistingServerStore, removeServerStore, serverDestination, serverTemp } from '../vault/place-server.js';
import { isPgUrl, parsePgUrl, withoutPassword } from '../storage/postgres/url.js';
import { detectBackend, openStore } from '../vault/store.js';
import { placeAndRegister, removeStaleTemps, removeStore, tempStorePath } from '../vault/place.js';
import { COPIED, copyCollections, countCopied, digestMismatch, digestStore, type Digests } from '../vault/migrate-copy.js';
import { META_VAULT, ROOT_INO, decodeJson, encodeJson, inodeKey, parseDirent, type VaultRecord } from '../core/records.js';
import { readDocRecord, recordedText } from '../core/indexing.js';
import { META_USAGE, type Usage } from '../core/scope.js';
import { ftsWords } from '../text/tokenize.js';
import { indexStatus, rebuild } from '../search/indexer.js';
import { search } from './search.js';
import { UNSYNCED, checkSource, passphraseOf } from './open.js';
import type { Vault } from './vault.js';

export interface MigrateProgress {
  /** copy: entries streamed into the new store; index: the search indexes being rebuilt; verify: the copy read back. */
  phase: 'copy' | 'index' | 'verify';
  entries: number;
  /** Entries to copy (and to read back), counted before the copy starts. */
  totalEntries: number;
  bytes: number;
}

export interface MigrateOptions {
  /** The backend of the new store (any engine kind but memory). */
  to: string;
  /** Name to register the migrated vault under (default: SRC-BACKEND; must not exist). */
  name?: string;
  /** Where to keep the new store (default: $AVFS_HOME/vaults/NAME plus the backend's suffix). */
  path?: string;
  /** Where avfs keeps its config (default: $AVFS_HOME or ~/.avfs). */
  home?: string;
  /** Aborting stops the migrate (ECANCELED) and removes the partial store; nothing is registered. */
  signal?: AbortSignal;
  onProgress?: (p: MigrateProgress) => void;
  /** Passphrase of an encrypted source, and of the target with `encrypt` (default: $AVFS_PASSPHRASE). */
  passphrase?: string;
  /** Encrypt the new store with the passphrase (log backend only). Without it the copy is not encrypted. */
  encrypt?: boolean;
  /** The server for `to: 'postgres'` (postgres://user@host/db); the store goes to schema avfs_NAME unless the URL names one. */
  url?: string;
}

export interface MigrateResult {
  /** The registered name of the migrated vault. */
  name: string;
  path: string;
  backend: string;
  /** The source: its registered name, else its path. */
  from: string;
  fromBackend: string;
  /** The vault id, kept: a migrated vault is the same vault on another engine. */
  id: string;
  /** Entries copied (all collections but the rebuilt indexes), and their bytes (keys + values). */
  entries: number;
  bytes: number;
  /** Entries copied per collection. */
  collections: Record<string, number>;
  /** Files in the tree, and documents in the rebuilt full-text index. */
  files: number;
  indexed: number;
  seconds: number;
}

interface Source {
  engine: Engine;
  record: VaultRecord;
  name?: string;
  path: string;
  close(): Promise<void>;
}

/** Entries between two returns to the event loop (signals, progress redraws). */
const YIELD_EVERY = 512;

const backendList = (): string => ENGINE_KINDS.filter((k) => k !== 'memory').join(', ');

/** Open SRC (a name, a path, or an open Vault, left open) for reading only. */
async function openSource(src: string | Vault, reg: Registry, passphrase: string | undefined): Promise<Source> {
  if (typeof src !== 'string') {
    return { engine: src.engine, record: src.record, ...(src.name !== undefined ? { name: src.name } : {}), path: src.path, close: async () => {} };
  }
  const ref = reg.find(src);
  if (ref.backend === 'memory') {
    throw vfsError('EINVAL', undefined, `vault migrate: "${src}" is a memory vault, which holds nothing between runs (migrate an open one with the library's migrateVault)`);
  }
  if (!isServerBackend(ref.backend) && !existsSync(ref.path)) throw vfsError('ENOVAULT', ref.path, ref.name ? `vault "${ref.name}" is registered but its store is missing` : 'no vault here');
  const kind = ref.backend ?? detectBackend(ref.path);
  const { engine, record } = await openStore(ref.path, kind, reg.settingsFor(kind), { readOnly: true, ...(passphrase !== undefined ? { passphrase } : {}) });
  return { engine, record, ...(ref.name !== undefined ? { name: ref.name } : {}), path: ref.path, close: () => engine.close() };
}

/** SRC-BACKEND, from the source's name or its file name without the store suffix. */
function defaultName(source: Source, backend: string): string {
  let base = source.name;
  if (base === undefined && isPgUrl(source.path)) base = parsePgUrl(source.path).schema.replace(/^avfs_/, '');
  if (base === undefined) {
    base = basename(source.path);
    for (const suffix of Object.values(STORE_SUFFIX)) if (suffix && base.endsWith(suffix)) base = base.slice(0, -suffix.length);
  }
  const name = `${base}-${backend}`;
  try {
    checkVaultName(name);
  } catch {
    throw vfsError('EINVAL', undefined, `vault migrate: cannot make a vault name from "${base}" (give one with --name)`);
  }
  return name;
}

function stopIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw vfsError('ECANCELED', undefined, 'vault migrate: interrupted; the partial copy was removed and nothing was registered');
}

/**
 * The rebuilt search index answers: built, caught up, one document per search_docs row, and a
 * search for a word of the first indexed file (in tree order) finds that file.
 */
async function verifySearch(engine: Engine, record: VaultRecord): Promise<{ indexed: number; problem?: string }> {
  const st = await indexStatus(engine);
  const docs = await engine.read((tx) => tx.count('search_docs'));
  // Not `rebuilding`: rebuild() of a vault without files leaves that flag set with nothing queued.
  if (!st.built || st.queued > 0) return { indexed: st.documents, problem: 'the search index was not rebuilt completely' };
  if (st.documents !== docs) return { indexed: st.documents, problem: `the search index holds ${st.documents} documents but records ${docs}` };
  const settings = { chunkSize: record.chunkSize, actor: 'migrate' };
  const probe = await engine.read(async (tx) => {
    const folders: [number, string][] = [[ROOT_INO, '']];
    while (folders.length > 0) {
      const [dir, at] = folders.pop()!;
      for await (const e of scan(tx, 'dirents', { prefix: inodeKey(dir) })) {
        const child = parseDirent(e.value);
        const path = `${at}/${e.key.subarray(8).toString()}`;
        if (child.type === 'directory') folders.push([child.ino, path]);
        if (child.type !== 'file') continue;
        const rec = await readDocRecord(tx, child.ino);
        if (!rec) continue;
        const word = ftsWords(await recordedText(tx, rec, record.chunkSize)).words.split(' ')[0];
        if (word) return { path, word };
      }
    }
    return undefined;
  });
  if (!probe) return { indexed: st.documents };
  const r = await search({ engine, settings, cwd: '/' }, `"${probe.word}"`, { path: probe.path, limit: 1, snippets: false });
  if (r.hits.length !== 1 || r.hits[0].path !== probe.path) return { indexed: st.documents, problem: `a search for "${probe.word}" does not find ${probe.path}` };
  return { indexed: st.documents };
}

/** The vault record on the target equals the source's but for the backend. */
async function verifyRecord(engine: Engine, source: VaultRecord, backend: string): Promise<string | undefined> {
  const raw = await engine.read((tx) => tx.get('meta', META_VAULT));
  if (!raw) return 'the copy has no vault record';
  const got = decodeJson<Record<string, unknown>>(raw);
  const want: Record<string, unknown> = { ...source, backend };
  for (const k of new Set([...Object.keys(want), ...Object.keys(got)])) {
    if (JSON.stringify(got[k]) !== JSON.stringify(want[k])) return `the vault record's ${k} is ${JSON.stringify(got[k])} in the copy, ${JSON.stringify(want[k])} expected`;
  }
  return undefined;
}

/**
 * Copy SRC (a registered name, a path, or an open Vault, which is left open) whole into a new
 * store of backend `opts.to` and register it as `opts.name` (default SRC-BACKEND): tree, all
 * history, snapshots, tags, metadata, settings and agent memory, with the same vault id; the
 * search indexes are rebuilt on the target. Verified before anything is registered; any
 * failure or an abort leaves no store and no name behind. The source is only read.
 */
export async function migrateVault(src: string | Vault, opts: MigrateOptions): Promise<MigrateResult> {
  const started = Date.now();
  checkSource(src, 'vault migrate');
  if (typeof opts !== 'object' || opts === null) throw vfsError('EINVAL', undefined, `vault migrate: give the options, at least the target backend ({ to: ${backendList().split(', ').map((k) => `'${k}'`).join(' | ')} })`);
  const backend = opts.to;
  if (typeof backend !== 'string' || backend === '') throw vfsError('EINVAL', undefined, `vault migrate: give the target backend (${backendList()})`);
  if (!isEngineKind(backend)) throw vfsError('EBACKEND', undefined, `unknown backend "${backend}" (choose one of: ${backendList()})`);
  if (backend === 'memory') throw vfsError('EINVAL', undefined, `vault migrate: a vault migrated into the memory backend would be gone at once (choose one of: ${backendList()})`);
  if (opts.name !== undefined) {
    if (typeof opts.name !== 'string') throw vfsError('EINVAL', undefined, 'vault migrate: the name must be a string');
    checkVaultName(opts.name);
  }
  if (opts.path !== undefined && (typeof opts.path !== 'string' || opts.path.trim() === '')) throw vfsError('EINVAL', undefined, 'vault migrate: the path is empty');
  const home = opts.home ?? avfsHome();
  const reg = new Registry(home);
  if (opts.name !== undefined && reg.has(opts.name)) throw vfsError('EEXIST', undefined, `a vault named "${opts.name}" already exists`);
  const passphrase = passphraseOf(opts);
  if (opts.encrypt) {
    if (backend !== 'log') throw vfsError('EINVAL', undefined, `vault migrate: encryption is available on the log backend only (not ${backend})`);
    if (passphrase === undefined) throw vfsError('EPASSPHRASE', undefined, 'an encrypted vault needs a passphrase: set AVFS_PASSPHRASE or enter it when asked');
  }
  stopIfAborted(opts.signal);

  const source = await openSource(src, reg, passphrase);
  try {
    if (opts.name === undefined && typeof src !== 'string' && src.path === ':memory:') {
      throw vfsError('EINVAL', undefined, 'vault migrate: an in-memory vault has no name to derive one from (give a name)');
    }
    const name = opts.name ?? defaultName(source, backend);
    if (reg.has(name)) throw vfsError('EEXIST', undefined, `a vault named "${name}" already exists (choose another with --name)`);
    const server = backend === 'postgres';
    if (server && opts.url === undefined) throw vfsError('EUSAGE', undefined, 'vault migrate: --to postgres needs the server: --url postgres://user@host/db');
    if (!server && opts.url !== undefined) throw vfsError('EUSAGE', undefined, `vault migrate: --url is for --to postgres (not ${backend})`);
    const path = server ? serverDestination(opts.url!, name) : opts.path !== undefined ? resolveHost(opts.path) : reg.defaultPath(name, backend);
    if (server) await refuseExistingServerStore(path, reg.settingsFor(backend));
    else if (existsSync(path)) throw vfsError('EEXIST', path, 'something already exists here');
    const from = source.name ?? source.path;

    if (!server) {
      mkdirSync(dirname(path), { recursive: true });
      // What a migrate killed outright (SIGKILL, power cut) left here is of no use to anyone.
      removeStaleTemps(path, 'migrate');
    }
    const tmp = server ? serverTemp(path, 'migrate') : tempStorePath(path, 'migrate', backend);
    let engine: Engine | undefined;
    try {
      // Commits not flushed one by one: a store that is not complete is thrown away whatever
      // happens to it, and sync() below makes the complete one durable before it is put in place.
      engine = await openEngine(backend, {
        path: tmp,
        create: true,
        settings: { ...reg.settingsFor(backend), ...UNSYNCED[backend] },
        ...(opts.encrypt ? { passphrase } : {}),
      });
      const dst = engine;
      const progress: MigrateProgress = { phase: 'copy', entries: 0, totalEntries: 0, bytes: 0 };
      const tick = async (bytes: number): Promise<void> => {
        progress.entries++;
        progress.bytes += bytes;
        // Local engines answer without ever returning to the event loop, so a signal handler
        // would only run once the copy is over: let it run every so often.
        if (progress.entries % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
        stopIfAborted(opts.signal);
        opts.onProgress?.(progress);
      };
      // One read transaction on the source for the whole copy: one consistent state.
      const { digests, usage } = await source.engine.read(async (tx) => {
        progress.totalEntries = await countCopied(tx);
        opts.onProgress?.(progress);
        const digests: Digests = await copyCollections(tx, dst, tick);
        const rawUsage = await tx.get('meta', META_USAGE);
        return { digests, usage: rawUsage ? decodeJson<Usage>(rawUsage) : undefined };
      });
      const record: VaultRecord = { ...source.record, backend };
      await dst.write((tx) => tx.put('meta', META_VAULT, encodeJson(record)));

      stopIfAborted(opts.signal);
      opts.onProgress?.({ ...progress, phase: 'index' });
      await rebuild(dst, record.chunkSize);

      stopIfAborted(opts.signal);
      const copied = progress.entries;
      const bytes = progress.bytes;
      Object.assign(progress, { phase: 'verify', entries: 0, bytes: 0 });
      const mismatch = digestMismatch(digests, await digestStore(dst, tick)) ?? (await verifyRecord(dst, source.record, backend));
      if (mismatch) throw vfsError('EIO', undefined, `vault migrate: verification failed: ${mismatch}; nothing was registered`);
      const { indexed, problem } = await verifySearch(dst, record);
      if (problem) throw vfsError('EIO', undefined, `vault migrate: verification failed: ${problem}; nothing was registered`);
      stopIfAborted(opts.signal);

      await dst.sync();
      engine = undefined;
      await dst.close();
      if (server) await placeAndRegisterServer(tmp, path, home, name, backend, reg.settingsFor(backend));
      else placeAndRegister(tmp, path, home, name, backend);
      const collections: Record<string, number> = {};
      for (const c of COPIED) collections[c] = digests[c]?.entries ?? 0;
      return {
        name,
        path: server ? withoutPassword(path) : path,
        backend,
        from,
        fromBackend: source.record.backend,
        id: record.id,
        entries: copied,
        bytes,
        collections,
        files: usage?.files ?? 0,
        indexed,
        seconds: (Date.now() - started) / 1000,
      };
    } catch (e) {
      await engine?.close().catch(() => {});
      if (server) await removeServerStore(tmp, reg.settingsFor(backend));
      else removeStore(tmp);
      throw e;
    }
  } finally {
    await source.close();
  }
}
