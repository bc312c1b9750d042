// The byte layout of the log engine's files (docs/engines.md, "## log", has the same tables).
// Every integer is little-endian. Checksums are the first 8 bytes of a SHA-256 (native in
// node:crypto, so faster than a CRC table in JavaScript, and strong enough that a torn or
// flipped record never passes for a valid one).
import { createHash } from 'node:crypto';

export const SIGNATURE_FILE = 'avfs-log';
export const SIGNATURE_MAGIC = 'agentvfs log store';
export const FORMAT = 1;
export const LOCK_FILE = 'lock';
export const NOTIFY_FILE = 'notify';

export const RECORD_MAGIC = 0x524c5641; // "AVLR"
export const RECORD_HEADER = 24; // magic 4, payload length 4, seq 8, checksum 8
export const CKPT_MAGIC = 0x434c5641; // "AVLC"
export const CKPT_HEADER = 40; // magic 4, format 4, gen 8, seq 8, blocks 4, reserved 4, checksum 8
export const BLOCK_HEADER = 16; // length 4, reserved 4, checksum 8

export const OP_PUT = 1; // coll, key, value stored inline
export const OP_REF = 2; // coll, key, reference to bytes in a chunk file
export const OP_DEL = 3; // coll, key
export const OP_SEAL = 4; // next generation: this log ends here, the next checkpoint follows

export const logName = (gen: number) => `log-${String(gen).padStart(8, '0')}`;
export const ckptName = (gen: number) => `ckpt-${String(gen).padStart(8, '0')}`;
export const chunkName = (id: number) => `chunks-${String(id).padStart(6, '0')}`;
export const GEN_RE = /^(log|ckpt)-(\d{8})$/;
export const CHUNK_RE = /^chunks-(\d{6})$/;

export function sum8(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest().subarray(0, 8);
}

/** Where a large value lives: `length` bytes at `offset` of chunk file `file`, with their checksum. */
export interface Ref {
  file: number;
  offset: number;
  length: number;
  sum: Buffer;
}

export type Value = Buffer | Ref;
export const isRef = (v: Value): v is Ref => !Buffer.isBuffer(v);

export type Op =
  /** `at`: where the value starts in the payload it was decoded from. */
  | { op: typeof OP_PUT; coll: string; key: Buffer; value: Buffer; at?: number }
  | { op: typeof OP_REF; coll: string; key: Buffer; ref: Ref }
  | { op: typeof OP_DEL; coll: string; key: Buffer }
  | { op: typeof OP_SEAL; gen: number };

/** Appends ops to a growing list of buffers. */
export class OpWriter {
  parts: Buffer[] = [];
  bytes = 0;
  private push(b: Buffer): void {
    this.parts.push(b);
    this.bytes += b.length;
  }
  private head(op: number, coll: string, key: Buffer, extra: number): Buffer {
    const b = Buffer.allocUnsafe(1 + 1 + coll.length + 2 + key.length + extra);
    let o = b.writeUInt8(op, 0);
    o = b.writeUInt8(coll.length, o);
    o += b.write(coll, o, 'latin1');
    o = b.writeUInt16LE(key.length, o);
    key.copy(b, o);
    return b;
  }
  /** Returns where the value starts in the payload (take()'s buffer). */
  put(coll: string, key: Buffer, value: Buffer): number {
    const h = this.head(OP_PUT, coll, key, 4);
    h.writeUInt32LE(value.length, h.length - 4);
    this.push(h);
    const at = this.bytes;
    if (value.length > 0) this.push(value);
    return at;
  }
  ref(coll: string, key: Buffer, r: Ref): void {
    const h = this.head(OP_REF, coll, key, 4 + 6 + 4 + 8);
    let o = h.length - 22;
    o = h.writeUInt32LE(r.file, o);
    o = h.writeUIntLE(r.offset, o, 6);
    o = h.writeUInt32LE(r.length, o);
    r.sum.copy(h, o);
    this.push(h);
  }
  del(coll: string, key: Buffer): void {
    this.push(this.head(OP_DEL, coll, key, 0));
  }
  seal(gen: number): void {
    const b = Buffer.alloc(7);
    b.writeUInt8(OP_SEAL, 0);
    b.writeUIntLE(gen, 1, 6);
    this.push(b);
  }
  take(): Buffer {
    const b = Buffer.concat(this.parts, this.bytes);
    this.parts = [];
    this.bytes = 0;
    return b;
  }
}

export class FormatError extends Error {}

/** Decode every op of a payload; throws FormatError on anything malformed. */
export function decodeOps(p: Buffer): Op[] {
  const out: Op[] = [];
  let o = 0;
  const need = (n: number) => {
    if (o + n > p.length) throw new FormatError('operation runs past the end of its record');
  };
  while (o < p.length) {
    const op = p[o++];
    if (op === OP_SEAL) {
      need(6);
      out.push({ op, gen: p.readUIntLE(o, 6) });
      o += 6;
      continue;
    }
    if (op !== OP_PUT && op !== OP_REF && op !== OP_DEL) throw new FormatError(`unknown operation ${op}`);
    need(1);
    const cl = p[o++];
    need(cl + 2);
    const coll = p.toString('latin1', o, o + cl);
    o += cl;
    const kl = p.readUInt16LE(o);
    o += 2;
    need(kl);
    // Copies: the payload buffer may be large and is otherwise garbage once decoded.
    const key = Buffer.from(p.subarray(o, o + kl));
    o += kl;
    if (op === OP_DEL) {
      out.push({ op, coll, key });
    } else if (op === OP_PUT) {
      need(4);
      const vl = p.readUInt32LE(o);
      o += 4;
      need(vl);
      out.push({ op, coll, key, value: Buffer.from(p.subarray(o, o + vl)), at: o });
      o += vl;
    } else {
      need(22);
      const ref: Ref = {
        file: p.readUInt32LE(o),
        offset: p.readUIntLE(o + 4, 6),
        length: p.readUInt32LE(o + 10),
        sum: Buffer.from(p.subarray(o + 14, o + 22)),
      };
      o += 22;
      out.push({ op, coll, key, ref });
    }
  }
  return out;
}

/** A log record's 16 header bytes before the checksum; also the AAD of an encrypted payload. */
export function recordHead(payloadLength: number, seq: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(RECORD_MAGIC, 0);
  h.writeUInt32LE(payloadLength, 4);
  h.writeBigUInt64LE(BigInt(seq), 8);
  return h;
}

export function encodeRecord(seq: number, payload: Buffer): Buffer {
  const head = recordHead(payload.length, seq);
  return Buffer.concat([head, sum8(head, payload), payload]);
}

export type Parsed =
  | { kind: 'record'; seq: number; payload: Buffer; end: number }
  | { kind: 'short' } // fewer bytes than the record says: still being written, or torn
  | { kind: 'bad'; why: string };

/** Parse the record at `o` of `buf` (which holds file bytes from some offset on). */
export function parseRecord(buf: Buffer, o: number): Parsed {
  if (o + RECORD_HEADER > buf.length) {
    // A short header is torn only if what there is could be the start of one.
    const have = buf.subarray(o, Math.min(buf.length, o + 4));
    const magic = Buffer.alloc(4);
    magic.writeUInt32LE(RECORD_MAGIC);
    return magic.subarray(0, have.length).equals(have) ? { kind: 'short' } : { kind: 'bad', why: 'bad record magic' };
  }
  if (buf.readUInt32LE(o) !== RECORD_MAGIC) return { kind: 'bad', why: 'bad record magic' };
  const len = buf.readUInt32LE(o + 4);
  const end = o + RECORD_HEADER + len;
  if (end > buf.length) return { kind: 'short' };
  const payload = buf.subarray(o + RECORD_HEADER, end);
  if (!sum8(buf.subarray(o, o + 16), payload).equals(buf.subarray(o + 16, o + 24))) return { kind: 'bad', why: 'record checksum mismatch' };
  return { kind: 'record', seq: Number(buf.readBigUInt64LE(o + 8)), payload, end };
}

/** True if a complete, valid record starts anywhere after `from`: the damage is not a torn tail. */
export function validRecordAfter(buf: Buffer, from: number): boolean {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(RECORD_MAGIC);
  for (let i = buf.indexOf(magic, from + 1); i >= 0; i = buf.indexOf(magic, i + 1)) {
    if (parseRecord(buf, i).kind === 'record') return true;
  }
  return false;
}
