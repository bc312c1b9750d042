// Content-addressed storage. A file's bytes are cut into fixed-size chunks (the vault's chunk
// size, 64 KiB by default), each stored once under its SHA-256. A file that fits one chunk is
// named by that chunk's hash (so its id equals `sha256sum` of the file); a bigger file is named
// by the hash of its manifest, the concatenated 32-byte hashes of its chunks.
//
// Fixed-size chunks keep range reads and in-place writes arithmetic (offset / chunk size), and
// make an append or a one-byte overwrite of a 100 MiB file cost one chunk plus one manifest
// (about 50 KiB), not the whole file. Identical content is stored once across files, versions
// and copies, because a put of a hash that is already there is skipped.
import { createRequire } from 'node:module';
import { vfsError } from '../errors.js';
import type { ReadTx, WriteTx } from '../storage/contract.js';

export const HASH_BYTES = 32;
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
/** SHA-256 of no bytes. */
export const EMPTY_HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface ContentRef {
  hash: string;
  size: number;
}

// node:crypto is loaded on the first hash, not at start-up: reads never hash, and loading it
// is a measurable share of a short command's time.
let createHash: typeof import('node:crypto').createHash | undefined;
export function sha256(data: Uint8Array): Buffer {
  createHash ??= (createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')).createHash;
  return createHash('sha256').update(data).digest();
}

async function putChunk(tx: WriteTx, data: Buffer): Promise<Buffer> {
  const h = sha256(data);
  if (!(await tx.has('chunks', h))) await tx.put('chunks', h, data);
  return h;
}

async function putManifest(tx: WriteTx, hashes: Buffer[]): Promise<string> {
  const m = Buffer.concat(hashes);
  const h = sha256(m);
  if (!(await tx.has('manifests', h))) await tx.put('manifests', h, m);
  return h.toString('hex');
}

/** Store chunks (each at most one chunk size long) and return their hashes, in order. */
export async function putChunks(tx: WriteTx, chunks: Buffer[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const c of chunks) out.push(await putChunk(tx, c));
  return out;
}

/**
 * The content made of chunks already stored (see putChunks), every chunk full but the last:
 * one chunk is its own id, more need a manifest, which this stores.
 */
export async function contentFromChunks(tx: WriteTx, hashes: Buffer[], size: number): Promise<ContentRef> {
  if (size === 0) return { hash: EMPTY_HASH, size: 0 };
  if (hashes.length === 1) return { hash: hashes[0].toString('hex'), size };
  return { hash: await putManifest(tx, hashes), size };
}

/** Store bytes as content; returns its id and size. */
export async function putContent(tx: WriteTx, data: Buffer, chunkSize: number): Promise<ContentRef> {
  if (data.length === 0) return { hash: EMPTY_HASH, size: 0 };
  if (data.length <= chunkSize) return { hash: (await putChunk(tx, data)).toString('hex'), size: data.length };
  const hashes: Buffer[] = [];
  for (let off = 0; off < data.length; off += chunkSize) {
    hashes.push(await putChunk(tx, data.subarray(off, off + chunkSize)));
  }
  return { hash: await putManifest(tx, hashes), size: data.length };
}

/** The chunk hashes that make up a piece of content, in order. */
export async function chunkList(tx: ReadTx, ref: ContentRef, chunkSize: number): Promise<Buffer[]> {
  if (ref.size === 0) return [];
  const id = Buffer.from(ref.hash, 'hex');
  if (ref.size <= chunkSize) return [id];
  const m = await tx.get('manifests', id);
  if (m === undefined) throw vfsError('ECORRUPT', undefined, `content manifest ${ref.hash.slice(0, 12)} is missing`);
  const list: Buffer[] = [];
  for (let off = 0; off < m.length; off += HASH_BYTES) list.push(m.subarray(off, off + HASH_BYTES));
  return list;
}

async function getChunk(tx: ReadTx, h: Buffer): Promise<Buffer> {
  const c = await tx.get('chunks', h);
  if (c === undefined) throw vfsError('ECORRUPT', undefined, `content chunk ${h.toString('hex').slice(0, 12)} is missing`);
  return c;
}

/** Read bytes [start, end) of content, touching only the chunks that cover that range. */
export async function readContent(tx: ReadTx, ref: ContentRef, chunkSize: number, start = 0, end = ref.size): Promise<Buffer> {
  start = Math.max(0, Math.min(start, ref.size));
  end = Math.max(start, Math.min(end, ref.size));
  if (end === start) return Buffer.alloc(0);
  const list = await chunkList(tx, ref, chunkSize);
  const first = Math.floor(start / chunkSize);
  const last = Math.floor((end - 1) / chunkSize);
  const parts: Buffer[] = [];
  for (let i = first; i <= last; i++) {
    const c = await getChunk(tx, list[i]);
    const base = i * chunkSize;
    parts.push(c.subarray(Math.max(0, start - base), Math.min(c.length, end - base)));
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/**
 * Write `data` at `offset` into existing content (extending it, zero-filled, if needed) and
 * return the new content. Only the chunks the write touches are read and stored again.
 */
export async function writeAt(tx: WriteTx, ref: ContentRef, offset: number, data: Buffer, chunkSize: number): Promise<ContentRef> {
  const newSize = Math.max(ref.size, offset + data.length);
  if (data.length === 0 && newSize === ref.size) return ref;
  // Small results are simplest rebuilt whole: at most one chunk is read and one written.
  if (newSize <= chunkSize) {
    const buf = Buffer.alloc(newSize);
    (await readContent(tx, ref, chunkSize)).copy(buf, 0);
    data.copy(buf, offset);
    return putContent(tx, buf, chunkSize);
  }
  const list = await chunkList(tx, ref, chunkSize);
  const oldLen = (i: number): number => Math.max(0, Math.min(chunkSize, ref.size - i * chunkSize));
  const lastIndex = Math.ceil(newSize / chunkSize) - 1;
  const first = Math.floor(offset / chunkSize);
  const last = Math.floor((offset + Math.max(data.length, 1) - 1) / chunkSize);
  // Only chunks the write covers, and the old last chunk if the file grows past it, change;
  // every other chunk keeps its hash without being read (lengths follow from the old size).
  const out: Buffer[] = list.slice(0, lastIndex + 1);
  for (let i = 0; i <= lastIndex; i++) {
    const len = Math.min(chunkSize, newSize - i * chunkSize);
    const covered = i >= first && i <= last && data.length > 0;
    if (!covered && i < list.length && oldLen(i) === len) continue;
    const base = i * chunkSize;
    const buf = Buffer.alloc(len);
    if (i < list.length) (await getChunk(tx, list[i])).copy(buf, 0);
    const from = Math.max(offset, base);
    const to = Math.min(offset + data.length, base + len);
    if (to > from) data.copy(buf, from - base, from - offset, to - offset);
    out[i] = await putChunk(tx, buf);
  }
  return { hash: await putManifest(tx, out), size: newSize };
}

/** Cut content to `size` bytes (or extend it with zeros). */
export async function truncateContent(tx: WriteTx, ref: ContentRef, size: number, chunkSize: number): Promise<ContentRef> {
  if (size === ref.size) return ref;
  // Growing: writing one zero byte at the new end zero-fills everything in between.
  if (size > ref.size) return writeAt(tx, ref, size - 1, Buffer.alloc(1), chunkSize);
  if (size === 0) return { hash: EMPTY_HASH, size: 0 };
  if (size <= chunkSize) return putContent(tx, await readContent(tx, ref, chunkSize, 0, size), chunkSize);
  const list = await chunkList(tx, ref, chunkSize);
  const keep = Math.ceil(size / chunkSize);
  const out = list.slice(0, keep);
  const tail = size - (keep - 1) * chunkSize;
  if (tail !== chunkSize) out[keep - 1] = await putChunk(tx, (await getChunk(tx, list[keep - 1])).subarray(0, tail));
  return { hash: await putManifest(tx, out), size };
}

/** Check that content is whole: manifest and chunks present, and every hash matches its bytes. */
export async function verifyContent(tx: ReadTx, ref: ContentRef, chunkSize: number, verified?: Set<string>): Promise<string[]> {
  const problems: string[] = [];
  let list: Buffer[];
  try {
    list = await chunkList(tx, ref, chunkSize);
  } catch (e) {
    return [(e as Error).message];
  }
  if (ref.size > chunkSize && list.length !== Math.ceil(ref.size / chunkSize)) {
    problems.push(`manifest ${ref.hash.slice(0, 12)} lists ${list.length} chunks for ${ref.size} bytes`);
  }
  if (ref.size > chunkSize && sha256(Buffer.concat(list)).toString('hex') !== ref.hash) {
    problems.push(`manifest ${ref.hash.slice(0, 12)} does not match its hash`);
  }
  let total = 0;
  for (const h of list) {
    // Chunks shared by many files are hashed once per check; their length still counts.
    const key = h.toString('hex');
    const c = await tx.get('chunks', h);
    if (c === undefined) {
      problems.push(`chunk ${h.toString('hex').slice(0, 12)} is missing`);
      continue;
    }
    if (!verified?.has(key)) {
      if (!sha256(c).equals(h)) problems.push(`chunk ${key.slice(0, 12)} does not match its hash`);
      else verified?.add(key);
    }
    total += c.length;
  }
  if (problems.length === 0 && total !== ref.size) problems.push(`content ${ref.hash.slice(0, 12)} holds ${total} bytes, inode says ${ref.size}`);
  return problems;
}
