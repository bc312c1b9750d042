// What makes a file an agentvfs SQLite store, checked before SQLite touches it and set when
// it is created.
import fs from 'node:fs';
import type Database from 'better-sqlite3';
import { vfsError } from '../../errors.js';
import { COLLECTION_NAMES, type Collection } from '../contract.js';
import { createTableSql } from './statements.js';
import { CREATE_FTS_SQL, FTS_TABLE } from './fulltext.js';

/** PRAGMA application_id of every store: "AVFS". Tells our files from other SQLite databases. */
export const APPLICATION_ID = 0x41564653;
const MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

export type FileState = 'missing' | 'empty' | 'database';

/**
 * Look at the file before opening it, so that a text file, random bytes or a truncated copy is
 * reported as such instead of as whatever SQLite happens to say first.
 */
export function preflight(path: string): FileState {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw vfsError('EIO', path, `cannot read the store file (${(e as Error).message})`, e);
  }
  if (st.isDirectory()) throw vfsError('ENOTVAULT', path, 'is a directory, not a SQLite store file');
  if (st.size === 0) return 'empty';
  const head = Buffer.alloc(100);
  const fd = fs.openSync(path, 'r');
  let n: number;
  try {
    n = fs.readSync(fd, head, 0, 100, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (n < 100 || !head.subarray(0, 16).equals(MAGIC)) {
    throw vfsError('ENOTVAULT', path, 'not an agentvfs vault (not a SQLite database)');
  }
  // With no journal beside it the file is all there is, and the page count in its header is
  // valid when the two change counters agree; a shorter file lost its tail.
  const quiet = ['-wal', '-journal', '-shm'].every((s) => !fs.existsSync(path + s));
  const rawPageSize = head.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  const pages = head.readUInt32BE(28);
  if (quiet && pages > 0 && head.readUInt32BE(24) === head.readUInt32BE(92) && st.size < pages * pageSize) {
    throw vfsError('ECORRUPT', path, `vault is damaged (file is truncated: ${st.size} of ${pages * pageSize} bytes)`);
  }
  return 'database';
}

export interface Shape {
  applicationId: number;
  tables: Set<string>;
}

export function inspect(db: Database.Database): Shape {
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  const names = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table'`).pluck().all() as string[];
  return { applicationId, tables: new Set(names) };
}

/** Refuse SQLite files that belong to something else; say whether this one still needs setting up. */
export function judge(shape: Shape, path: string): 'ours' | 'blank' {
  if (shape.applicationId === APPLICATION_ID) return 'ours';
  if (shape.applicationId === 0 && shape.tables.size === 0) return 'blank';
  throw vfsError('ENOTVAULT', path, 'not an agentvfs vault (a SQLite database of another application)');
}

export function missingTables(shape: Shape): Collection[] {
  return COLLECTION_NAMES.filter((c) => !shape.tables.has(c));
}

/** True when the store lacks a table this version uses (a store made by an older version). */
export function needsSchema(shape: Shape): boolean {
  return missingTables(shape).length > 0 || !shape.tables.has(FTS_TABLE);
}

/** Run inside a write transaction: another process may be creating the same store right now. */
export function createSchema(db: Database.Database, path: string): void {
  const shape = inspect(db);
  if (judge(shape, path) === 'blank') db.pragma(`application_id = ${APPLICATION_ID}`);
  for (const c of missingTables(shape)) db.exec(createTableSql(c));
  if (!shape.tables.has(FTS_TABLE)) db.exec(CREATE_FTS_SQL);
}
