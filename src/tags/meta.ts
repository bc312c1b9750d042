// Metadata (string key/value pairs) on files and folders, over a scope (one transaction).
// Arguments arrive checked by the api layer (rules.ts). Each mutation is one operation-log
// record: meta.set, meta.unset, meta.import, meta.copy. Layout: rows.ts; rules: docs/tags.md.
import { vfsError } from '../errors.js';
import { joinPath } from '../core/paths.js';
import { resolve } from '../core/resolve.js';
import type { ReadScope, WriteScope } from '../core/scope.js';
import { delMetaRow, fileMetaKey, metaOf, setMetaRow } from './rows.js';
import { show, type MetaExport, type MetaMap } from './rules.js';

export async function getMeta(s: ReadScope, path: string): Promise<{ path: string; meta: MetaMap }> {
  const f = await resolve(s, path, true);
  return { path: f.path, meta: await metaOf(s.tx, f.ino) };
}

export async function getMetaValue(s: ReadScope, path: string, key: string): Promise<string> {
  const f = await resolve(s, path, true);
  const raw = await s.tx.get('file_meta', fileMetaKey(f.ino, key));
  if (raw === undefined) throw vfsError('ENOENT', f.path, `no metadata key ${show(key)}`);
  return raw.toString();
}

/** Set keys on one path; returns its metadata after. */
export async function setMeta(s: WriteScope, path: string, pairs: [string, string][]): Promise<{ path: string; meta: MetaMap }> {
  const f = await resolve(s, path, true);
  await s.begin('meta.set', [path], { keys: pairs.map(([k]) => k) });
  for (const [k, v] of pairs) await setMetaRow(s.tx, f.ino, k, v);
  return { path: f.path, meta: await metaOf(s.tx, f.ino) };
}

/** Remove keys from one path (a key it does not have is no error); returns the keys removed. */
export async function unsetMeta(s: WriteScope, path: string, keys: string[]): Promise<{ path: string; removed: string[] }> {
  const f = await resolve(s, path, true);
  await s.begin('meta.unset', [path], { keys });
  const removed: string[] = [];
  for (const k of keys) if (await delMetaRow(s.tx, f.ino, k)) removed.push(k);
  s.note({ removed: removed.length });
  return { path: f.path, removed };
}

/**
 * The metadata of `path` and, for a folder, of everything below it that has any:
 * {"/canonical/path": {"key": "value"}}. `path` itself is always in it (perhaps as {}).
 */
export async function exportMeta(s: ReadScope, path: string): Promise<MetaExport> {
  const f = await resolve(s, path, true);
  const out: MetaExport = {};
  Object.defineProperty(out, f.path, { value: await metaOf(s.tx, f.ino), enumerable: true, writable: true, configurable: true });
  if (f.node.type !== 'directory') return out;
  const walk = async (dirIno: number, dirPath: string): Promise<void> => {
    for (const c of await s.children(dirIno)) {
      const p = joinPath(dirPath, c.name);
      const meta = await metaOf(s.tx, c.ino);
      if (Object.keys(meta).length > 0) Object.defineProperty(out, p, { value: meta, enumerable: true, writable: true, configurable: true });
      if (c.type === 'directory') await walk(c.ino, p);
    }
  };
  await walk(f.ino, f.path);
  return out;
}

/**
 * Set the keys of every path in the document (merge: keys not named stay). Every path must
 * exist; one that does not refuses the whole import (one transaction, nothing written).
 */
export async function importMeta(s: WriteScope, doc: [string, [string, string][]][]): Promise<{ paths: number; keys: number }> {
  const found: { ino: number; pairs: [string, string][] }[] = [];
  for (const [path, pairs] of doc) {
    const f = await resolve(s, path, true);
    found.push({ ino: f.ino, pairs });
  }
  let keys = 0;
  for (const d of found) keys += d.pairs.length;
  await s.begin('meta.import', doc.map(([p]) => p), { paths: doc.length, keys });
  for (const d of found) for (const [k, v] of d.pairs) await setMetaRow(s.tx, d.ino, k, v);
  return { paths: doc.length, keys };
}

/** Give `to` every key `from` has (same keys are overwritten, its others stay). Returns `to`'s metadata after. */
export async function copyMeta(s: WriteScope, from: string, to: string): Promise<{ path: string; meta: MetaMap }> {
  const src = await resolve(s, from, true);
  const dst = await resolve(s, to, true);
  await s.begin('meta.copy', [from, to]);
  const meta = await metaOf(s.tx, src.ino);
  if (src.ino !== dst.ino) for (const [k, v] of Object.entries(meta)) await setMetaRow(s.tx, dst.ino, k, v);
  s.note({ keys: Object.keys(meta).length });
  return { path: dst.path, meta: await metaOf(s.tx, dst.ino) };
}
