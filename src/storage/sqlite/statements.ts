// Prepared statements, one set per collection, prepared on first use and reused: a vault write
// is a handful of puts, and preparing costs more than running.
import type Database from 'better-sqlite3';
import type { Bounds, Collection } from '../contract.js';
import { COLLECTIONS } from '../contract.js';

type Db = Database.Database;
type Statement = Database.Statement;

/** One table per collection. Chunk-sized values go in rowid tables (the row's b-tree cell stays
 * small); small ones in WITHOUT ROWID tables (one b-tree, no second lookup). BLOB keys compare
 * with memcmp, which is the contract's bytewise order. */
export function createTableSql(coll: Collection): string {
  const rowid = COLLECTIONS[coll].large ? '' : ' WITHOUT ROWID';
  return `CREATE TABLE IF NOT EXISTS "${coll}" (k BLOB PRIMARY KEY NOT NULL, v BLOB NOT NULL)${rowid}`;
}

/** The parameters a range statement takes, in order: [lower?, upper?, limit]. */
export function rangeParams(b: Bounds, limit: number): unknown[] {
  const p: unknown[] = [];
  if (b.lower !== undefined) p.push(b.lower);
  if (b.upper !== undefined) p.push(b.upper);
  p.push(limit);
  return p;
}

function where(b: Bounds): string {
  const c: string[] = [];
  if (b.lower !== undefined) c.push(b.lowerInclusive ? 'k >= ?' : 'k > ?');
  if (b.upper !== undefined) c.push(b.upperInclusive ? 'k <= ?' : 'k < ?');
  return c.length ? ` WHERE ${c.join(' AND ')}` : '';
}

function variant(b: Bounds): string {
  const lo = b.lower === undefined ? '' : b.lowerInclusive ? 'ge' : 'gt';
  const hi = b.upper === undefined ? '' : b.upperInclusive ? 'le' : 'lt';
  return `${lo}:${hi}`;
}

export class CollectionStatements {
  readonly get: Statement;
  readonly has: Statement;
  readonly put: Statement;
  readonly del: Statement;
  private ranges = new Map<string, Statement>();
  private counts = new Map<string, Statement>();
  private textRanges = new Map<string, Statement>();

  constructor(
    private db: Db,
    private table: Collection,
  ) {
    const t = `"${table}"`;
    this.get = db.prepare(`SELECT v FROM ${t} WHERE k = ?`).pluck();
    this.has = db.prepare(`SELECT 1 FROM ${t} WHERE k = ?`).pluck();
    // An upsert rather than INSERT OR REPLACE: it updates in place instead of delete + insert.
    this.put = db.prepare(`INSERT INTO ${t} (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v`);
    this.del = db.prepare(`DELETE FROM ${t} WHERE k = ?`);
  }

  /** Rows come back as [key, value] arrays. LIMIT -1 means no limit. */
  range(b: Bounds, reverse: boolean): Statement {
    const key = `${variant(b)}:${reverse ? 'd' : 'a'}`;
    let s = this.ranges.get(key);
    if (!s) {
      s = this.db
        .prepare(`SELECT k, v FROM "${this.table}"${where(b)} ORDER BY k ${reverse ? 'DESC' : 'ASC'} LIMIT ?`)
        .raw(true);
      this.ranges.set(key, s);
    }
    return s;
  }

  /**
   * ReadTx.rangeTexts in one row: the texts joined by NUL, the values end to end, the count and
   * the shortest and longest value. group_concat takes the rows in the order the subquery gives
   * them (a walk of the primary key: the plan is a co-routine over the ordered scan).
   *
   * The values are joined as they are: group_concat reads a BLOB as text without converting it
   * (the database is UTF-8, our own, so no transcoding) and keeps NUL bytes (it counts lengths),
   * and CAST AS BLOB gives the bytes back; this costs a third less than hex() and unhex(). The
   * LIMIT goes in only when one is asked for: with it SQLite spends about 40% more per row
   * (a 100-entry folder: 28 us a call without, 45 with LIMIT and hex).
   */
  texts(after: boolean, limited: boolean): Statement {
    const key = `${after ? 'gt' : 'ge'}${limited ? ' limit' : ''}`;
    let s = this.textRanges.get(key);
    if (!s) {
      s = this.db
        .prepare(
          `SELECT group_concat(CAST(substr(k, ?) AS TEXT), char(0)), CAST(group_concat(v, '') AS BLOB), count(*), min(length(v)), max(length(v)) ` +
            `FROM (SELECT k, v FROM "${this.table}" WHERE k ${after ? '>' : '>='} ? AND k < ? ORDER BY k${limited ? ' LIMIT ?' : ''})`,
        )
        .raw(true);
      this.textRanges.set(key, s);
    }
    return s;
  }

  count(b: Bounds): Statement {
    const key = variant(b);
    let s = this.counts.get(key);
    if (!s) {
      s = this.db.prepare(`SELECT count(*) FROM (SELECT 1 FROM "${this.table}"${where(b)} LIMIT ?)`).pluck();
      this.counts.set(key, s);
    }
    return s;
  }
}

/** BEGIN/COMMIT/ROLLBACK prepared once: exec() would parse them on every transaction. */
export class ControlStatements {
  readonly begin: Statement;
  readonly beginImmediate: Statement;
  readonly commit: Statement;
  readonly rollback: Statement;
  constructor(db: Db) {
    this.begin = db.prepare('BEGIN DEFERRED');
    this.beginImmediate = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
  }
}
