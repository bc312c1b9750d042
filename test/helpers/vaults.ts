// Factories that make real vaults on each engine, for the suites that run on every engine.
import { before, after } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVault, openVault, type Vault } from '../../src/index.js';
import type { VaultFactory } from '../suites/fs.suite.js';

export const STORE_NAME: Record<string, string> = { sqlite: 'v.avfs', lmdb: 'v.lmdb', log: 'v.log', memory: '' };

export function vaultFactory(kind: 'sqlite' | 'lmdb' | 'log' | 'memory'): VaultFactory {
  return {
    kind,
    persistent: kind !== 'memory',
    create: (dir) =>
      kind === 'memory' ? openVault(':memory:') : createVault(join(dir, STORE_NAME[kind]), { backend: kind, home: join(dir, 'home') }),
    reopen: (dir) => openVault(join(dir, STORE_NAME[kind]), { home: join(dir, 'home') }),
  };
}

export const ENGINES = ['memory', 'sqlite', 'lmdb', 'log'] as const;

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
