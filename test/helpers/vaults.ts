// Factories that make real vaults on each engine, for the suites that run on every engine.
import { join } from 'node:path';
import { createVault, openVault } from '../../src/index.js';
import type { VaultFactory } from '../suites/fs.suite.js';

export const STORE_NAME: Record<string, string> = { sqlite: 'v.avfs', lmdb: 'v.lmdb', memory: '' };

export function vaultFactory(kind: 'sqlite' | 'lmdb' | 'memory'): VaultFactory {
  return {
    kind,
    persistent: kind !== 'memory',
    create: (dir) =>
      kind === 'memory' ? openVault(':memory:') : createVault(join(dir, STORE_NAME[kind]), { backend: kind, home: join(dir, 'home') }),
    reopen: (dir) => openVault(join(dir, STORE_NAME[kind]), { home: join(dir, 'home') }),
  };
}

export const ENGINES = ['memory', 'sqlite', 'lmdb'] as const;
