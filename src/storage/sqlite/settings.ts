// [backend.sqlite] settings and their defaults.
import type { OpenOptions } from '../contract.js';
import { SettingsReader } from '../settings.js';

export const SYNCHRONOUS = ['off', 'normal', 'full', 'extra'] as const;
// 'memory' and 'off' journals cannot roll back after a crash, so they are not offered.
export const JOURNAL_MODES = ['wal', 'delete', 'truncate', 'persist'] as const;

export interface SqliteSettings {
  synchronous: (typeof SYNCHRONOUS)[number];
  journalMode: (typeof JOURNAL_MODES)[number];
  /** SQLite's own unit: positive = pages, negative = KiB. */
  cacheSize: number;
  mmapSize: number;
  busyTimeoutMs: number;
}

export function readSqliteSettings(opts: OpenOptions): SqliteSettings {
  const r = new SettingsReader('backend.sqlite', opts.settings);
  const s: SqliteSettings = {
    // 'full': a write that returned survives power loss, not only a crash of the process.
    synchronous: r.oneOf('synchronous', SYNCHRONOUS, 'full'),
    // WAL: readers never block the writer, and a commit is one sequential append.
    journalMode: r.oneOf('journal_mode', JOURNAL_MODES, 'wal'),
    cacheSize: r.int('cache_size', -16384),
    // No mmap by default: if the file is truncated under us, a mapped read kills the process
    // with SIGBUS, where a read() returns an error we can report.
    mmapSize: r.bytes('mmap_size', 0),
    // How long to wait for another process's write lock before failing with EBUSY, in all.
    // Long: several agents may write one vault, and waiting beats failing.
    busyTimeoutMs: r.int('busy_timeout_ms', 60_000, 0),
  };
  r.done();
  return s;
}
