// The engine registry. Each engine is imported only when a vault of its kind is opened, so
// that `avfs cat` on a SQLite vault never loads LMDB (start-up time is a measured target).
import { vfsError } from '../errors.js';
import type { Engine, EngineKind, OpenOptions } from './contract.js';
import { ENGINE_KINDS } from './contract.js';

export function isEngineKind(s: string): s is EngineKind {
  return (ENGINE_KINDS as readonly string[]).includes(s);
}

export async function openEngine(kind: string, opts: OpenOptions): Promise<Engine> {
  switch (kind) {
    case 'sqlite':
      return (await import('./sqlite/engine.js')).openSqlite(opts);
    case 'lmdb':
      return (await import('./lmdb/engine.js')).openLmdb(opts);
    case 'memory':
      return (await import('./memory/engine.js')).openMemory(opts);
    default:
      throw vfsError('EBACKEND', undefined, `unknown backend "${kind}" (choose one of: ${ENGINE_KINDS.join(', ')})`);
  }
}
