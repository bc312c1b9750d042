// config.toml: defaults, per-backend settings and the vault registry, e.g.
//
//   [defaults]
//   backend = "sqlite"      # for new vaults
//   vault = "default"       # the current vault (avfs vault use NAME)
//
//   [vaults.notes]
//   path = "/home/me/.avfs/vaults/notes.avfs"
//   backend = "sqlite"
//
//   [vaults.team]            # a vault on a PostgreSQL server: its URL, never a password
//   url = "postgres://agent@db.example/avfs?schema=avfs_team"
//   backend = "postgres"
//
//   [backend.sqlite]
//   synchronous = "full"
//
// The file is rewritten whole through a temp file and a rename, so a crash never leaves half.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse, stringify } from 'smol-toml';
import { vfsError } from '../errors.js';
import { configFile } from './home.js';

export interface VaultEntry {
  path: string;
  backend: string;
}

export interface Config {
  defaults: { backend?: string; vault?: string };
  vaults: Record<string, VaultEntry>;
  backend: Record<string, Record<string, unknown>>;
}

export function loadConfig(home: string): Config {
  const file = configFile(home);
  const cfg: Config = { defaults: {}, vaults: {}, backend: {} };
  if (!existsSync(file)) return cfg;
  let raw: Record<string, unknown>;
  try {
    raw = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    const line = (e as { line?: number }).line;
    throw vfsError('EINVAL', file, `config file is not valid TOML${line ? ` (line ${line})` : ''}`);
  }
  const section = (k: string): Record<string, unknown> => {
    const v = raw[k];
    if (v === undefined) return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw vfsError('EINVAL', file, `[${k}] must be a table`);
    return v as Record<string, unknown>;
  };
  const d = section('defaults');
  if (typeof d.backend === 'string') cfg.defaults.backend = d.backend;
  if (typeof d.vault === 'string') cfg.defaults.vault = d.vault;
  for (const [name, v] of Object.entries(section('vaults'))) {
    const e = v as Partial<VaultEntry> & { url?: unknown };
    // A server-side store is recorded as `url`; in memory it is the vault's path like any other.
    const where = typeof e?.url === 'string' ? e.url : e?.path;
    if (typeof where === 'string' && typeof e?.backend === 'string') cfg.vaults[name] = { path: where, backend: e.backend };
  }
  for (const [name, v] of Object.entries(section('backend'))) {
    if (typeof v === 'object' && v !== null) cfg.backend[name] = v as Record<string, unknown>;
  }
  return cfg;
}

export function saveConfig(home: string, cfg: Config): void {
  const file = configFile(home);
  mkdirSync(dirname(file), { recursive: true });
  const vaults = Object.fromEntries(
    Object.entries(cfg.vaults).map(([name, v]) => [name, v.backend === 'postgres' ? { url: v.path, backend: v.backend } : v]),
  );
  const doc: Record<string, unknown> = { defaults: cfg.defaults, vaults };
  if (Object.keys(cfg.backend).length > 0) doc.backend = cfg.backend;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, stringify(doc) + '\n');
  renameSync(tmp, file);
}
