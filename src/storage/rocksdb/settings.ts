// [backend.rocksdb] settings and their defaults.
import type { OpenOptions } from '../contract.js';
import { SettingsReader } from '../settings.js';

export interface RocksSettings {
  /** Commit without fsync: a crash of the machine (not of the process) can lose recent commits. */
  noSync: boolean;
  /** How long a process waits for another one to hand the store over before failing with EBUSY. */
  lockTimeoutMs: number;
  /** How long a process keeps the store once another one is waiting, if it has work to do. */
  holdMs: number;
}

export function readRocksSettings(opts: OpenOptions): RocksSettings {
  const r = new SettingsReader('backend.rocksdb', opts.settings);
  const s: RocksSettings = {
    noSync: r.bool('no_sync', false),
    lockTimeoutMs: r.int('lock_timeout_ms', 60_000, 0),
    // A handover closes and opens RocksDB (tens of ms); keeping the store this long first lets a
    // busy process do many transactions per handover instead of one (4 processes writing in
    // turns: 50 ms took 4.5 times as long as 150).
    holdMs: r.int('hold_ms', 150, 0),
  };
  r.done();
  return s;
}
