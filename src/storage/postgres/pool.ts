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

// A read transaction's COMMIT is not waited for (PgEngine.read): the connection goes back to the
// pool with its read-only transaction still open and owes the COMMIT. Whoever takes the
// connection next pays it: a read or write puts it in front of its own BEGIN (one round trip
// where there were two), anything else sends it first. A connection nobody takes sends it on its
// own once the event loop turns (setImmediate), so no snapshot is held open past that: the
// snapshot was the caller's, finished when its callback returned, and holding it only keeps the
// server from cleaning up rows (and DDL such as VACUUM FULL waiting) for that moment. The pool
// is shared by every vault on the server, so what is owed is kept here, by connection.
const owed = new Map<pg.PoolClient, () => void>();

/** `c` is going back to the pool with a read transaction open; resolves once that is settled. */
export function oweCommit(c: pg.PoolClient): Promise<void> {
  return new Promise((resolve) => {
    owed.set(c, resolve);
    setImmediate(() => {
      if (owed.get(c) !== resolve) return; // taken, and settled by its taker
      owed.delete(c);
      // The pool unrefs an idle connection's socket (allowExitOnIdle), so this timer keeps the
      // process alive until the COMMIT is answered (an engine's close() waits for it). A
      // connection that broke meanwhile fails it: the pool drops it on its own error event.
      const alive = setInterval(() => {}, 60_000);
      const done = () => {
        clearInterval(alive);
        resolve();
      };
      c.query('COMMIT').then(done, done);
    });
  });
}

/** Take `c`'s owed COMMIT, if any: true when the caller must send it before anything else. */
export function takeOwedCommit(c: pg.PoolClient): boolean {
  const settled = owed.get(c);
  if (settled === undefined) return false;
  owed.delete(c);
  settled();
  return true;
}
