// The SQLite engine's full-text index: an FTS5 table written in the same transaction as the
// rest of a write. It is contentless (the text is already in the vault, as chunks), so taking a
// document out needs the words it was indexed with; the caller keeps track (search_docs) and
// hands them back. (contentless_delete=1 would drop a row by number alone, but then FTS5 never
// takes the row's words out of its corpus totals, and every rewrite would skew bm25()'s
// average document length.) The caller hands FTS5 its words ready-made (src/text/tokenize.ts,
// ftsWords) and the 'ascii' tokenizer splits only on the spaces between them, so FTS5 indexes
// exactly the words the shared index of the other engines holds, and bm25() ranks alike.
import type Database from 'better-sqlite3';
import type { FullTextWrite, TextQuery } from '../contract.js';

export const FTS_TABLE = 'search_fts';

export const CREATE_FTS_SQL =
  `CREATE VIRTUAL TABLE IF NOT EXISTS ${FTS_TABLE} USING fts5(` +
  `body, content='', tokenize='ascii')`;

type Statement = Database.Statement;

/** Our parsed query in FTS5's syntax. Words are folded letters and digits, so quoting is all they need. */
export function ftsExpression(q: TextQuery): string {
  switch (q.kind) {
    case 'phrase':
      return `"${q.terms.join(' ').replace(/"/g, '""')}"${q.prefix ? ' *' : ''}`;
    case 'and':
      return `(${q.children.map(ftsExpression).join(' AND ')})`;
    case 'or':
      return `(${q.children.map(ftsExpression).join(' OR ')})`;
    case 'not':
      return `(${ftsExpression(q.pos)} NOT ${ftsExpression(q.neg)})`;
  }
}

export class FtsStatements {
  private del: Statement;
  private insert: Statement;
  private has: Statement;
  private count: Statement;
  private clear: Statement;
  private all: Statement;
  private best: Statement;

  constructor(db: Database.Database) {
    const t = FTS_TABLE;
    this.del = db.prepare(`INSERT INTO ${t} (${t}, rowid, body) VALUES ('delete', ?, ?)`);
    this.insert = db.prepare(`INSERT INTO ${t} (rowid, body) VALUES (?, ?)`);
    this.has = db.prepare(`SELECT 1 FROM ${t}_docsize WHERE id = ?`).pluck();
    this.count = db.prepare(`SELECT count(*) FROM ${t}_docsize`).pluck();
    this.clear = db.prepare(`INSERT INTO ${t} (${t}) VALUES ('delete-all')`);
    // bm25() is negative, smaller is better; ties go to the higher (newer) document number.
    this.all = db.prepare(`SELECT rowid, bm25(${t}) FROM ${t} WHERE ${t} MATCH ?`).raw(true);
    this.best = db.prepare(`SELECT rowid, bm25(${t}) FROM ${t} WHERE ${t} MATCH ? ORDER BY bm25(${t}), rowid DESC LIMIT ?`).raw(true);
  }

  /** The transaction-bound view the storage contract hands out; `run` applies the tx's checks. */
  bind(run: <T>(fn: () => T) => Promise<T>): FullTextWrite {
    return {
      match: async (query, limit) => {
        const expr = ftsExpression(query);
        const rows = (await run(() => (limit === undefined ? this.all.all(expr) : this.best.all(expr, limit)))) as [number | bigint, number][];
        const out = new Map<number, number>();
        for (const [id, rank] of rows) out.set(Number(id), -rank);
        return out;
      },
      count: async () => (await run(() => this.count.get())) as number,
      has: async (id) => (await run(() => this.has.get(id))) !== undefined,
      put: async (id, words) => {
        await run(() => this.insert.run(id, words));
      },
      del: async (id, words) => {
        await run(() => this.del.run(id, words));
      },
      clear: async () => {
        await run(() => this.clear.run());
      },
    };
  }
}
