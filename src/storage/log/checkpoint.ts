// Checkpoints (ckpt-GGGGGGGG): the whole index as of one log sequence number, so that opening a
// store replays only the log written since. Written to a temporary name, flushed, then renamed:
// a checkpoint file that exists is complete, and a damaged one is reported, never half-read.
import fs from 'node:fs';
import { join } from 'node:path';
import { aad, type Cipher } from './cipher.js';
import { BLOCK_HEADER, CKPT_HEADER, CKPT_MAGIC, FORMAT, OpWriter, ckptName, decodeOps, isRef, sum8, type Op } from './format.js';
import type { Trees } from './index.js';

const BLOCK_BYTES = 1 << 20;

export class CheckpointError extends Error {}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Write generation `gen`'s checkpoint of `trees` (state as of `seq`) and make it durable. */
export function writeCheckpoint(dir: string, gen: number, seq: number, trees: Trees, cipher: Cipher): void {
  const tmp = join(dir, `${ckptName(gen)}.tmp-${process.pid}`);
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    let pos = CKPT_HEADER;
    let blocks = 0;
    const w = new OpWriter();
    const flush = () => {
      if (w.bytes === 0) return;
      const plain = w.take();
      const body = cipher.encrypted ? cipher.seal(plain, aad('ckpt', gen, blocks)) : plain;
      const head = Buffer.alloc(BLOCK_HEADER);
      head.writeUInt32LE(body.length, 0);
      sum8(body).copy(head, 8);
      fs.writeSync(fd, head, 0, head.length, pos);
      fs.writeSync(fd, body, 0, body.length, pos + head.length);
      pos += head.length + body.length;
      blocks++;
    };
    for (const [coll, t] of trees) {
      for (const [k, v] of t.entries() as IterableIterator<[Buffer, Buffer]>) {
        if (isRef(v)) w.ref(coll, k, v);
        else w.put(coll, k, v);
        if (w.bytes >= BLOCK_BYTES) flush();
      }
    }
    flush();
    const h = Buffer.alloc(CKPT_HEADER);
    h.writeUInt32LE(CKPT_MAGIC, 0);
    h.writeUInt32LE(FORMAT, 4);
    h.writeBigUInt64LE(BigInt(gen), 8);
    h.writeBigUInt64LE(BigInt(seq), 16);
    h.writeUInt32LE(blocks, 24);
    sum8(h.subarray(0, 32)).copy(h, 32);
    fs.writeSync(fd, h, 0, h.length, 0);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  fs.renameSync(tmp, join(dir, ckptName(gen)));
  fsyncDir(dir);
}

export interface Checkpoint {
  gen: number;
  seq: number;
  ops: Op[];
}

/** Read and verify a checkpoint; CheckpointError when it is damaged. ENOENT passes through. */
export function readCheckpoint(dir: string, gen: number, cipher: Cipher): Checkpoint {
  const buf = fs.readFileSync(join(dir, ckptName(gen)));
  const bad = (why: string) => new CheckpointError(`${ckptName(gen)}: ${why}`);
  if (buf.length < CKPT_HEADER || buf.readUInt32LE(0) !== CKPT_MAGIC) throw bad('not a checkpoint');
  if (!sum8(buf.subarray(0, 32)).equals(buf.subarray(32, 40))) throw bad('header checksum mismatch');
  if (Number(buf.readBigUInt64LE(8)) !== gen) throw bad('generation does not match its name');
  const seq = Number(buf.readBigUInt64LE(16));
  const blocks = buf.readUInt32LE(24);
  const ops: Op[] = [];
  let pos = CKPT_HEADER;
  for (let i = 0; i < blocks; i++) {
    if (pos + BLOCK_HEADER > buf.length) throw bad(`truncated at block ${i}`);
    const len = buf.readUInt32LE(pos);
    const body = buf.subarray(pos + BLOCK_HEADER, pos + BLOCK_HEADER + len);
    if (body.length !== len) throw bad(`truncated at block ${i}`);
    if (!sum8(body).equals(buf.subarray(pos + 8, pos + 16))) throw bad(`block ${i} checksum mismatch`);
    const plain = cipher.encrypted ? cipher.open(body, aad('ckpt', gen, i)) : body;
    if (plain === undefined) throw bad(`block ${i} does not authenticate`);
    try {
      for (const op of decodeOps(plain)) ops.push(op);
    } catch (e) {
      throw bad(`block ${i}: ${(e as Error).message}`);
    }
    pos += BLOCK_HEADER + len;
  }
  if (pos !== buf.length) throw bad('trailing bytes after the last block');
  return { gen, seq, ops };
}

export { fsyncDir };
