// Opening, creating and managing vaults by name or by path.
import { existsSync, rmSync } from 'node:fs';
import { resolve as resolveHost } from 'node:path';
import { isVfsError, vfsError } from '../errors.js';
import { avfsHome } from '../vault/home.js';
import { Registry, DEFAULT_VAULT, checkVaultName, looksLikePath, getCwd, isServerBackend } from '../vault/registry.js';
import { hasSchema, isPgUrl, schemaForName, withSchema, withoutPassword } from '../storage/postgres/url.js';
import { createStore, detectBackend, openStore } from '../vault/store.js';
import { isEngineKind } from '../storage/engines.js';
import { Vault, defaultActor } from './vault.js';

export interface OpenVaultOptions {
  /** Where avfs keeps its config (default: $AVFS_HOME or ~/.avfs). */
  home?: string;
  /** Name recorded in the operation log for changes made through this handle. */
  actor?: string;
  /** Backend for a vault that has to be created (default: the config's, else sqlite). */
  backend?: string;
  /** Create the vault if it does not exist yet. */
  create?: boolean;
  /** Start in the working directory that `avfs cd` left for this vault. */
  restoreCwd?: boolean;
  /**
   * false: a commit is not flushed to disk on its own; vault.sync() makes everything committed
   * durable. What a host filesystem promises (durable after fsync), for the mount. A crash of
   * the process loses nothing committed; a power cut may lose what was not synced.
   */
  syncEachWrite?: boolean;
  /** Passphrase of an encrypted (log) vault; default: $AVFS_PASSPHRASE. */
  passphrase?: string;
}

/** The passphrase to open with: the option, else $AVFS_PASSPHRASE (empty counts as none). */
export function passphraseOf(opts: { passphrase?: string }): string | undefined {
  const p = opts.passphrase ?? process.env.AVFS_PASSPHRASE;
  return p === '' ? undefined : p;
}

/** Engine settings that stop flushing each commit (see syncEachWrite; migrate builds its store so). */
export const UNSYNCED: Record<string, Record<string, unknown>> = {
  sqlite: { synchronous: 'normal' },
  lmdb: { no_sync: true },
  log: { no_sync: true },
  rocksdb: { no_sync: true },
};

/**
 * A vault named by a library caller (JavaScript callers are not held to the types): a
 * non-empty string, else one EINVAL line rather than a TypeError from deep inside.
 */
function checkRef(ref: unknown, what: string): asserts ref is string {
  if (typeof ref !== 'string' || ref.trim() === '') throw vfsError('EINVAL', undefined, `${what} must be a name, a path or a URL (a non-empty string, not ${typeof ref === 'string' ? 'a blank one' : typeof ref})`);
}

/**
 * The source vault of a fork or a migrate (`what`: "vault fork"): a name, a path or an open
 * vault, each refused with its own EINVAL line.
 */
export function checkSource(src: unknown, what: string): void {
  if (typeof src === 'string' && src.trim() === '') throw vfsError('EINVAL', undefined, `${what}: the source vault is empty (give a name or a path)`);
  if (typeof src !== 'string' && (typeof src !== 'object' || src === null || !('engine' in src))) throw vfsError('EINVAL', undefined, `${what}: the source must be a vault name, a path or an open vault`);
}

/**
 * Open a vault by registered name or by path; no argument opens the current vault (creating
 * the "default" vault on first use). `openVault(':memory:')` gives a fresh in-memory vault.
 */
export async function openVault(ref?: string, opts: OpenVaultOptions = {}): Promise<Vault> {
  if (ref !== undefined) checkRef(ref, 'openVault: the vault');
  const actor = opts.actor;
  if (ref === ':memory:') {
    const { engine, record } = await createStore('', 'memory', {}, actor);
    return new Vault(engine, record, ':memory:', undefined, actor);
  }
  const home = opts.home ?? avfsHome();
  const reg = new Registry(home);
  // First use: the current vault is "default" and does not exist yet, so make it.
  if (ref === undefined && reg.current === DEFAULT_VAULT && !reg.has(DEFAULT_VAULT)) {
    return createVault(DEFAULT_VAULT, { ...opts, home, backend: opts.backend ?? reg.defaultBackend });
  }
  let found;
  try {
    found = reg.find(ref);
  } catch (e) {
    if (opts.create && ref !== undefined) return createVault(ref, { ...opts, home });
    throw e;
  }
  const backend = found.backend;
  if (isServerBackend(backend)) {
    // No file to look for: the engine asks the server, and says ENOVAULT for a missing schema.
    try {
      const { engine, record } = await openStore(found.path, backend, reg.settingsFor(backend!));
      const v = new Vault(engine, record, found.path, found.name, actor);
      if (opts.restoreCwd) v.cwd = getCwd(home, found.path);
      return v;
    } catch (e) {
      if (opts.create && isVfsError(e, 'ENOVAULT')) return createVault(found.path, { ...opts, home, backend: backend! });
      throw e;
    }
  }
  if (backend !== 'memory' && !existsSync(found.path)) {
    if (opts.create) return createVault(found.path, { ...opts, home });
    throw vfsError('ENOVAULT', found.path, found.name ? `vault "${found.name}" is registered but its store is missing` : 'no vault here');
  }
  const kind = backend ?? detectBackend(found.path);
  const { engine, record } =
    kind === 'memory'
      ? await createStore('', 'memory', {}, actor)
      : await openStore(found.path, kind, { ...reg.settingsFor(kind), ...(opts.syncEachWrite === false ? UNSYNCED[kind] : {}) }, { passphrase: passphraseOf(opts) });
  const v = new Vault(engine, record, found.path, found.name, actor);
  if (opts.restoreCwd) v.cwd = getCwd(home, found.path);
  return v;
}

export interface CreateVaultOptions extends OpenVaultOptions {
  /** Store the vault here instead of $AVFS_HOME/vaults/NAME.avfs (or .lmdb, .log, .rocksdb). */
  path?: string;
  /**
   * postgres: the server, postgres://user@host/db (or ?host=/socket/dir). A vault created by name
   * lives in schema avfs_NAME unless the URL names one (?schema=S); by URL, in the URL's schema
   * (default avfs). A password in it is used but not registered (pg reads PGPASSWORD, ~/.pgpass).
   */
  url?: string;
  /**
   * Encrypt the store at rest with `passphrase` (or $AVFS_PASSPHRASE): the log backend only,
   * which is chosen when no backend is given.
   */
  encrypt?: boolean;
}

/** Create a vault: by name (registered in the config) or by path (not registered). */
export async function createVault(nameOrPath: string, opts: CreateVaultOptions = {}): Promise<Vault> {
  checkRef(nameOrPath, 'createVault: the vault');
  const home = opts.home ?? avfsHome();
  const reg = new Registry(home);
  const serverUrl = opts.url ?? (isPgUrl(nameOrPath) ? nameOrPath : undefined);
  const backend = opts.backend ?? (serverUrl !== undefined ? 'postgres' : opts.encrypt ? 'log' : reg.defaultBackend);
  if (backend === 'postgres' && serverUrl === undefined) {
    throw vfsError('EUSAGE', undefined, 'a postgres vault needs the server: --url postgres://user@host/db (library: url)');
  }
  if (opts.url !== undefined && backend !== 'postgres') throw vfsError('EUSAGE', undefined, `--url is for --backend postgres (not ${backend})`);
  let passphrase: string | undefined;
  if (opts.encrypt) {
    if (backend !== 'log') throw vfsError('EINVAL', undefined, `encryption is available on the log backend only (not ${backend}): use --backend log`);
    passphrase = passphraseOf(opts);
    if (passphrase === undefined) throw vfsError('EPASSPHRASE', undefined, 'an encrypted vault needs a passphrase: set AVFS_PASSPHRASE or enter it when asked');
  }
  if (!isEngineKind(backend)) throw vfsError('EBACKEND', undefined, `unknown backend "${backend}" (choose sqlite, lmdb, log, rocksdb, postgres or memory)`);
  const actor = opts.actor;
  const byPath = looksLikePath(nameOrPath);
  let name: string | undefined;
  let path: string;
  /** What the registry records (a URL without its password). */
  let recorded: string | undefined;
  if (isPgUrl(nameOrPath)) {
    path = nameOrPath;
  } else if (serverUrl !== undefined) {
    checkVaultName(nameOrPath);
    if (reg.has(nameOrPath)) throw vfsError('EEXIST', undefined, `a vault named "${nameOrPath}" already exists`);
    name = nameOrPath;
    path = hasSchema(serverUrl) ? serverUrl : withSchema(serverUrl, schemaForName(name));
    recorded = withoutPassword(path);
  } else if (byPath) {
    path = resolveHost(nameOrPath);
  } else {
    checkVaultName(nameOrPath);
    if (reg.has(nameOrPath)) throw vfsError('EEXIST', undefined, `a vault named "${nameOrPath}" already exists`);
    name = nameOrPath;
    path = opts.path ? resolveHost(opts.path) : reg.defaultPath(name, backend);
  }
  const { engine, record } = await createStore(backend === 'memory' ? '' : path, backend, reg.settingsFor(backend), actor, passphrase);
  if (name) {
    reg.add(name, recorded ?? path, backend);
    reg.save();
  }
  return new Vault(engine, record, recorded ?? path, name, actor);
}

export interface VaultListing {
  name: string;
  path: string;
  backend: string;
  current: boolean;
  exists: boolean;
}

export function listVaults(opts: { home?: string } = {}): VaultListing[] {
  const reg = new Registry(opts.home ?? avfsHome());
  // A server-side store is not looked up (that would connect to every server listed).
  return reg.list().map((v) => ({ ...v, exists: v.backend === 'memory' || isServerBackend(v.backend) || existsSync(v.path) }));
}

export function useVault(name: string, opts: { home?: string } = {}): void {
  checkRef(name, 'useVault: the vault');
  const reg = new Registry(opts.home ?? avfsHome());
  reg.use(name);
  reg.save();
}

/** Register an existing vault store under a name (backend detected and verified). */
export async function registerVault(name: string, path: string, opts: { home?: string } = {}): Promise<void> {
  checkRef(name, 'registerVault: the name');
  checkRef(path, 'registerVault: the store');
  const reg = new Registry(opts.home ?? avfsHome());
  checkVaultName(name);
  if (reg.has(name)) throw vfsError('EEXIST', undefined, `a vault named "${name}" already exists`);
  const abs = isPgUrl(path) ? path : resolveHost(path);
  const backend = detectBackend(abs);
  const { engine } = await openStore(abs, backend, reg.settingsFor(backend), { passphrase: passphraseOf({}) });
  await engine.close();
  reg.add(name, isPgUrl(abs) ? withoutPassword(abs) : abs, backend);
  reg.save();
}

/** Remove a vault's store (a postgres vault: its schema) and its registration. */
export async function deleteVault(name: string, opts: { home?: string } = {}): Promise<{ path: string }> {
  checkRef(name, 'deleteVault: the vault');
  const reg = new Registry(opts.home ?? avfsHome());
  const v = reg.find(name);
  if (!v.name) throw vfsError('EINVAL', undefined, 'vault delete takes a registered name');
  if (isServerBackend(v.backend)) {
    const { dropPostgresStore } = await import('../storage/postgres/engine.js');
    try {
      await dropPostgresStore(v.path, reg.settingsFor(v.backend!));
    } catch (e) {
      // Already gone: the registration still goes. Anything else (server down) keeps it.
      if (!isVfsError(e, 'ENOVAULT')) throw e;
    }
  } else if (v.backend !== 'memory' && existsSync(v.path)) {
    // Only ever remove what is really a vault store (never a folder that merely has the name).
    detectBackend(v.path);
    rmSync(v.path, { recursive: true, force: true });
    // -notify: the change marker agent memory keeps beside a sqlite store (src/memory/notify.ts).
    for (const extra of ['-wal', '-shm', '-journal', '-notify']) rmSync(v.path + extra, { force: true });
  }
  reg.remove(v.name);
  reg.save();
  return { path: v.path };
}
