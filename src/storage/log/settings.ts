// [backend.log] settings and their defaults.
import type { OpenOptions } from '../contract.js';
import { SettingsReader } from '../settings.js';

export interface LogSettings {
  /** Skip the fdatasyncs at commit: a crash of the machine (not of the process) can lose recent commits. */
  noSync: boolean;
  /** Write a checkpoint and start a new log once the log is this long. */
  checkpointBytes: number;
  /** Values of large collections at least this long go to chunk files; shorter ones stay in the log. */
  inlineMax: number;
  /**
   * A transaction whose chunk-file values total at most this many bytes keeps them in its log
   * record instead (one file written and flushed at commit, not two); the next checkpoint copies
   * them out. 0: every such value goes to a chunk file at commit.
   */
  inlineTxMax: number;
  /** Start a new chunk file once the current one is this long. */
  chunkFileBytes: number;
  /** How long a writer waits for another process's lock before failing with EBUSY. */
  lockTimeoutMs: number;
}

export function readLogSettings(opts: OpenOptions): LogSettings {
  const r = new SettingsReader('backend.log', opts.settings);
  const s: LogSettings = {
    noSync: r.bool('no_sync', false),
    // Bounds what an open replays; each checkpoint costs a write of the whole index.
    checkpointBytes: r.bytes('checkpoint_bytes', 32 * 1024 * 1024),
    // Below a disk block, a value costs no more in the log than in a chunk file, and inline it
    // needs no second flush at commit; above it, the index would hold too much in memory.
    inlineMax: r.bytes('inline_max', 4096),
    // One 64 KiB content chunk and its manifests (a small overwrite) fit with room to spare;
    // much more would make each record a large write and fill the log towards a checkpoint fast.
    inlineTxMax: r.bytes('inline_tx_max', 256 * 1024),
    chunkFileBytes: r.bytes('chunk_file_bytes', 1024 * 1024 * 1024),
    lockTimeoutMs: r.int('lock_timeout_ms', 60_000, 0),
  };
  r.done();
  return s;
}
