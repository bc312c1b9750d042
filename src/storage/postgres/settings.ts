// [backend.postgres] settings and their defaults.
import type { OpenOptions } from '../contract.js';
import { SettingsReader } from '../settings.js';

export interface PgSettings {
  /** Connections per process per server URL (shared by every vault on it). */
  poolMax: number;
  /** How long connecting may take before EBACKEND. */
  connectTimeoutMs: number;
  /** How long a writer waits for another client's write transaction before EBUSY. */
  lockTimeoutMs: number;
  /** Bytes of records kept between transactions (cache.ts); 0 turns the cache off. */
  cacheBytes: number;
}

export function readPgSettings(opts: OpenOptions): PgSettings {
  const r = new SettingsReader('backend.postgres', opts.settings);
  const s: PgSettings = {
    // Writers of one vault take turns anyway; a few connections let reads run beside a write.
    poolMax: r.int('pool_max', 4, 1),
    connectTimeoutMs: r.int('connect_timeout_ms', 10_000, 1),
    lockTimeoutMs: r.int('lock_timeout_ms', 60_000, 0),
    cacheBytes: r.int('cache_mb', 64, 0) * 1024 * 1024,
  };
  r.done();
  return s;
}
