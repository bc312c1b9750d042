// Factories that make real vaults on each engine, for the suites that run on every engine.
import { before, after } from 'node:test';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { createVault, openVault, type Vault } from '../../src/index.js';
import type { VaultFactory } from '../suites/fs.suite.js';
import { pgTestUrl } from './pg-cluster.js';

export type EngineName = 'sqlite' | 'lmdb' | 'log' | 'rocksdb' | 'memory' | 'postgres';

/** The store's file or folder name in a test folder; '' for stores that are not files (memory, postgres). */
export const STORE_NAME: Record<string, string> = { sqlite: 'v.avfs', lmdb: 'v.lmdb', log: 'v.log', rocksdb: 'v.rocksdb', memory: '', postgres: '' };

/**
 * Why the rocksdb suites cannot run here (its binding is an optional dependency that may be
 * missing or not load on this platform), or false when they can. Printed once per test file.
 */
export const ROCKS_SKIP: string | false = (() => {
  try {
    createRequire(import.meta.url)('@nxtedition/rocksdb');
    return false;
  } catch (e) {
    const why = `rocksdb binding unavailable, rocksdb suites skipped: ${String((e as Error)?.message ?? e).split('\n')[0]}`;
    process.stderr.write(`# ${why}\n`);
    return why;
  }
})();

/**
 * Where a vault of `kind` named `name` lives for a test folder `dir`: a path for the file
 * engines, a URL with a schema of its own on the test cluster for postgres (the same folder and
 * name give the same schema, so a reopen finds it).
 */
export function storeRef(kind: EngineName, dir: string, name = STORE_NAME[kind] || 'v'): string {
  if (kind !== 'postgres') return join(dir, name);
  const url = pgTestUrl();
  if (!url) throw new Error('no PostgreSQL test cluster');
  const schema = 'v_' + createHash('sha256').update(`${resolve(dir)}\0${name}`).digest('hex').slice(0, 24);
  return `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`;
}

export function vaultFactory(kind: EngineName): VaultFactory {
  return {
    kind,
    persistent: kind !== 'memory',
    create: (dir) =>
      kind === 'memory' ? openVault(':memory:') : createVault(storeRef(kind, dir), { backend: kind, home: join(dir, 'home') }),
    reopen: (dir) => openVault(storeRef(kind, dir), { home: join(dir, 'home') }),
  };
}

/** Every engine; rocksdb when its optional binding loads, postgres only when a test cluster runs. */
export const ENGINES: readonly EngineName[] = [
  'memory',
  'sqlite',
  'lmdb',
  'log',
  ...(ROCKS_SKIP ? [] : (['rocksdb'] as const)),
  ...(pgTestUrl() ? (['postgres'] as const) : []),
];

/**
 * Vaults for a suite that wants a fresh one per test: each in its own folder under one temp
 * folder; `fresh()` closes the previous vault, `reopen()` closes the current one and opens the
 * last made again (persistent engines). Call inside describe(): it registers the hooks that
 * make and remove the folder.
 */
export function freshVaults(f: VaultFactory, prefix: string): { fresh(): Promise<Vault>; reopen(): Promise<Vault> } {
  let dir = '';
  let v: Vault | undefined;
  let n = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), `${prefix}-${f.kind}-`));
  });
  after(async () => {
    await v?.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    async fresh() {
      await v?.close();
      const d = join(dir, String(n++));
      mkdirSync(d);
      return (v = await f.create(d));
    },
    async reopen() {
      await v?.close().catch(() => {});
      return (v = await f.reopen(join(dir, String(n - 1))));
    },
  };
}
