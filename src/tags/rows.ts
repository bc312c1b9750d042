// How tags and metadata are laid out in storage (docs/tags.md), and the row-level work the
// filesystem model needs: a file's tags and metadata, dropping them with the inode, copying
// them to a copy. Keyed by inode, so a rename or move never touches them.
//
//   tag_defs   tag                    -> {"color"?: "#rrggbb", "createdMs": n}
//   file_tags  ino(8) tag             -> empty      (a file's tags, in name order)
//   tag_files  tag 0x00 ino(8)        -> empty      (a tag's files, for counts, find -tag, rename)
//   file_meta  ino(8) key             -> value (UTF-8)
//
// Tag names and metadata keys never hold NUL (rules.ts), so 0x00 ends a tag inside a key.
import type { Engine, ReadTx, WriteTx } from '../storage/contract.js';
import { scan } from '../storage/contract.js';
import { decodeJson, encodeJson, readU64, u64 } from '../core/records.js';

export interface TagDef {
  color?: string;
  createdMs: number;
}

const EMPTY = Buffer.alloc(0);

export const tagDefKey = (tag: string): Buffer => Buffer.from(tag);
export const fileTagKey = (ino: number, tag: string): Buffer => Buffer.concat([u64(ino), Buffer.from(tag)]);
export const tagFilesPrefix = (tag: string): Buffer => Buffer.concat([Buffer.from(tag), Buffer.from([0])]);
export const tagFileKey = (tag: string, ino: number): Buffer => Buffer.concat([tagFilesPrefix(tag), u64(ino)]);
export const fileMetaKey = (ino: number, key: string): Buffer => Buffer.concat([u64(ino), Buffer.from(key)]);

/** The ino at the end of a tag_files key. */
export const tagFileIno = (key: Buffer): number => readU64(key, key.length - 8);

// Whether a store holds any tag or metadata row at all, per transaction: most vaults have
// none, and then an rm -r of 100,000 files should not cost 200,000 extra range reads.
const anyRows = new WeakMap<ReadTx, boolean>();

async function hasAnyRows(tx: ReadTx): Promise<boolean> {
  let any = anyRows.get(tx);
  if (any === undefined) {
    any = (await tx.range('file_tags', { limit: 1 })).length > 0 || (await tx.range('file_meta', { limit: 1 })).length > 0;
    anyRows.set(tx, any);
  }
  return any;
}

/** A row is about to be written in this transaction: the shortcut above no longer holds. */
function touched(tx: ReadTx): void {
  anyRows.set(tx, true);
}

export async function getTagDef(tx: ReadTx, tag: string): Promise<TagDef | undefined> {
  const raw = await tx.get('tag_defs', tagDefKey(tag));
  return raw === undefined ? undefined : decodeJson<TagDef>(raw);
}

export async function putTagDef(tx: WriteTx, tag: string, def: TagDef): Promise<void> {
  await tx.put('tag_defs', tagDefKey(tag), encodeJson(def));
}

/** A file's tags, in name order (bytewise UTF-8). */
export async function tagsOf(tx: ReadTx, ino: number): Promise<string[]> {
  const rows = await tx.range('file_tags', { prefix: u64(ino) });
  return rows.map((e) => e.key.subarray(8).toString());
}

/** A file's metadata, keys in order (bytewise UTF-8). */
export async function metaOf(tx: ReadTx, ino: number): Promise<Record<string, string>> {
  const rows = await tx.range('file_meta', { prefix: u64(ino) });
  // fromEntries makes own properties even of "__proto__"; a plain assignment would not.
  return Object.fromEntries(rows.map((e) => [e.key.subarray(8).toString(), e.value.toString()]));
}

/** Tag a file; false when it had the tag already. */
export async function addTag(tx: WriteTx, ino: number, tag: string): Promise<boolean> {
  const key = fileTagKey(ino, tag);
  if (await tx.has('file_tags', key)) return false;
  touched(tx);
  await tx.put('file_tags', key, EMPTY);
  await tx.put('tag_files', tagFileKey(tag, ino), EMPTY);
  return true;
}

/** Untag a file; false when it did not have the tag. */
export async function removeTag(tx: WriteTx, ino: number, tag: string): Promise<boolean> {
  const key = fileTagKey(ino, tag);
  if (!(await tx.has('file_tags', key))) return false;
  await tx.del('file_tags', key);
  await tx.del('tag_files', tagFileKey(tag, ino));
  return true;
}

export async function setMetaRow(tx: WriteTx, ino: number, key: string, value: string): Promise<void> {
  touched(tx);
  await tx.put('file_meta', fileMetaKey(ino, key), Buffer.from(value));
}

export async function delMetaRow(tx: WriteTx, ino: number, key: string): Promise<boolean> {
  const k = fileMetaKey(ino, key);
  if (!(await tx.has('file_meta', k))) return false;
  await tx.del('file_meta', k);
  return true;
}

/** The inode is gone: its tags and metadata go with it, in the same transaction. */
export async function dropAttrs(tx: WriteTx, ino: number): Promise<void> {
  if (!(await hasAnyRows(tx))) return;
  for (const tag of await tagsOf(tx, ino)) await removeTag(tx, ino, tag);
  for (const e of await tx.range('file_meta', { prefix: u64(ino) })) await tx.del('file_meta', e.key);
}

/**
 * Give inode `to` the tags and metadata of inode `from` (cp). With `replace`, what `to` had
 * before goes first, so the copy ends with exactly the source's.
 */
export async function copyAttrs(tx: WriteTx, from: number, to: number, replace: boolean): Promise<void> {
  if (from === to || !(await hasAnyRows(tx))) return;
  if (replace) await dropAttrs(tx, to);
  for (const tag of await tagsOf(tx, from)) await addTag(tx, to, tag);
  for (const e of await tx.range('file_meta', { prefix: u64(from) })) {
    touched(tx);
    await tx.put('file_meta', Buffer.concat([u64(to), e.key.subarray(8)]), e.value);
  }
}

/**
 * Delete the tag and metadata rows of inodes that no longer exist. A fork made at an earlier
 * point rebuilds its current tree from history; the rows it copied for files that did not
 * exist then are dropped here. Returns how many rows went.
 */
export async function dropOrphanAttrs(engine: Engine): Promise<number> {
  const doomed = await engine.read(async (tx) => {
    const inos = new Set<number>();
    for await (const e of scan(tx, 'file_tags')) inos.add(readU64(e.key));
    for await (const e of scan(tx, 'file_meta')) inos.add(readU64(e.key));
    const gone: number[] = [];
    for (const ino of inos) if (!(await tx.has('inodes', u64(ino)))) gone.push(ino);
    return gone;
  });
  let rows = 0;
  for (let i = 0; i < doomed.length; i += 500) {
    const part = doomed.slice(i, i + 500);
    rows += await engine.write(async (tx) => {
      let n = 0;
      for (const ino of part) {
        for (const tag of await tagsOf(tx, ino)) n += (await removeTag(tx, ino, tag)) ? 2 : 0;
        for (const e of await tx.range('file_meta', { prefix: u64(ino) })) {
          await tx.del('file_meta', e.key);
          n++;
        }
      }
      return n;
    });
  }
  return rows;
}

/** Consistency of the rows (vault check): every row pairs up and names a live inode and a defined tag. */
export async function checkAttrs(tx: ReadTx, inodeExists: (ino: number) => boolean): Promise<string[]> {
  const problems: string[] = [];
  const defs = new Set<string>();
  for await (const e of scan(tx, 'tag_defs')) defs.add(e.key.toString());
  for await (const e of scan(tx, 'file_tags')) {
    const ino = readU64(e.key);
    const tag = e.key.subarray(8).toString();
    if (!inodeExists(ino)) problems.push(`tag ${JSON.stringify(tag)} is on inode ${ino}, which does not exist`);
    if (!defs.has(tag)) problems.push(`tag ${JSON.stringify(tag)} on inode ${ino} has no definition`);
    if (!(await tx.has('tag_files', tagFileKey(tag, ino)))) problems.push(`tag ${JSON.stringify(tag)} on inode ${ino} is missing from the tag's file list`);
  }
  for await (const e of scan(tx, 'tag_files')) {
    const ino = tagFileIno(e.key);
    const tag = e.key.subarray(0, e.key.length - 9).toString();
    if (!(await tx.has('file_tags', fileTagKey(ino, tag)))) problems.push(`tag ${JSON.stringify(tag)} lists inode ${ino}, which does not have it`);
  }
  for await (const e of scan(tx, 'file_meta')) {
    const ino = readU64(e.key);
    if (!inodeExists(ino)) problems.push(`metadata ${JSON.stringify(e.key.subarray(8).toString())} is on inode ${ino}, which does not exist`);
  }
  return problems;
}
