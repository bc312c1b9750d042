// The tables of a postgres store, in a schema of its own (one vault per schema):
//
//   avfs_store (name text primary key, value text)   -- 'format' = '2', 'created' = time,
//                                                     -- 'stamp' = "<seq>:<random>" (cache.ts)
//   entries (coll text collate "C", key bytea, value bytea, primary key (coll, key))
//
// One table for every collection: a commit writes all its changes with one INSERT and one
// DELETE whatever collections they touch, and a collection added later needs no DDL. bytea
// compares bytewise (memcmp, then length), which is the contract's key order, so range scans
// are index scans on the primary key.
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { vfsError } from '../../errors.js';
import { stampSeq } from './cache.js';

// Format 2 added the stamp that every write commit replaces (cache.ts). A format 1 store is
// the same tables without it: it opens, and a writable open makes it format 2 (so a client that
// knows only format 1, and would commit without a new stamp, refuses it from then on).
export const STORE_FORMAT = '2';
const READABLE_FORMATS = ['1', STORE_FORMAT];

/** A new stamp after `prev` (undefined or not ours: start again from 1). */
export function nextStamp(prev?: string): string {
  const seq = prev === undefined ? 0 : stampSeq(prev);
  return `${Number.isFinite(seq) ? seq + 1 : 1}:${randomBytes(8).toString('hex')}`;
}

/** The statement that sets the stamp (inside a transaction, under the vault's lock). */
export function setStamp(n: Names, stamp: string): string {
  if (!Number.isFinite(stampSeq(stamp))) throw new Error(`not a stamp: ${stamp}`); // it is spliced into SQL
  return `INSERT INTO ${n.store} (name, value) VALUES ('stamp', '${stamp}') ON CONFLICT (name) DO UPDATE SET value = excluded.value`;
}

/** The statement that reads the stamp. */
export function getStamp(n: Names): string {
  return `SELECT value FROM ${n.store} WHERE name = 'stamp'`;
}

export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export interface Names {
  schema: string;
  /** Quoted, schema-qualified table names. */
  store: string;
  entries: string;
  /** The LISTEN/NOTIFY channel of this vault (quoted). */
  channel: string;
  /** The transaction-scoped advisory lock every writer of this vault takes (a bigint as text). */
  lockKey: string;
}

export function names(schema: string): Names {
  const s = ident(schema);
  // Advisory locks are per database and share one key space with other applications: a hash of
  // our own prefix and the schema keeps ours apart from theirs and from other vaults.
  const lockKey = createHash('sha256').update(`agentvfs:${schema}`).digest().readBigInt64BE(0).toString();
  return { schema, store: `${s}.avfs_store`, entries: `${s}.entries`, channel: ident(schema), lockKey };
}

export interface Shape {
  schemaExists: boolean;
  storeTable: boolean;
  entriesTable: boolean;
  /** Tables in the schema (to tell an empty schema from someone else's). */
  tables: number;
  format?: string;
}

export async function inspect(c: pg.PoolClient, n: Names): Promise<Shape> {
  const r = await c.query<{ schema_exists: boolean; store: boolean; entries: boolean; tables: string }>(
    `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema_exists,
            to_regclass($2) IS NOT NULL AS store, to_regclass($3) IS NOT NULL AS entries,
            (SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = $1 AND c.relkind IN ('r', 'p', 'v')) AS tables`,
    [n.schema, n.store, n.entries],
  );
  const row = r.rows[0];
  const shape: Shape = { schemaExists: row.schema_exists, storeTable: row.store, entriesTable: row.entries, tables: Number(row.tables) };
  if (shape.storeTable) {
    const f = await c.query<{ value: string }>(`SELECT value FROM ${n.store} WHERE name = 'format'`);
    shape.format = f.rows[0]?.value;
  }
  return shape;
}

/** 'ready', 'missing' (no schema) or 'blank' (an empty schema); anything else is refused. */
export function judge(shape: Shape, display: string, schema: string): 'ready' | 'missing' | 'blank' {
  if (!shape.schemaExists) return 'missing';
  if (shape.storeTable && shape.entriesTable) {
    if (shape.format === undefined) throw vfsError('ECORRUPT', display, `schema ${schema}: the store has no format record`);
    if (!READABLE_FORMATS.includes(shape.format)) throw vfsError('EVERSION', display, `schema ${schema}: store format ${shape.format} is not supported (this avfs reads ${STORE_FORMAT})`);
    return 'ready';
  }
  if (shape.tables === 0) return 'blank';
  if (shape.storeTable || shape.entriesTable) throw vfsError('ECORRUPT', display, `schema ${schema}: the store is missing a table`);
  throw vfsError('ENOTVAULT', display, `schema ${schema} exists and is not an agentvfs store`);
}

/** Create the schema and tables (inside the caller's transaction, under the vault's lock). */
export async function createSchema(c: pg.PoolClient, n: Names): Promise<void> {
  await c.query(
    `CREATE SCHEMA IF NOT EXISTS ${ident(n.schema)};
     CREATE TABLE IF NOT EXISTS ${n.store} (name text PRIMARY KEY, value text NOT NULL);
     CREATE TABLE IF NOT EXISTS ${n.entries} (coll text COLLATE "C" NOT NULL, key bytea NOT NULL, value bytea NOT NULL, PRIMARY KEY (coll, key));
     INSERT INTO ${n.store} (name, value) VALUES ('format', '${STORE_FORMAT}'), ('created', now()::text) ON CONFLICT (name) DO NOTHING;
     ${setStamp(n, nextStamp())};`,
  );
}

/** Make a format 1 store format 2 (inside the caller's transaction, under the vault's lock). */
export async function upgradeSchema(c: pg.PoolClient, n: Names): Promise<void> {
  await c.query(
    `UPDATE ${n.store} SET value = '${STORE_FORMAT}' WHERE name = 'format' AND value = '1';
     INSERT INTO ${n.store} (name, value) VALUES ('stamp', '${nextStamp()}') ON CONFLICT (name) DO NOTHING`,
  );
}
