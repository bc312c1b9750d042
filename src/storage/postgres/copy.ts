// Rows as raw bytes: `COPY (query) TO STDOUT (FORMAT binary)` through node-postgres. A normal
// query's fields reach JavaScript as text (node-postgres decodes every DataRow field as UTF-8),
// so a bytea column costs the server an encoding (hex, or base64 by hand) and the client a
// string of 1.33-2x the bytes, its garbage and a decode. A binary COPY sends each value as it
// is, in CopyData messages that node-postgres hands over untouched: for reading many chunks.
//
// node-postgres runs anything with a submit() method as a query (pg-copy-streams works so);
// this is that for one COPY TO: it sends the statement as a simple query and collects the
// CopyData messages until the server is ready again. COPY takes no parameters, so the caller
// writes its values into the text (bytesLiteral below, which cannot break out of a literal).
import type pg from 'pg';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

interface Message {
  chunk?: Buffer;
}

type Row = (Buffer | null)[];

/**
 * Rows out of a binary COPY stream as its messages arrive. PostgreSQL sends one row per CopyData
 * message (the header with the first), so each row's fields are views into that message's copy
 * alone, and a value kept by a cache pins no more than itself; a row split across messages is
 * joined first.
 */
export class BinaryCopyParser {
  readonly rows: Row[] = [];
  private pending: Buffer | undefined;
  private headerDone = false;
  private ended = false;

  /** Take the next piece of the stream (copied: the caller's buffer may be reused). */
  push(chunk: Buffer): void {
    const b = this.pending ? Buffer.concat([this.pending, chunk]) : Buffer.from(chunk);
    this.pending = undefined;
    let o = 0;
    if (!this.headerDone) {
      if (b.length < SIGNATURE.length + 8) return void (this.pending = b);
      if (!b.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error('binary COPY: bad header');
      const ext = b.readUInt32BE(SIGNATURE.length + 4);
      if (b.length < SIGNATURE.length + 8 + ext) return void (this.pending = b);
      o = SIGNATURE.length + 8 + ext;
      this.headerDone = true;
    }
    while (o < b.length && !this.ended) {
      const r = readRow(b, o);
      if (r === undefined) break;
      if (r.row === undefined) this.ended = true;
      else this.rows.push(r.row);
      o = r.end;
    }
    if (o < b.length) {
      if (this.ended) throw new Error('binary COPY: data after the trailer');
      this.pending = Buffer.from(b.subarray(o));
    }
  }

  /** The rows, once the stream is over; a stream cut short is an error. */
  finish(): Row[] {
    if (!this.ended || this.pending) throw new Error('binary COPY: the stream ended early');
    return this.rows;
  }
}

/**
 * The row at `o` (its fields views into `b`) and where it ends; row undefined for the trailer;
 * undefined when the row is not all in `b` yet.
 */
function readRow(b: Buffer, o: number): { row?: Row; end: number } | undefined {
  if (o + 2 > b.length) return undefined;
  const fields = b.readInt16BE(o);
  if (fields === -1) return { end: o + 2 };
  if (fields < 0) throw new Error('binary COPY: bad field count');
  const row: Row = [];
  let p = o + 2;
  for (let i = 0; i < fields; i++) {
    if (p + 4 > b.length) return undefined;
    const len = b.readInt32BE(p);
    p += 4;
    if (len > 0 && p + len > b.length) return undefined;
    row.push(len === -1 ? null : b.subarray(p, p + len));
    if (len > 0) p += len;
  }
  return { row, end: p };
}

class CopyOut {
  private parser = new BinaryCopyParser();
  private error: Error | undefined;
  readonly done: Promise<Row[]>;
  private settle!: { resolve(rows: Row[]): void; reject(e: unknown): void };

  constructor(private readonly text: string) {
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }

  submit(connection: { query(text: string): void }): void {
    connection.query(this.text);
  }

  handleCopyData(msg: Message): void {
    if (this.error || !msg.chunk) return;
    try {
      this.parser.push(msg.chunk);
    } catch (e) {
      this.error = e as Error;
    }
  }

  handleError(err: Error): void {
    // node-postgres lets go of a query at its error (the server's ReadyForQuery that follows is
    // not passed on), so the answer is given now.
    this.settle.reject(err);
  }

  handleReadyForQuery(): void {
    if (this.error) return this.settle.reject(this.error);
    try {
      this.settle.resolve(this.parser.finish());
    } catch (e) {
      this.settle.reject(e);
    }
  }

  // What else a simple query may bring; a COPY TO sends none of these but CommandComplete.
  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(connection: { sendCopyFail(msg: string): void }): void {
    connection.sendCopyFail('avfs: COPY FROM is not expected here');
  }
}

/** Run `COPY (query) TO STDOUT (FORMAT binary)` and return its rows: each a list of fields (null for SQL NULL). */
export async function copyRows(client: pg.ClientBase, query: string): Promise<Row[]> {
  const copy = new CopyOut(`COPY (${query}) TO STDOUT (FORMAT binary)`);
  // client.query() queues anything with a submit() and returns it; its end is `done`.
  (client as unknown as { query(q: CopyOut): unknown }).query(copy);
  return copy.done;
}

/**
 * A bytea value written into SQL text (COPY, and the changes a commit sends inline): hex digits,
 * so nothing in it can end the literal, in E'' so that the backslash means the same whatever
 * standard_conforming_strings says.
 */
export function bytesLiteral(b: Buffer): string {
  return `E'\\\\x${b.toString('hex')}'::bytea`;
}
