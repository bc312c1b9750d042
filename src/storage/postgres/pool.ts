// One pg.Pool per process per server URL, shared by every engine open on it and ended when the
// last of them closes, so a process that closed its vaults can exit.
import pg from 'pg';
import type { PgSettings } from './settings.js';

interface Shared {
  pool: pg.Pool;
  users: number;
}

const pools = new Map<string, Shared>();

export function acquirePool(conn: string, s: PgSettings): pg.Pool {
  let sh = pools.get(conn);
  if (!sh) {
    const pool = new pg.Pool({
      connectionString: conn,
      max: s.poolMax,
      connectionTimeoutMillis: s.connectTimeoutMs,
      idleTimeoutMillis: 10_000,
      // Idle connections never keep the process alive (a CLI command that forgot nothing still exits).
      allowExitOnIdle: true,
      // A machine that vanished mid-transaction holds the vault's write lock until the server
      // notices; keepalives make it notice.
      keepAlive: true,
      application_name: 'avfs',
    });
    // An idle connection that fails (server restart) is dropped by the pool; without a
    // listener the 'error' event would take the process down.
    pool.on('error', () => {});
    sh = { pool, users: 0 };
    pools.set(conn, sh);
  }
  sh.users++;
  return sh.pool;
}

export async function releasePool(conn: string): Promise<void> {
  const sh = pools.get(conn);
  if (!sh) return;
  if (--sh.users > 0) return;
  pools.delete(conn);
  await sh.pool.end().catch(() => {});
}
