// The vault registry: names in config.toml mapped to where each vault is stored, which one is
// current, and the working directory kept per vault in state.json (so relative paths work
// across separate `avfs` calls).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve as resolveHost, dirname } from 'node:path';
import { vfsError } from '../errors.js';
import { loadConfig, saveConfig, type Config } from './config.js';
import { stateFile, vaultsDir } from './home.js';
import { isPgUrl, withoutPassword } from '../storage/postgres/url.js';

export const DEFAULT_VAULT = 'default';
export const DEFAULT_BACKEND = 'sqlite';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const STORE_SUFFIX: Record<string, string> = { sqlite: '.avfs', lmdb: '.lmdb', log: '.log', rocksdb: '.rocksdb', memory: '' };

/** Backends whose stores live on a server, at a URL (no file here to look for or remove). */
export function isServerBackend(backend: string | undefined): boolean {
  return backend === 'postgres';
}

export interface VaultRef {
  /** Registered name, if the vault was named (or found by path among the registered). */
  name?: string;
  /** A file or folder, or a server URL (postgres; recorded without its password). */
  path: string;
  /** Known from the registry; undefined when opened by path (then detected). */
  backend?: string;
}

export function checkVaultName(name: string): void {
  if (name.includes('/')) throw vfsError('EINVAL', undefined, `vault name "${name}" may not contain '/' (use --vault PATH to open a vault by path)`);
  if (!NAME_RE.test(name)) {
    throw vfsError('EINVAL', undefined, `bad vault name "${name}": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
}

/** Does this --vault argument name a file or folder rather than a registered vault? */
export function looksLikePath(ref: string): boolean {
  return ref.includes('/') || ref.endsWith('.avfs') || ref.endsWith('.lmdb') || ref.endsWith('.log') || ref.endsWith('.rocksdb') || ref === '.' || ref === '..';
}

export class Registry {
  readonly cfg: Config;
  constructor(readonly home: string) {
    this.cfg = loadConfig(home);
  }

  save(): void {
    saveConfig(this.home, this.cfg);
  }

  get current(): string {
    return this.cfg.defaults.vault ?? DEFAULT_VAULT;
  }

  get defaultBackend(): string {
    return this.cfg.defaults.backend ?? DEFAULT_BACKEND;
  }

  settingsFor(backend: string): Record<string, unknown> {
    return this.cfg.backend[backend] ?? {};
  }

  defaultPath(name: string, backend: string): string {
    return backend === 'memory' ? `memory:${name}` : join(vaultsDir(this.home), name + (STORE_SUFFIX[backend] ?? ''));
  }

  /** Find a vault by name or path; undefined `ref` means the current vault. */
  find(ref: string | undefined): VaultRef {
    const r = ref ?? this.current;
    if (isPgUrl(r)) {
      // Registered URLs carry no password; the one asked for may.
      const bare = withoutPassword(r);
      const named = Object.entries(this.cfg.vaults).find(([, v]) => v.path === bare || v.path === r);
      return named ? { name: named[0], path: r, backend: named[1].backend } : { path: r, backend: 'postgres' };
    }
    if (looksLikePath(r)) {
      const path = resolveHost(r);
      const named = Object.entries(this.cfg.vaults).find(([, v]) => v.path === path);
      return named ? { name: named[0], path, backend: named[1].backend } : { path };
    }
    checkVaultName(r);
    const e = this.cfg.vaults[r];
    if (!e) {
      throw vfsError('ENOVAULT', undefined, `no vault named "${r}" (see avfs vault list; avfs vault create ${r} makes one)`);
    }
    return { name: r, path: e.path, backend: e.backend };
  }

  has(name: string): boolean {
    return name in this.cfg.vaults;
  }

  add(name: string, path: string, backend: string): void {
    checkVaultName(name);
    if (this.has(name)) throw vfsError('EEXIST', undefined, `a vault named "${name}" already exists`);
    this.cfg.vaults[name] = { path, backend };
  }

  remove(name: string): void {
    delete this.cfg.vaults[name];
    if (this.cfg.defaults.vault === name) delete this.cfg.defaults.vault;
  }

  use(name: string): void {
    this.find(name);
    this.cfg.defaults.vault = name;
  }

  list(): { name: string; path: string; backend: string; current: boolean }[] {
    return Object.entries(this.cfg.vaults)
      .map(([name, v]) => ({ name, ...v, current: name === this.current }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

// ---- per-vault working directory ---------------------------------------------------------

interface State {
  cwd: Record<string, string>;
}

function loadState(home: string): State {
  try {
    const s = JSON.parse(readFileSync(stateFile(home), 'utf8')) as State;
    return s && typeof s.cwd === 'object' && s.cwd !== null ? s : { cwd: {} };
  } catch {
    return { cwd: {} };
  }
}

export function getCwd(home: string, vaultPath: string): string {
  const c = loadState(home).cwd[vaultPath];
  return typeof c === 'string' && c.startsWith('/') ? c : '/';
}

export function setCwd(home: string, vaultPath: string, cwd: string): void {
  const s = loadState(home);
  if (cwd === '/') delete s.cwd[vaultPath];
  else s.cwd[vaultPath] = cwd;
  const file = stateFile(home);
  if (!existsSync(dirname(file))) mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(s, null, 1) + '\n');
  renameSync(tmp, file);
}
