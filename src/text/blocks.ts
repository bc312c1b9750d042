// Posting blocks: a term's postings, in document-id order, packed up to BLOCK per storage row,
// so that reading a common word's list costs a few hundred row reads (and a tight decoding
// loop) instead of one row per document. Ids only grow for memories, so an add appends to the
// term's last block without decoding it; other changes decode, edit and re-encode one block.
//
//   key    term 0x00 firstId(u64)
//   value  lastId(u64) count(u16)  then per posting: id gap (varint; 0 for the first, whose id
//          is in the key), tf, document length, and tf position gaps (varints)

export const BLOCK = 128;
/** A block grown past this by inserts in the middle is split in two. */
export const MAX_BLOCK = 2 * BLOCK;
const HEAD = 10;

export interface Posting {
  id: number;
  tf: number;
  len: number;
  positions: number[];
}

export function blockKey(prefix: Buffer, firstId: number): Buffer {
  const k = Buffer.allocUnsafe(prefix.length + 8);
  prefix.copy(k, 0);
  k.writeUInt32BE(Math.floor(firstId / 0x100000000), prefix.length);
  k.writeUInt32BE(firstId >>> 0, prefix.length + 4);
  return k;
}

export const firstIdOf = (key: Buffer): number => key.readUInt32BE(key.length - 8) * 0x100000000 + key.readUInt32BE(key.length - 4);
export const lastIdOf = (block: Buffer): number => block.readUInt32BE(0) * 0x100000000 + block.readUInt32BE(4);
export const countOf = (block: Buffer): number => block.readUInt16BE(8);

function pushVarint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

function entryBytes(out: number[], gap: number, p: Posting): void {
  pushVarint(out, gap);
  pushVarint(out, p.tf);
  pushVarint(out, p.len);
  let prev = 0;
  for (let i = 0; i < p.positions.length; i++) {
    pushVarint(out, i === 0 ? p.positions[0] : p.positions[i] - prev);
    prev = p.positions[i];
  }
}

function header(lastId: number, count: number): Buffer {
  const h = Buffer.allocUnsafe(HEAD);
  h.writeUInt32BE(Math.floor(lastId / 0x100000000), 0);
  h.writeUInt32BE(lastId >>> 0, 4);
  h.writeUInt16BE(count, 8);
  return h;
}

/** A block of postings (sorted by id, at least one); its key's firstId is ps[0].id. */
export function encodeBlock(ps: Posting[]): Buffer {
  const out: number[] = [];
  for (let i = 0; i < ps.length; i++) entryBytes(out, i === 0 ? 0 : ps[i].id - ps[i - 1].id, ps[i]);
  return Buffer.concat([header(ps[ps.length - 1].id, ps.length), Buffer.from(out)]);
}

/** The block with `p` added at its end (p.id greater than every id in it). */
export function appendToBlock(block: Buffer, p: Posting): Buffer {
  const out: number[] = [];
  entryBytes(out, p.id - lastIdOf(block), p);
  return Buffer.concat([header(p.id, countOf(block) + 1), block.subarray(HEAD), Buffer.from(out)]);
}

/**
 * Call `visit` for each posting of a block, in id order. Positions are decoded only when asked
 * for (otherwise skipped); the callback gets a fresh array each time.
 */
export function decodeBlock(firstId: number, block: Buffer, withPositions: boolean, visit: (id: number, tf: number, len: number, positions: number[] | undefined) => void): void {
  const n = countOf(block);
  let off = HEAD;
  let id = firstId;
  const b = block;
  const next = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const byte = b[off++];
      v += (byte & 0x7f) * mul;
      if (byte < 0x80) return v;
      mul *= 0x80;
    }
  };
  for (let k = 0; k < n; k++) {
    id += next();
    const tf = next();
    const len = next();
    if (withPositions) {
      const positions = new Array<number>(tf);
      let p = 0;
      for (let i = 0; i < tf; i++) positions[i] = p += next();
      visit(id, tf, len, positions);
    } else {
      // Skip the position varints: only their ends matter.
      for (let i = 0; i < tf; i++) while (b[off++] >= 0x80);
      visit(id, tf, len, undefined);
    }
  }
  if (off !== b.length) throw new RangeError('malformed posting block');
}

export function decodeAll(firstId: number, block: Buffer): Posting[] {
  const out: Posting[] = [];
  decodeBlock(firstId, block, true, (id, tf, len, positions) => out.push({ id, tf, len, positions: positions! }));
  return out;
}
