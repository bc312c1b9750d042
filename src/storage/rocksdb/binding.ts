// The RocksDB binding (@nxtedition/rocksdb) is an optional dependency: it is imported only when a
// rocksdb vault is opened, and its absence is one clear EBACKEND line, not a stack trace. The
// engine talks to the binding's synchronous methods (the underscore ones under abstract-level):
// a transaction's reads then run without a turn of the event loop in between, which is what
// lets a commit pin the snapshot of every read running in this process (see tx.ts).
import { vfsError } from '../../errors.js';
import { oneLine } from '../messages.js';

export interface RocksIterator {
  _seekSync(target: Buffer): void;
  _nextvSync(size: number, options?: object): { rows: (Buffer | undefined)[]; finished: boolean };
  _closeSync(): void;
}

export interface RocksBatch {
  _put(key: Buffer, value: Buffer, options?: object): void;
  _del(key: Buffer, options?: object): void;
  _writeSync(options: { sync?: boolean }): void;
  _closeSync(): void;
}

export interface IteratorOptions {
  gt?: Buffer;
  gte?: Buffer;
  lt?: Buffer;
  lte?: Buffer;
  reverse?: boolean;
  limit?: number;
  keys?: boolean;
  values?: boolean;
  keyEncoding: 'buffer';
  valueEncoding: 'buffer';
}

export interface RocksDb {
  open(options: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
  _getManySync(keys: Buffer[], options: object): (Buffer | undefined)[];
  _chainedBatch(): RocksBatch;
  _iterator(options: IteratorOptions): RocksIterator;
  getProperty(name: string): string;
}

export type RocksDbClass = new (location: string) => RocksDb;

/** One batch: filled by `fill`, written (fsynced with `sync`), and closed whatever happens. */
export function writeBatch(db: RocksDb, sync: boolean, fill: (batch: RocksBatch) => void): void {
  const batch = db._chainedBatch();
  try {
    fill(batch);
    batch._writeSync({ sync });
  } finally {
    batch._closeSync();
  }
}

const PACKAGE = '@nxtedition/rocksdb';
let loaded: Promise<RocksDbClass> | undefined;

/** The binding's database class; EBACKEND when the optional package is missing or cannot load here. */
export function loadRocks(): Promise<RocksDbClass> {
  loaded ??= (async () => {
    try {
      // A variable, so TypeScript does not look for the package's (absent) type declarations.
      const name: string = PACKAGE;
      const m = (await import(name)) as { RocksLevel?: RocksDbClass; default?: { RocksLevel?: RocksDbClass } };
      const cls = m.RocksLevel ?? m.default?.RocksLevel;
      if (typeof cls !== 'function') throw new Error('it has no RocksLevel export');
      return cls;
    } catch (e) {
      loaded = undefined;
      throw vfsError(
        'EBACKEND',
        undefined,
        `the rocksdb backend needs the optional package ${PACKAGE}, which cannot be loaded here (${oneLine((e as Error)?.message ?? String(e))}); install it with: npm install ${PACKAGE}`,
      );
    }
  })();
  return loaded;
}

/** What every open is asked for (RocksDB's own defaults otherwise). */
export const OPEN_OPTIONS = {
  createIfMissing: false,
  // One background thread: a store is one of many small things on an agent's machine.
  parallelism: 1,
  // No infoLogLevel: the binding then gives RocksDB a null logger. With any level RocksDB keeps
  // a LOG file and renames the last one to LOG.old.<time> on every open: one file per handover.
} as const;
