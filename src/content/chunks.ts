// Content-addressed storage. A file's bytes are cut into fixed-size chunks (the vault's chunk
// size, 64 KiB by default), each stored once under its SHA-256. A file that fits one chunk is
// named by that chunk's hash (so its id equals `sha256sum` of the file); a bigger file is named
// by the hash of its manifest.
//
// Manifests come in two kinds, both in the `manifests` collection under their SHA-256:
//   - flat: the concatenated 32-byte hashes of the chunks (length a multiple of 32). Content of
//     up to LEAF_CHUNKS chunks (16 MiB at 64 KiB) has one, and so does every manifest written
//     before two-level manifests existed, whatever its size: those keep reading.
//   - root: ROOT_TAG, the chunks per leaf (u32 BE), then the 32-byte hashes of its leaves (length
//     8 + 32n, never a multiple of 32, so the two kinds cannot be mistaken). Each leaf is a flat
//     manifest of LEAF_CHUNKS consecutive chunks (the last may hold fewer). Content of more than
//     LEAF_CHUNKS chunks is written this way.
// The split is fixed by the chunk count, so the same bytes always get the same id.
//
// Fixed-size chunks keep range reads and in-place writes arithmetic (offset / chunk size); the
// leaves keep an append or a one-byte overwrite of a 100 MiB file at one chunk, one 8 KiB leaf
// and a root of a few hundred bytes, not the whole file nor a 50 KiB flat manifest. Identical
// content is stored once across files, versions and copies (chunks and leaves alike), because a
// put of a hash that is already there is skipped.
import { createRequire } from 'node:module';
import { vfsError } from '../errors.js';
import { getMany, hasMany, putNew, type ReadTx, type WriteTx } from '../storage/contract.js';

export const HASH_BYTES = 32;
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
/** Chunks per leaf of a two-level manifest (a leaf is 8 KiB of hashes). */
export const LEAF_CHUNKS = 256;
/** First bytes of a root manifest. */
export const ROOT_TAG = Buffer.from('AVM2');
const ROOT_HEAD = ROOT_TAG.length + 4;
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

const short = (h: Buffer | string) => (typeof h === 'string' ? h : h.toString('hex')).slice(0, 12);

async function putChunk(tx: WriteTx, data: Buffer): Promise<Buffer> {
  const h = sha256(data);
  await putNew(tx, 'chunks', h, data);
  return h;
}

async function putManifestBytes(tx: WriteTx, m: Buffer): Promise<Buffer> {
  const h = sha256(m);
  await putNew(tx, 'manifests', h, m);
  return h;
}

const splitHashes = (m: Buffer, from = 0): Buffer[] => {
  const list: Buffer[] = [];
  for (let off = from; off + HASH_BYTES <= m.length; off += HASH_BYTES) list.push(m.subarray(off, off + HASH_BYTES));
  return list;
};

/** A stored manifest, parsed: the chunk hashes of a flat one, the leaf hashes of a root. */
export type Manifest = { kind: 'flat'; chunks: Buffer[] } | { kind: 'root'; leafChunks: number; leaves: Buffer[] };

export function parseManifest(m: Buffer, id: Buffer | string): Manifest {
  if (m.length % HASH_BYTES === 0) return { kind: 'flat', chunks: splitHashes(m) };
  const leafChunks = m.length >= ROOT_HEAD && m.subarray(0, ROOT_TAG.length).equals(ROOT_TAG) ? m.readUInt32BE(ROOT_TAG.length) : 0;
  if (leafChunks === 0 || (m.length - ROOT_HEAD) % HASH_BYTES !== 0) throw vfsError('ECORRUPT', undefined, `content manifest ${short(id)} is malformed`);
  return { kind: 'root', leafChunks, leaves: splitHashes(m, ROOT_HEAD) };
}

async function getManifest(tx: ReadTx, id: Buffer, what = 'content manifest'): Promise<Manifest> {
  const m = await tx.get('manifests', id);
  if (m === undefined) throw vfsError('ECORRUPT', undefined, `${what} ${short(id)} is missing`);
  return parseManifest(m, id);
}

/** The chunk hashes of one leaf of a root manifest. */
async function getLeaf(tx: ReadTx, id: Buffer): Promise<Buffer[]> {
  const leaf = await getManifest(tx, id, 'content manifest leaf');
  if (leaf.kind !== 'flat') throw vfsError('ECORRUPT', undefined, `content manifest leaf ${short(id)} is not a list of chunks`);
  return leaf.chunks;
}

/** Store the manifest for these chunk hashes (flat up to LEAF_CHUNKS, two-level above); its id. */
async function putManifest(tx: WriteTx, hashes: Buffer[]): Promise<string> {
  if (hashes.length <= LEAF_CHUNKS) return (await putManifestBytes(tx, Buffer.concat(hashes))).toString('hex');
  const leaves: Buffer[] = [];
  for (let i = 0; i < hashes.length; i += LEAF_CHUNKS) leaves.push(await putManifestBytes(tx, Buffer.concat(hashes.slice(i, i + LEAF_CHUNKS))));
  return (await putRoot(tx, leaves)).toString('hex');
}

async function putRoot(tx: WriteTx, leaves: Buffer[]): Promise<Buffer> {
  const head = Buffer.alloc(ROOT_HEAD);
  ROOT_TAG.copy(head);
  head.writeUInt32BE(LEAF_CHUNKS, ROOT_TAG.length);
  return putManifestBytes(tx, Buffer.concat([head, ...leaves]));
}

/** Chunks asked about at once: a round trip each on postgres (ReadTx.hasMany), 16 MiB of 64 KiB chunks. */
const HAS_GROUP = 256;

/**
 * Store chunks (each at most one chunk size long) and return their hashes, in order. Which are
 * already stored is asked a group at a time (one statement on postgres instead of one per
 * chunk: a 100 MiB write made 1,600 round trips); a chunk that comes twice is put once.
 */
export async function putChunks(tx: WriteTx, chunks: Buffer[]): Promise<Buffer[]> {
  if (chunks.length === 1) return [await putChunk(tx, chunks[0])];
  const out: Buffer[] = [];
  const put = new Set<string>();
  for (let from = 0; from < chunks.length; from += HAS_GROUP) {
    const group = chunks.slice(from, from + HAS_GROUP);
    const hashes = group.map((c) => sha256(c));
    const stored = await hasMany(tx, 'chunks', hashes);
    for (let i = 0; i < group.length; i++) {
      const id = hashes[i].toString('latin1');
      if (!stored[i] && !put.has(id)) await tx.put('chunks', hashes[i], group[i]);
      put.add(id);
      out.push(hashes[i]);
    }
  }
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
  const pieces: Buffer[] = [];
  for (let off = 0; off < data.length; off += chunkSize) pieces.push(data.subarray(off, off + chunkSize));
  return { hash: await putManifest(tx, await putChunks(tx, pieces)), size: data.length };
}

/**
 * The chunk hashes of a piece of content, read a leaf at a time as asked for, changed in
 * place, and stored again with only the leaves that changed (see ChunkTable.store).
 */
class ChunkTable {
  /** Per leaf of LEAF_CHUNKS chunks: its stored hash while unchanged, its chunk list once read. */
  private leafIds: (Buffer | undefined)[] = [];
  private leafLists: (Buffer[] | undefined)[] = [];
  count = 0;

  private constructor(private tx: ReadTx) {}

  static async open(tx: ReadTx, ref: ContentRef, chunkSize: number): Promise<ChunkTable> {
    const t = new ChunkTable(tx);
    if (ref.size === 0) return t;
    const id = Buffer.from(ref.hash, 'hex');
    t.count = Math.ceil(ref.size / chunkSize);
    if (ref.size <= chunkSize) {
      t.leafLists = [[id]];
      t.leafIds = [undefined];
      return t;
    }
    const m = await getManifest(tx, id);
    if (m.kind === 'flat') {
      // Flat manifests (small content, or written before roots existed) are regrouped into
      // leaves, none of them stored yet.
      for (let i = 0; i < m.chunks.length; i += LEAF_CHUNKS) {
        t.leafLists.push(m.chunks.slice(i, i + LEAF_CHUNKS));
        t.leafIds.push(undefined);
      }
      t.count = m.chunks.length;
    } else {
      if (m.leafChunks !== LEAF_CHUNKS) throw vfsError('ECORRUPT', undefined, `content manifest ${short(id)} has leaves of ${m.leafChunks} chunks`);
      t.leafIds = [...m.leaves];
      t.leafLists = m.leaves.map(() => undefined);
    }
    return t;
  }

  private async leaf(j: number): Promise<Buffer[]> {
    let list = this.leafLists[j];
    if (list === undefined) {
      const id = this.leafIds[j];
      if (id === undefined) throw new Error(`chunk table: leaf ${j} is neither stored nor held`);
      list = this.leafLists[j] = await getLeaf(this.tx, id);
    }
    return list;
  }

  async get(i: number): Promise<Buffer> {
    const list = await this.leaf(Math.floor(i / LEAF_CHUNKS));
    const h = list[i % LEAF_CHUNKS];
    if (h === undefined) throw vfsError('ECORRUPT', undefined, `content manifest has no chunk ${i}`);
    return h;
  }

  /** Hashes of chunks first..last (inclusive), reading only the leaves that hold them. */
  async slice(first: number, last: number): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (let i = first; i <= last; i++) out.push(await this.get(i));
    return out;
  }

  async all(): Promise<Buffer[]> {
    return this.count === 0 ? [] : this.slice(0, this.count - 1);
  }

  /** Set chunk i (i <= count: at count it is appended). */
  async set(i: number, h: Buffer): Promise<void> {
    const j = Math.floor(i / LEAF_CHUNKS);
    if (j === this.leafIds.length) {
      this.leafIds.push(undefined);
      this.leafLists.push([]);
    }
    const list = await this.leaf(j);
    list[i % LEAF_CHUNKS] = h;
    this.leafIds[j] = undefined;
    this.count = Math.max(this.count, i + 1);
  }

  /** Keep the first n chunks. */
  async cut(n: number): Promise<void> {
    if (n >= this.count) return;
    const leaves = Math.ceil(n / LEAF_CHUNKS);
    this.leafIds.length = leaves;
    this.leafLists.length = leaves;
    if (n % LEAF_CHUNKS !== 0) {
      const j = leaves - 1;
      this.leafLists[j] = (await this.leaf(j)).slice(0, n % LEAF_CHUNKS);
      this.leafIds[j] = undefined;
    }
    this.count = n;
  }

  /** Store the content these chunks make: changed leaves and a new root (or a flat manifest). */
  async store(tx: WriteTx, size: number): Promise<ContentRef> {
    if (size === 0 || this.count === 0) return { hash: EMPTY_HASH, size: 0 };
    if (this.count === 1) return { hash: (await this.get(0)).toString('hex'), size };
    if (this.count <= LEAF_CHUNKS) return { hash: await putManifest(tx, await this.leaf(0)), size };
    for (let j = 0; j < this.leafIds.length; j++) {
      if (this.leafIds[j] === undefined) this.leafIds[j] = await putManifestBytes(tx, Buffer.concat(await this.leaf(j)));
    }
    return { hash: (await putRoot(tx, this.leafIds as Buffer[])).toString('hex'), size };
  }
}

/** The chunk hashes that make up a piece of content, in order (every leaf read). */
export async function chunkList(tx: ReadTx, ref: ContentRef, chunkSize: number): Promise<Buffer[]> {
  return (await ChunkTable.open(tx, ref, chunkSize)).all();
}

/**
 * The manifests and chunks a manifest names (itself, its leaves, their chunks), for gc, fork and
 * check; ids it names that are not stored are listed in `missing`.
 */
export async function manifestParts(tx: ReadTx, id: Buffer): Promise<{ manifests: Buffer[]; chunks: Buffer[]; missing: Buffer[] }> {
  const out = { manifests: [] as Buffer[], chunks: [] as Buffer[], missing: [] as Buffer[] };
  const raw = await tx.get('manifests', id);
  if (raw === undefined) {
    out.missing.push(id);
    return out;
  }
  out.manifests.push(id);
  const m = parseManifest(raw, id);
  if (m.kind === 'flat') {
    out.chunks = m.chunks;
    return out;
  }
  for (const leaf of m.leaves) {
    const l = await tx.get('manifests', leaf);
    if (l === undefined) {
      out.missing.push(leaf);
      continue;
    }
    out.manifests.push(leaf);
    out.chunks.push(...splitHashes(l));
  }
  return out;
}

/** Chunks asked for at once when reading (4 MiB at the default 64 KiB chunk size). */
const READ_GROUP = 64;

async function getChunk(tx: ReadTx, h: Buffer): Promise<Buffer> {
  const c = await tx.get('chunks', h);
  if (c === undefined) throw vfsError('ECORRUPT', undefined, `content chunk ${short(h)} is missing`);
  return c;
}

/** Read bytes [start, end) of content, touching only the chunks (and leaves) that cover that range. */
export async function readContent(tx: ReadTx, ref: ContentRef, chunkSize: number, start = 0, end = ref.size): Promise<Buffer> {
  start = Math.max(0, Math.min(start, ref.size));
  end = Math.max(start, Math.min(end, ref.size));
  if (end === start) return Buffer.alloc(0);
  const table = await ChunkTable.open(tx, ref, chunkSize);
  const first = Math.floor(start / chunkSize);
  const last = Math.floor((end - 1) / chunkSize);
  // Chunks are asked for READ_GROUP at a time: one round trip each on a network engine
  // (ReadTx.getMany), the same gets one by one on the others. Each is copied into the answer as
  // it comes, so it is garbage at once and its memory is used again for the next ones: holding
  // them all for one concat at the end made every chunk fresh memory, and on a VM a fresh page
  // is expensive (a 100 MiB read paid for 200 MiB of page faults, twice what fs.readFile pays).
  const out = first === last ? undefined : Buffer.allocUnsafe(end - start);
  let at = 0;
  let only: Buffer | undefined;
  for (let g = first; g <= last; g += READ_GROUP) {
    const hashes = await table.slice(g, Math.min(last, g + READ_GROUP - 1));
    const chunks = await getMany(tx, 'chunks', hashes);
    for (let j = 0; j < hashes.length; j++) {
      const c = chunks[j];
      if (c === undefined) throw vfsError('ECORRUPT', undefined, `content chunk ${short(hashes[j])} is missing`);
      const base = (g + j) * chunkSize;
      const part = c.subarray(Math.max(0, start - base), Math.min(c.length, end - base));
      if (out === undefined) only = part;
      else at += part.copy(out, at);
      chunks[j] = undefined;
    }
  }
  const got = out === undefined ? only! : out.subarray(0, at);
  if (got.length !== end - start) throw vfsError('ECORRUPT', undefined, `content is ${got.length} bytes where ${end - start} were expected (a chunk is short)`);
  return got;
}

/**
 * Write `data` at `offset` into existing content (extending it, zero-filled, if needed) and
 * return the new content. Only the chunks the write touches, and the leaves holding them, are
 * read and stored again.
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
  const table = await ChunkTable.open(tx, ref, chunkSize);
  const oldCount = table.count;
  const oldLen = (i: number): number => Math.max(0, Math.min(chunkSize, ref.size - i * chunkSize));
  const lastIndex = Math.ceil(newSize / chunkSize) - 1;
  const first = Math.floor(offset / chunkSize);
  const last = Math.floor((offset + Math.max(data.length, 1) - 1) / chunkSize);
  // Only chunks the write covers, the old last chunk if the file grows past it, and the new
  // chunks past the old end change; every other chunk keeps its hash without being read.
  const zeros = new Map<number, Buffer>();
  for (let i = Math.min(first, Math.max(0, oldCount - 1)); i <= lastIndex; i++) {
    const len = Math.min(chunkSize, newSize - i * chunkSize);
    const covered = i >= first && i <= last && data.length > 0;
    if (!covered && i < oldCount && oldLen(i) === len) continue;
    if (!covered && i >= oldCount) {
      // A gap of zeros: one chunk per length, stored once.
      let z = zeros.get(len);
      if (!z) zeros.set(len, (z = await putChunk(tx, Buffer.alloc(len))));
      await table.set(i, z);
      continue;
    }
    const base = i * chunkSize;
    const buf = Buffer.alloc(len);
    if (i < oldCount) (await getChunk(tx, await table.get(i))).copy(buf, 0);
    const from = Math.max(offset, base);
    const to = Math.min(offset + data.length, base + len);
    if (to > from) data.copy(buf, from - base, from - offset, to - offset);
    await table.set(i, await putChunk(tx, buf));
  }
  return table.store(tx, newSize);
}

/** Cut content to `size` bytes (or extend it with zeros). */
export async function truncateContent(tx: WriteTx, ref: ContentRef, size: number, chunkSize: number): Promise<ContentRef> {
  if (size === ref.size) return ref;
  // Growing: writing one zero byte at the new end zero-fills everything in between.
  if (size > ref.size) return writeAt(tx, ref, size - 1, Buffer.alloc(1), chunkSize);
  if (size === 0) return { hash: EMPTY_HASH, size: 0 };
  if (size <= chunkSize) return putContent(tx, await readContent(tx, ref, chunkSize, 0, size), chunkSize);
  const table = await ChunkTable.open(tx, ref, chunkSize);
  const keep = Math.ceil(size / chunkSize);
  await table.cut(keep);
  const tail = size - (keep - 1) * chunkSize;
  if (tail !== chunkSize) await table.set(keep - 1, await putChunk(tx, (await getChunk(tx, await table.get(keep - 1))).subarray(0, tail)));
  return table.store(tx, size);
}

/** Check that content is whole: manifests (root and leaves) and chunks present, every hash matching its bytes. */
export async function verifyContent(tx: ReadTx, ref: ContentRef, chunkSize: number, verified?: Set<string>): Promise<string[]> {
  const problems: string[] = [];
  let list: Buffer[];
  if (ref.size <= chunkSize) {
    list = ref.size === 0 ? [] : [Buffer.from(ref.hash, 'hex')];
  } else {
    const id = Buffer.from(ref.hash, 'hex');
    const raw = await tx.get('manifests', id);
    if (raw === undefined) return [`content manifest ${short(id)} is missing`];
    if (!sha256(raw).equals(id)) problems.push(`manifest ${short(id)} does not match its hash`);
    let m: Manifest;
    try {
      m = parseManifest(raw, id);
    } catch (e) {
      return [...problems, (e as Error).message];
    }
    if (m.kind === 'flat') {
      list = m.chunks;
    } else {
      list = [];
      if (m.leafChunks !== LEAF_CHUNKS) problems.push(`manifest ${short(id)} has leaves of ${m.leafChunks} chunks`);
      for (const [j, leafId] of m.leaves.entries()) {
        const leaf = await tx.get('manifests', leafId);
        if (leaf === undefined) {
          problems.push(`manifest leaf ${short(leafId)} is missing`);
          continue;
        }
        if (!sha256(leaf).equals(leafId)) problems.push(`manifest leaf ${short(leafId)} does not match its hash`);
        const chunks = splitHashes(leaf);
        if (leaf.length % HASH_BYTES !== 0 || (j < m.leaves.length - 1 && chunks.length !== m.leafChunks)) {
          problems.push(`manifest leaf ${short(leafId)} lists ${chunks.length} chunks`);
        }
        list.push(...chunks);
      }
      if (problems.length > 0) return problems;
    }
    if (list.length !== Math.ceil(ref.size / chunkSize)) problems.push(`manifest ${short(id)} lists ${list.length} chunks for ${ref.size} bytes`);
  }
  let total = 0;
  for (const h of list) {
    // Chunks shared by many files are hashed once per check; their length still counts.
    const key = h.toString('hex');
    const c = await tx.get('chunks', h);
    if (c === undefined) {
      problems.push(`chunk ${short(h)} is missing`);
      continue;
    }
    if (!verified?.has(key)) {
      if (!sha256(c).equals(h)) problems.push(`chunk ${key.slice(0, 12)} does not match its hash`);
      else verified?.add(key);
    }
    total += c.length;
  }
  if (problems.length === 0 && total !== ref.size) problems.push(`content ${short(ref.hash)} holds ${total} bytes, inode says ${ref.size}`);
  return problems;
}
