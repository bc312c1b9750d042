// The engine registry. SQLite, the default, is imported with this module (its native driver is
// still loaded only when a store is opened): one wave of module loading fewer on the path of
// every short command. The others are imported only when a vault of their kind is opened, so
// `avfs cat` on a SQLite vault never loads LMDB (start-up time is a measured target).
import { vfsError } from '../errors.js';
import { openSqlite } from './sqlite/engine.js';
import type { Engine, EngineKind, OpenOptions } from './contract.js';
import { ENGINE_KINDS } from './contract.js';

export function isEngineKind(s: string): s is EngineKind {
  return (ENGINE_KINDS as readonly string[]).includes(s);
}

export async function openEngine(kind: string, opts: OpenOptions): Promise<Engine> {
  switch (kind) {
    case 'sqlite':
      return openSqlite(opts);
    case 'lmdb':
      return (await import('./lmdb/engine.js')).openLmdb(opts);
    case 'memory':
      return (await import('./memory/engine.js')).openMemory(opts);
    case 'log':
      return (await import('./log/engine.js')).openLog(opts);
    case 'rocksdb':
      return (await import('./rocksdb/engine.js')).openRocks(opts);
    case 'postgres':
      return (await import('./postgres/engine.js')).openPostgres(opts);
    default:
      throw vfsError('EBACKEND', undefined, `unknown backend "${kind}" (choose one of: ${ENGINE_KINDS.join(', ')})`);
  }
}
