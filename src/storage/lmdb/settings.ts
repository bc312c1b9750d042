// [backend.lmdb] settings and their defaults.
import type { OpenOptions } from '../contract.js';
import { SettingsReader } from '../settings.js';

export interface LmdbSettings {
  /** Initial map size; LMDB grows it as the store grows (lmdb-js patches mdb_page_alloc). */
  mapSize: number;
  /** Reader slots in lock.mdb, fixed by whichever process creates the lock file. */
  maxReaders: number;
  /** Skip the fsync at commit: a crash of the machine (not of the process) can lose recent commits. */
  noSync: boolean;
}

export function readLmdbSettings(opts: OpenOptions): LmdbSettings {
  const r = new SettingsReader('backend.lmdb', opts.settings);
  const s: LmdbSettings = {
    mapSize: r.bytes('map_size', 64 * 1024 * 1024),
    maxReaders: r.int('max_readers', 126, 1),
    noSync: r.bool('no_sync', false),
  };
  r.done();
  return s;
}
