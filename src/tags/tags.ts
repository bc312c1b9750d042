// Tags on files and folders, over a scope (one transaction). Arguments arrive checked by the
// api layer (rules.ts); paths normalised. Each mutation is one operation-log record: tag,
// untag, tag.create, tag.delete, tag.rename, tag.copy. Layout: rows.ts; rules: docs/tags.md.
import { vfsError } from '../errors.js';
import { scan } from '../storage/contract.js';
import { resolve, type Found } from '../core/resolve.js';
import type { ReadScope, WriteScope } from '../core/scope.js';
import { decodeJson } from '../core/records.js';
import { addTag, getTagDef, putTagDef, removeTag, tagFileIno, tagFilesPrefix, tagsOf, tagDefKey, fileTagKey, tagFileKey, type TagDef } from './rows.js';
import { show } from './rules.js';

export interface TagInfo {
  name: string;
  /** Files and folders that have the tag. */
  count: number;
  /** `#rrggbb`, when one was given. */
  color?: string;
  createdMs: number;
}

export interface TagChange {
  /** The canonical path operated on (symlinks resolved). */
  path: string;
  /** How many files (and folders) gained or lost a tag. */
  files: number;
  /** The tags `path` itself has after the change. */
  tags: string[];
}

export function noSuchTag(tag: string): Error {
  return vfsError('ENOENT', undefined, `no tag named ${show(tag)} (see avfs tag --list)`);
}

function info(name: string, def: TagDef, count: number): TagInfo {
  return { name, count, ...(def.color !== undefined ? { color: def.color } : {}), createdMs: def.createdMs };
}

/** Every file below a folder (not folders, not symlinks), depth first, names in order. */
async function filesBelow(s: ReadScope, dirIno: number, out: number[]): Promise<void> {
  for (const c of await s.children(dirIno)) {
    if (c.type === 'file') out.push(c.ino);
    else if (c.type === 'directory') await filesBelow(s, c.ino, out);
  }
}

/** What a tag or untag applies to: the entry itself, or with `recursive` on a folder every file below it. */
async function targets(s: ReadScope, f: Found, recursive: boolean): Promise<number[]> {
  if (!recursive || f.node.type !== 'directory') return [f.ino];
  const out: number[] = [];
  await filesBelow(s, f.ino, out);
  return out;
}

/** Make the tags that do not exist yet (tagging with a new tag defines it). */
async function defineMissing(s: WriteScope, tags: string[]): Promise<string[]> {
  const made: string[] = [];
  for (const t of tags) {
    if (await getTagDef(s.tx, t)) continue;
    await putTagDef(s.tx, t, { createdMs: Date.now() });
    made.push(t);
  }
  return made;
}

export async function tagPath(s: WriteScope, path: string, tags: string[], recursive: boolean): Promise<TagChange> {
  const f = await resolve(s, path, true);
  const inos = await targets(s, f, recursive);
  await s.begin('tag', [path], { tags, ...(recursive ? { recursive: true } : {}) });
  const created = await defineMissing(s, tags);
  let files = 0;
  for (const ino of inos) {
    let changed = false;
    for (const t of tags) if (await addTag(s.tx, ino, t)) changed = true;
    if (changed) files++;
  }
  s.note({ files, ...(created.length > 0 ? { created } : {}) });
  return { path: f.path, files, tags: await tagsOf(s.tx, f.ino) };
}

/** Remove tags; every tag must exist (ENOENT), though a file need not have it. */
export async function untagPath(s: WriteScope, path: string, tags: string[], recursive: boolean): Promise<TagChange> {
  const f = await resolve(s, path, true);
  for (const t of tags) if (!(await getTagDef(s.tx, t))) throw noSuchTag(t);
  const inos = await targets(s, f, recursive);
  await s.begin('untag', [path], { tags, ...(recursive ? { recursive: true } : {}) });
  let files = 0;
  for (const ino of inos) {
    let changed = false;
    for (const t of tags) if (await removeTag(s.tx, ino, t)) changed = true;
    if (changed) files++;
  }
  s.note({ files });
  return { path: f.path, files, tags: await tagsOf(s.tx, f.ino) };
}

export async function tagsOfPath(s: ReadScope, path: string): Promise<{ path: string; tags: string[] }> {
  const f = await resolve(s, path, true);
  return { path: f.path, tags: await tagsOf(s.tx, f.ino) };
}

async function countOf(s: ReadScope, tag: string): Promise<number> {
  return s.tx.count('tag_files', { prefix: tagFilesPrefix(tag) });
}

/** Every defined tag, in name order, with how many files have it. */
export async function listTags(s: ReadScope): Promise<TagInfo[]> {
  const out: TagInfo[] = [];
  for await (const e of scan(s.tx, 'tag_defs')) {
    const name = e.key.toString();
    out.push(info(name, decodeJson<TagDef>(e.value), await countOf(s, name)));
  }
  return out;
}

export async function createTag(s: WriteScope, name: string, color: string | undefined): Promise<TagInfo> {
  if (await getTagDef(s.tx, name)) throw vfsError('EEXIST', undefined, `a tag named ${show(name)} already exists`);
  await s.begin('tag.create', [], { tag: name, target: `tag ${name}`, ...(color !== undefined ? { color } : {}) });
  const def: TagDef = { ...(color !== undefined ? { color } : {}), createdMs: Date.now() };
  await putTagDef(s.tx, name, def);
  return info(name, def, 0);
}

/** Delete a tag: its definition and every file's use of it. Returns how many files had it. */
export async function deleteTag(s: WriteScope, name: string): Promise<{ name: string; files: number }> {
  if (!(await getTagDef(s.tx, name))) throw noSuchTag(name);
  await s.begin('tag.delete', [], { tag: name, target: `tag ${name}` });
  let files = 0;
  for await (const e of scan(s.tx, 'tag_files', { prefix: tagFilesPrefix(name) })) {
    await s.tx.del('file_tags', fileTagKey(tagFileIno(e.key), name));
    await s.tx.del('tag_files', e.key);
    files++;
  }
  await s.tx.del('tag_defs', tagDefKey(name));
  s.note({ files });
  return { name, files };
}

/** Rename a tag everywhere (its colour and creation time stay). */
export async function renameTag(s: WriteScope, from: string, to: string): Promise<TagInfo> {
  const def = await getTagDef(s.tx, from);
  if (!def) throw noSuchTag(from);
  if (from === to) return info(to, def, await countOf(s, to));
  if (await getTagDef(s.tx, to)) throw vfsError('EEXIST', undefined, `a tag named ${show(to)} already exists`);
  await s.begin('tag.rename', [], { from, to, target: `tag ${from} -> ${to}` });
  let files = 0;
  for await (const e of scan(s.tx, 'tag_files', { prefix: tagFilesPrefix(from) })) {
    const ino = tagFileIno(e.key);
    await s.tx.del('file_tags', fileTagKey(ino, from));
    await s.tx.del('tag_files', e.key);
    await s.tx.put('file_tags', fileTagKey(ino, to), Buffer.alloc(0));
    await s.tx.put('tag_files', tagFileKey(to, ino), Buffer.alloc(0));
    files++;
  }
  await s.tx.del('tag_defs', tagDefKey(from));
  await putTagDef(s.tx, to, def);
  s.note({ files });
  return info(to, def, files);
}

/** Give `to` every tag `from` has (its own stay). Returns `to`'s tags after. */
export async function copyTags(s: WriteScope, from: string, to: string): Promise<{ path: string; tags: string[] }> {
  const src = await resolve(s, from, true);
  const dst = await resolve(s, to, true);
  await s.begin('tag.copy', [from, to]);
  const tags = await tagsOf(s.tx, src.ino);
  let added = 0;
  for (const t of tags) if (await addTag(s.tx, dst.ino, t)) added++;
  s.note({ tags, added });
  return { path: dst.path, tags: await tagsOf(s.tx, dst.ino) };
}

/** The inodes that have every one of `tags` (find -tag), or an empty set when a tag is unknown. */
export async function inosWithTags(s: ReadScope, tags: string[]): Promise<Set<number>> {
  let result: Set<number> | undefined;
  for (const t of tags) {
    const inos = new Set<number>();
    for await (const e of scan(s.tx, 'tag_files', { prefix: tagFilesPrefix(t) })) {
      const ino = tagFileIno(e.key);
      if (!result || result.has(ino)) inos.add(ino);
    }
    result = inos;
    if (result.size === 0) break;
  }
  return result ?? new Set();
}
