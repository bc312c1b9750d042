// The PostgreSQL engine: a vault in a schema of its own on a server that many processes on many
// machines share (schema in schema.ts, address in url.ts, docs/engines.md "postgres").
//
// Isolation: a read is one REPEATABLE READ READ ONLY transaction (one snapshot for the whole
// callback). A write is READ COMMITTED under a transaction-scoped advisory lock that every writer
// of the vault takes first: writers take turns, each statement of the holder sees every commit
// before it, and nothing else writes meanwhile, so writes are serialisable with no
// serialization failures to retry (a callback is never run twice). The lock goes with the
// transaction, so a client killed mid-write (its connection closes) leaves nothing and blocks
// no one. Commits NOTIFY the vault's channel (in the same transaction, so only a committed
// change is announced, and only once it is visible); notify.ts LISTENs for src/memory/notify.ts.
// Each transaction begins by reading the store's stamp, which every write commit replaces: it
// tells whether the engine's EntryCache (cache.ts) holds the state the transaction sees.
import type pg from 'pg';
import { vfsError } from '../../errors.js';
import type { Collection, CompactStats, Engine, EngineStats, OpenOptions, ReadTx, WriteTx } from '../contract.js';
import { COLLECTION_NAMES } from '../contract.js';
import { fromPg } from './errors.js';
import { listen, type Listening } from './notify.js';
import { acquirePool, oweCommit, releasePool, takeOwedCommit } from './pool.js';
import { EntryCache } from './cache.js';
import { createSchema, getStamp, ident, inspect, judge, names, nextStamp, setStamp, STORE_FORMAT, upgradeSchema, type Names } from './schema.js';
import { readPgSettings, type PgSettings } from './settings.js';
import { INLINE_BYTES, PgReadTx, PgWriteTx, type Session } from './tx.js';
import { parsePgUrl, type PgLocator } from './url.js';

export class PgEngine implements Engine {
  readonly kind = 'postgres' as const;
  readonly supports = { persistent: true, multiProcess: true, fullText: false, cheapCopy: false };
  private closed = false;
  private active = new Set<Promise<unknown>>();
  private readonly cache: EntryCache;

  constructor(
    private pool: pg.Pool,
    readonly loc: PgLocator,
    readonly n: Names,
    private settings: PgSettings,
    private readOnly: boolean,
  ) {
    this.cache = new EntryCache(settings.cacheBytes);
  }

  /** Cross-process change events for src/memory/notify.ts: one LISTEN per vault per process. */
  get changes(): { key: string; listen(onChange: () => void): Listening } {
    return { key: `postgres:${this.loc.conn}#${this.n.schema}`, listen: (onChange) => listen(this.loc.conn, this.n.schema, onChange) };
  }

  private live(): void {
    if (this.closed) throw vfsError('EIO', this.loc.display, 'store is closed');
  }

  private async connect(): Promise<pg.PoolClient> {
    this.live();
    try {
      return await this.pool.connect();
    } catch (e) {
      throw fromPg(e, this.loc.display);
    }
  }

  /**
   * Run on a pooled connection; a connection that failed is discarded, not reused. A read
   * transaction left open on it (pool.ts oweCommit) is committed first; `lazy` callers (read and
   * write, whose first statement is a BEGIN) get it as a prefix for that statement instead.
   */
  private async session<T>(fn: (c: pg.PoolClient, commitFirst: string) => Promise<T>, lazy = false): Promise<T> {
    const run = (async () => {
      const c = await this.connect();
      let broken: Error | undefined;
      try {
        const owes = takeOwedCommit(c);
        if (owes && !lazy) await this.sql(c, 'COMMIT');
        return await fn(c, owes && lazy ? 'COMMIT; ' : '');
      } catch (e) {
        // Whatever state the connection is in, do not hand it to the next transaction.
        if (!(e instanceof CallerError)) broken = e instanceof Error ? e : new Error(String(e));
        throw e;
      } finally {
        c.release(broken);
      }
    })();
    this.track(run);
    return run;
  }

  /** Work the engine's close() waits for. */
  private track(p: Promise<unknown>): void {
    this.active.add(p);
    const done = () => this.active.delete(p);
    p.then(done, done);
  }

  private async rollback(c: pg.PoolClient): Promise<boolean> {
    try {
      await c.query('ROLLBACK');
      return true;
    } catch {
      return false;
    }
  }

  async read<T>(fn: (tx: ReadTx) => Promise<T>): Promise<T> {
    return this.session(async (c, commitFirst) => {
      // The stamp is read by the statement that takes the snapshot: it is the snapshot's.
      const stamp = lastValue(await this.sql(c, `${commitFirst}BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ${getStamp(this.n)}`));
      const tx = new PgReadTx(this.txSession(c, stamp));
      try {
        const result = await fn(tx);
        tx.finished = true;
        // The COMMIT of a read-only transaction cannot fail and changes nothing: the caller does
        // not wait for it (pool.ts oweCommit).
        this.track(oweCommit(c));
        return result;
      } catch (e) {
        tx.finished = true;
        if (!(await this.rollback(c))) throw fromPg(e, this.loc.display);
        throw new CallerError(e);
      }
    }, true).catch(unwrap);
  }

  async write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    if (this.readOnly) throw vfsError('EROFS', this.loc.display);
    return this.session(async (c, commitFirst) => {
      // One round trip: begin, bound the wait, take the vault's writer lock, read the stamp (after
      // the lock, so no other commit can replace it before ours).
      const begun = await this.sql(c, `${commitFirst}BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = ${this.settings.lockTimeoutMs}; SELECT pg_advisory_xact_lock(${this.n.lockKey}); ${getStamp(this.n)}`);
      const from = lastValue(begun);
      const tx = new PgWriteTx(this.txSession(c, from));
      let result: T;
      try {
        result = await fn(tx);
        await tx.flush(undefined, INLINE_BYTES); // what is left goes in the commit's statement
      } catch (e) {
        tx.finished = true;
        if (!(await this.rollback(c))) throw fromPg(e, this.loc.display);
        throw new CallerError(e);
      }
      tx.finished = true;
      const changes = tx.inlineFlush();
      if (!tx.wrote && changes === '') {
        await this.sql(c, 'COMMIT');
        return result;
      }
      const to = nextStamp(from);
      try {
        await this.sql(c, `${changes}${setStamp(this.n, to)}; NOTIFY ${this.n.channel}; COMMIT`);
      } catch (e) {
        this.cache.drop(); // committed or not: unknown
        throw e;
      }
      this.cache.committed(from, to, tx.written, tx.wroteColls);
      return result;
    }, true).catch(unwrap);
  }

  private txSession(client: pg.PoolClient, stamp: string | undefined): Session {
    return { client, names: this.n, display: this.loc.display, cache: this.cache, stamp, cached: this.cache.adopt(stamp) };
  }

  private async sql(c: pg.PoolClient, text: string): Promise<pg.QueryResult> {
    try {
      return await c.query(text);
    } catch (e) {
      throw fromPg(e, this.loc.display);
    }
  }

  async sync(): Promise<void> {
    // A commit that returned is durable on the server (synchronous_commit is the server's call).
    this.live();
  }

  private async sizes(c: pg.PoolClient): Promise<{ total: number; store: number; entries: number }> {
    const r = await this.sql(c, `SELECT pg_total_relation_size('${this.n.entries}') AS entries, pg_total_relation_size('${this.n.store}') AS store`);
    const entries = Number(r.rows[0].entries);
    const store = Number(r.rows[0].store);
    return { total: entries + store, entries, store };
  }

  async compact(): Promise<CompactStats> {
    if (this.readOnly) throw vfsError('EROFS', this.loc.display);
    return this.session(async (c) => {
      const before = (await this.sizes(c)).total;
      // FULL rewrites the tables without dead rows (a plain VACUUM only marks space reusable,
      // and its map forks can even grow the total). It locks the tables while it runs: readers
      // and writers of this vault wait, other vaults do not. VACUUM cannot run in a transaction.
      await this.sql(c, `VACUUM (FULL, ANALYZE) ${this.n.entries}`);
      await this.sql(c, `VACUUM (FULL, ANALYZE) ${this.n.store}`);
      return { bytesBefore: before, bytesAfter: (await this.sizes(c)).total };
    });
  }

  async stats(): Promise<EngineStats> {
    return this.session(async (c) => {
      const entries: Partial<Record<Collection, number>> = {};
      await this.sql(c, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        for (const coll of COLLECTION_NAMES) entries[coll] = 0;
        const r = await this.sql(c, `SELECT coll, count(*) AS n FROM ${this.n.entries} GROUP BY coll`);
        for (const row of r.rows as { coll: string; n: string }[]) {
          if ((COLLECTION_NAMES as string[]).includes(row.coll)) entries[row.coll as Collection] = Number(row.n);
        }
        const s = await this.sizes(c);
        const v = await this.sql(c, `SELECT current_setting('server_version') AS version, current_database() AS db, current_user AS usr`);
        await this.sql(c, 'COMMIT');
        return {
          engine: 'postgres',
          bytesOnDisk: s.total,
          entries,
          details: {
            server_version: v.rows[0].version,
            database: v.rows[0].db,
            user: v.rows[0].usr,
            schema: this.n.schema,
            url: this.loc.display,
            entries_bytes: s.entries,
            store_bytes: s.store,
            pool_max: this.settings.poolMax,
            lock_timeout_ms: this.settings.lockTimeoutMs,
            read_only: this.readOnly,
          },
        };
      } catch (e) {
        await this.rollback(c);
        throw e;
      }
    });
  }

  async check(): Promise<string[]> {
    return this.session(async (c) => {
      const problems: string[] = [];
      try {
        judge(await inspect(c, this.n), this.loc.display, this.n.schema);
      } catch (e) {
        return [String((e as Error).message)];
      }
      // Reading every row makes the server read every page and TOAST value (damage shows as an
      // error); the contract's key limits and our collection names are checked on the way.
      const r = await this.sql(
        c,
        `SELECT count(*) FILTER (WHERE length(key) = 0 OR length(key) > 511) AS bad_keys,
                count(*) FILTER (WHERE NOT (coll = ANY($1))) AS unknown,
                sum(length(value))::bigint AS bytes
           FROM ${this.n.entries}`.replace('$1', `ARRAY[${COLLECTION_NAMES.map((x) => `'${x}'`).join(',')}]::text[]`),
      ).catch((e) => {
        problems.push(String((e as Error).message));
        return undefined;
      });
      if (r) {
        const row = r.rows[0] as { bad_keys: string; unknown: string };
        if (Number(row.bad_keys) > 0) problems.push(`${row.bad_keys} keys of a length outside 1..511 bytes`);
        if (Number(row.unknown) > 0) problems.push(`${row.unknown} entries in collections this avfs does not know`);
      }
      return problems;
    });
  }

  /** Drop the vault's schema and everything in it (vault delete). */
  async drop(): Promise<void> {
    if (this.readOnly) throw vfsError('EROFS', this.loc.display);
    await this.session(async (c) => {
      await this.sql(c, `BEGIN; SET LOCAL lock_timeout = ${this.settings.lockTimeoutMs}; SELECT pg_advisory_xact_lock(${this.n.lockKey}); DROP SCHEMA ${ident(this.n.schema)} CASCADE; COMMIT`);
    });
  }

  /** Give the vault's schema another name (a finished fork or migrate put in place); EEXIST if taken. */
  async rename(schema: string): Promise<void> {
    if (this.readOnly) throw vfsError('EROFS', this.loc.display);
    await this.session(async (c) => {
      try {
        await c.query(`BEGIN; SET LOCAL lock_timeout = ${this.settings.lockTimeoutMs}; SELECT pg_advisory_xact_lock(${this.n.lockKey}); ALTER SCHEMA ${ident(this.n.schema)} RENAME TO ${ident(schema)}; COMMIT`);
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {});
        if ((e as { code?: string }).code === '42P06') throw new CallerError(vfsError('EEXIST', this.loc.display, `schema ${schema} already exists`));
        throw fromPg(e, this.loc.display);
      }
    }).catch(unwrap);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Transactions already running finish first (their connections go back to the pool).
    await Promise.allSettled([...this.active]);
    await releasePool(this.loc.conn);
  }
}

/** The first column of the first row of a multi-statement query's last result. */
function lastValue(r: pg.QueryResult | pg.QueryResult[]): string | undefined {
  const last = Array.isArray(r) ? r[r.length - 1] : r;
  const row = last?.rows[0] as Record<string, unknown> | undefined;
  return row === undefined ? undefined : (Object.values(row)[0] as string);
}

/** An error thrown by the caller's callback, after a clean rollback: passed through as it was. */
class CallerError {
  constructor(readonly error: unknown) {}
}

function unwrap(e: unknown): never {
  throw e instanceof CallerError ? e.error : e;
}

/** Run `fn` in a transaction holding the vault's writer lock (creating or upgrading a store). */
async function underLock(c: pg.PoolClient, n: Names, loc: PgLocator, fn: () => Promise<void>): Promise<void> {
  try {
    await c.query(`BEGIN; SELECT pg_advisory_xact_lock(${n.lockKey})`);
    await fn();
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw fromPg(e, loc.display);
  }
}

export async function openPostgres(opts: OpenOptions): Promise<Engine> {
  const settings = readPgSettings(opts);
  const loc = parsePgUrl(opts.path);
  const readOnly = opts.readOnly === true;
  const n = names(loc.schema);
  const pool = acquirePool(loc.conn, settings);
  try {
    let c: pg.PoolClient;
    try {
      c = await pool.connect();
    } catch (e) {
      throw fromPg(e, loc.display);
    }
    let broken: Error | undefined;
    try {
      // Another vault of this process on the same server may have left a read open on it.
      if (takeOwedCommit(c)) await c.query('COMMIT').catch((e) => Promise.reject(fromPg(e, loc.display)));
      const shape = await inspect(c, n).catch((e) => Promise.reject(fromPg(e, loc.display)));
      let state = judge(shape, loc.display, loc.schema);
      if (state === 'ready' && shape.format !== STORE_FORMAT && !readOnly) await underLock(c, n, loc, () => upgradeSchema(c, n));
      if (state !== 'ready') {
        if (!opts.create || readOnly) {
          if (state === 'blank') throw vfsError('ENOTVAULT', loc.display, `schema ${loc.schema} is empty: not an agentvfs store`);
          throw vfsError('ENOVAULT', loc.display, `no vault in schema ${loc.schema}`);
        }
        // Under the vault's writer lock, looking again: another client may be creating it too.
        await underLock(c, n, loc, async () => {
          state = judge(await inspect(c, n), loc.display, loc.schema);
          if (state !== 'ready') await createSchema(c, n);
        });
      }
    } catch (e) {
      broken = e instanceof Error ? e : new Error(String(e));
      throw e;
    } finally {
      c.release(broken);
    }
    return new PgEngine(pool, loc, n, settings, readOnly);
  } catch (e) {
    await releasePool(loc.conn);
    throw fromPg(e, loc.display);
  }
}

/** Remove a vault's schema (vault delete). Only a schema that holds an agentvfs store is dropped. */
export async function dropPostgresStore(url: string, settings: Record<string, unknown> = {}): Promise<void> {
  const e = (await openPostgres({ path: url, create: false, settings })) as PgEngine;
  try {
    await e.drop();
  } finally {
    await e.close();
  }
}

/** Rename the store at `url` to schema `schema` (see PgEngine.rename). */
export async function renamePostgresStore(url: string, schema: string, settings: Record<string, unknown> = {}): Promise<void> {
  const e = (await openPostgres({ path: url, create: false, settings })) as PgEngine;
  try {
    await e.rename(schema);
  } finally {
    await e.close();
  }
}
