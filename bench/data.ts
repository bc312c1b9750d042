// The bytes every subject writes: made once per run, so all subjects write the same content.
// Random content: nothing compresses and no two small files share a chunk.
import { randomBytes } from 'node:crypto';
import type { FileSpec } from './subjects/subject.js';

export interface SmallSet {
  /** The tree: `folders` folders under /tree, files spread evenly. */
  tree: FileSpec[];
  folders: string[];
  /** The same number of files in one flat folder (for the flat listing). */
  flat: FileSpec[];
  bytesPerFile: number;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** `files` files of `bytes` each, as a sqrt(files) x sqrt(files) tree (100 x 100 for 10,000). */
export function makeSmallSet(files: number, bytes: number): SmallSet {
  const nFolders = Math.max(1, Math.round(Math.sqrt(files)));
  const perFolder = Math.ceil(files / nFolders);
  const folders: string[] = [];
  for (let d = 0; d < nFolders; d++) folders.push(`/tree/d${pad(d, 3)}`);
  const tree: FileSpec[] = [];
  const flat: FileSpec[] = [];
  const pool = randomBytes(files * bytes);
  for (let i = 0; i < files; i++) {
    const data = pool.subarray(i * bytes, (i + 1) * bytes);
    tree.push({ path: `${folders[Math.floor(i / perFolder)]}/f${pad(i % perFolder, 4)}.bin`, data });
    flat.push({ path: `/flat/f${pad(i, 5)}.bin`, data });
  }
  return { tree, folders, flat, bytesPerFile: bytes };
}

export function makeBigFile(mib: number): Buffer {
  return randomBytes(Math.round(mib * 1024 * 1024));
}
