// The public file operations. Each checks its arguments, resolves paths against the working
// directory, and runs one core call in one transaction through a Runner. A Vault's runner
// opens a transaction per call; a batch's runner reuses its single transaction, so the same
// methods serve both (vault.batch(b => b.writeFile(...))).
import { vfsError } from '../errors.js';
import * as core from '../core/fs.js';
import { normalizePath, joinPath } from '../core/paths.js';
import { resolve } from '../core/resolve.js';
import type { ReadScope, VaultSettings, WriteScope } from '../core/scope.js';
import { chunkList, contentFromChunks, putChunks } from '../content/chunks.js';
import { putPendingMarker, removePendingMarker } from '../content/pending.js';
import { readVaultConfig } from '../core/vault-config.js';
import { globToRegExp } from '../util/glob.js';
import { toStat, type DirEntry, type FindOptions, type Stat, type StatOptions, type WalkEntry, type WriteFileOptions } from './types.js';
import * as tagsCore from '../tags/tags.js';
import * as metaCore from '../tags/meta.js';
import { metaOf, tagsOf } from '../tags/rows.js';
import { checkColor, checkMetaExport, checkMetaKey, checkMetaValue, checkTag, checkTags, type MetaExport, type MetaMap } from '../tags/rules.js';
import type { TagChange, TagInfo } from '../tags/tags.js';
import { OpenFiles } from './open-files.js';

/** What a write is, so that a refused one can still be named in the operation log. */
export interface Intent {
  op: string;
  paths: string[];
  /** Details for the log record of a refusal (the tag a tag.delete named, say). */
  info?: Record<string, unknown>;
}

export interface Runner {
  readonly settings: VaultSettings;
  /** A view of the past (vault.at): tags and metadata are not kept in history, so it has none. */
  readonly historical?: boolean;
  read<T>(fn: (s: ReadScope) => Promise<T>): Promise<T>;
  write<T>(fn: (s: WriteScope) => Promise<T>, intent?: Intent): Promise<T>;
}

export type Data = Buffer | Uint8Array | string;

function toBuffer(data: Data, what = 'data'): Buffer {
  if (typeof data === 'string') return Buffer.from(data);
  if (data instanceof Uint8Array) return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw vfsError('EINVAL', undefined, `${what} must be a string, Buffer or Uint8Array`);
}

function checkMode(mode: unknown): number | undefined {
  if (mode === undefined) return undefined;
  if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw vfsError('EINVAL', undefined, `mode must be an integer between 0 and 0o7777, got ${String(mode)}`);
  }
  return mode;
}

function checkOffset(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw vfsError('EINVAL', undefined, `${what} must be a non-negative integer`);
  return n;
}

function checkTime(ms: unknown, what: string): number | undefined {
  if (ms === undefined) return undefined;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw vfsError('EINVAL', undefined, `${what} must be a finite number of milliseconds`);
  return ms;
}

/** Checked options for the core's file writes. */
function writeOptions(opts: WriteFileOptions): core.WriteOptions {
  const o: core.WriteOptions = { append: !!opts.append, parents: opts.parents !== false, exclusive: !!opts.exclusive };
  const mode = checkMode(opts.mode);
  if (mode !== undefined) o.mode = mode;
  const mt = checkTime(opts.mtimeMs, 'mtimeMs');
  if (mt !== undefined) o.mtimeMs = mt;
  return o;
}

export class FileOps {
  /** Relative paths are taken from here. */
  cwd = '/';

  constructor(protected readonly runner: Runner) {}

  /** The normalised absolute vault path for `p` (relative to cwd). */
  abs(p: string): string {
    return normalizePath(p, this.cwd);
  }

  /** With `{ attrs: true }` the Stat also has the entry's tags and metadata. */
  async stat(path: string, opts: StatOptions = {}): Promise<Stat> {
    const p = this.abs(path);
    return this.runner.read(async (s) => this.withAttrs(s, toStat(await core.stat(s, p, true)), opts));
  }

  async lstat(path: string, opts: StatOptions = {}): Promise<Stat> {
    const p = this.abs(path);
    return this.runner.read(async (s) => this.withAttrs(s, toStat(await core.stat(s, p, false)), opts));
  }

  /** Add tags and metadata to a Stat when asked for (never on a view of the past: it has none). */
  private async withAttrs(s: ReadScope, st: Stat, opts: StatOptions): Promise<Stat> {
    if (!opts.attrs || this.runner.historical) return st;
    st.tags = await tagsOf(s.tx, st.ino);
    st.meta = await metaOf(s.tx, st.ino);
    return st;
  }

  async exists(path: string): Promise<boolean> {
    const p = this.abs(path);
    return this.runner.read(async (s) => {
      try {
        await core.stat(s, p, false);
        return true;
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOENT' || (e as { code?: string }).code === 'ENOTDIR') return false;
        throw e;
      }
    });
  }

  /** Canonical path with every symlink resolved. */
  async realpath(path: string): Promise<string> {
    return (await this.stat(path)).path;
  }

  async readdir(path = '.'): Promise<DirEntry[]> {
    const p = this.abs(path);
    return this.runner.read((s) => core.readdir(s, p));
  }

  /** A folder's entries with their stats (one snapshot); a file lists as itself. */
  async list(path = '.', opts: StatOptions = {}): Promise<Stat[]> {
    const p = this.abs(path);
    return this.runner.read(async (s) => {
      const f = await core.stat(s, p, true);
      if (f.node.type !== 'directory') return [await this.withAttrs(s, toStat(await core.stat(s, p, false)), opts)];
      const out: Stat[] = [];
      for (const c of await core.children(s, f.ino)) {
        const node = await s.inode(c.ino);
        if (node) out.push(await this.withAttrs(s, toStat({ path: joinPath(f.path, c.name), name: c.name, node }), opts));
      }
      return out;
    });
  }

  async readFile(path: string, opts: { start?: number; end?: number } = {}): Promise<Buffer> {
    const p = this.abs(path);
    const start = opts.start === undefined ? undefined : checkOffset(opts.start, 'start');
    const end = opts.end === undefined ? undefined : checkOffset(opts.end, 'end');
    return this.runner.read((s) => core.readFile(s, p, start, end));
  }

  /**
   * A table of open files over this vault whose writes are buffered and committed as one
   * version per close or sync (src/api/open-files.ts): what the mount and the fs facade use.
   */
  openFiles(): OpenFiles {
    return new OpenFiles(this.runner);
  }

  /** The Stat of inode `ino` wherever it now is (an open file's fstat); ENOENT once it left the tree. */
  async statIno(ino: number): Promise<Stat> {
    return this.runner.read(async (s) => {
      const { node, path } = await core.inodeAt(s, ino);
      return toStat({ path, name: path.slice(path.lastIndexOf('/') + 1), node });
    });
  }

  async readText(path: string): Promise<string> {
    return (await this.readFile(path)).toString('utf8');
  }

  /**
   * A file's bytes a chunk at a time, without holding the whole file. Content is immutable
   * under its id, so the chunks can be fetched in short separate reads.
   */
  async *readStream(path: string, opts: { start?: number; end?: number } = {}): AsyncGenerator<Buffer> {
    const p = this.abs(path);
    const { node, chunkSize } = await this.runner.read(async (s) => {
      const f = await resolve(s, p, true);
      if (f.node.type === 'directory') throw vfsError('EISDIR', p);
      return { node: f.node, chunkSize: s.settings.chunkSize };
    });
    const ref = core.contentOf(node);
    const start = Math.min(opts.start ?? 0, ref.size);
    const end = Math.min(opts.end ?? ref.size, ref.size);
    const list = await this.runner.read((s) => chunkList(s.tx, ref, chunkSize));
    const step = 16; // chunks per read: 1 MiB at the default chunk size
    for (let i = Math.floor(start / chunkSize); i * chunkSize < end; i += step) {
      const from = Math.max(start, i * chunkSize);
      const to = Math.min(end, (i + step) * chunkSize);
      const parts = await this.runner.read(async (s) => {
        const out: Buffer[] = [];
        for (let j = i; j < i + step && j < list.length && j * chunkSize < to; j++) {
          const c = await s.tx.get('chunks', list[j]);
          if (!c) throw vfsError('ECORRUPT', p, `content chunk ${list[j].toString('hex').slice(0, 12)} is missing`);
          const base = j * chunkSize;
          out.push(c.subarray(Math.max(0, from - base), Math.min(c.length, to - base)));
        }
        return out;
      });
      for (const part of parts) yield part;
    }
  }

  async writeFile(path: string, data: Data, opts: WriteFileOptions = {}): Promise<Stat> {
    const p = this.abs(path);
    const buf = toBuffer(data);
    const o = writeOptions(opts);
    return this.runner.write(
      async (s) => {
        const node = await core.writeFile(s, p, buf, o);
        return toStat({ path: p, name: p.slice(p.lastIndexOf('/') + 1), node });
      },
      { op: o.append ? 'append' : 'write', paths: [p] },
    );
  }

  /**
   * Write a file from a stream of bytes (stdin, a host file) without holding it all in memory.
   * Chunks are stored as they arrive, in short transactions of their own (content-addressed, so
   * harmless if the write never finishes); one last transaction points the file at them, so
   * readers see the old content or the new, never a part.
   */
  async writeStream(path: string, source: AsyncIterable<Uint8Array>, opts: Omit<WriteFileOptions, 'append'> = {}): Promise<Stat> {
    const p = this.abs(path);
    const o = writeOptions(opts);
    // Refuse a folder before reading what may be gigabytes of input.
    const there = await this.stat(p).catch(() => undefined);
    if (there?.type === 'directory') throw vfsError('EISDIR', p);
    const chunkSize = this.runner.settings.chunkSize;
    // The vault's max_file_size_mb is checked as bytes arrive, so an oversized input is refused
    // early instead of being stored first (the last transaction checks it again, as every write).
    const limitMb = await this.runner.read(async (s) => (await readVaultConfig(s.tx)).max_file_size_mb);
    const limit = limitMb === undefined ? Infinity : limitMb * 1024 * 1024;
    const GROUP = 64; // chunks per transaction: 4 MiB at the default chunk size
    const hashes: Buffer[] = [];
    let group: Buffer[] = [];
    // Input is copied into chunk-sized buffers as it arrives (one copy, as Buffer.concat made):
    // a source may hand the same buffer again with new bytes (a read loop into one buffer), so
    // nothing of a piece is kept past the next pull.
    let stage = Buffer.allocUnsafe(chunkSize);
    let staged = 0;
    let size = 0;
    // Chunks stored before the last transaction are referenced by nothing yet: a marker tells
    // gc to leave chunks alone until this write ends (src/content/pending.ts).
    let marker: Buffer | undefined;
    const store = async (): Promise<void> => {
      const g = group;
      group = [];
      if (g.length === 0) return;
      marker ??= await this.runner.write((s) => putPendingMarker(s.tx));
      hashes.push(...(await this.runner.write((s) => putChunks(s.tx, g))));
    };
    try {
      for await (const piece of source) {
        const buf = toBuffer(piece);
        size += buf.length;
        if (size > limit) throw vfsError('EFBIG', p, `file of at least ${size} bytes is over the vault's limit max_file_size_mb=${limitMb}`);
        for (let off = 0; off < buf.length; ) {
          const n = buf.copy(stage, staged, off);
          off += n;
          staged += n;
          if (staged < chunkSize) continue;
          group.push(stage);
          stage = Buffer.allocUnsafe(chunkSize);
          staged = 0;
          if (group.length >= GROUP) await store();
        }
      }
      if (staged > 0) group.push(stage.subarray(0, staged));
      return await this.runner.write(
        async (s) => {
          if (group.length > 0) hashes.push(...(await putChunks(s.tx, group)));
          const ref = await contentFromChunks(s.tx, hashes, size);
          const node = await core.setContent(s, p, ref, o);
          if (marker) await removePendingMarker(s.tx, marker);
          return toStat({ path: p, name: p.slice(p.lastIndexOf('/') + 1), node });
        },
        { op: 'write', paths: [p] },
      );
    } catch (e) {
      const m = marker;
      // The chunks already stored are left to gc; only the marker must not outlive the write.
      if (m) await this.runner.write((s) => removePendingMarker(s.tx, m)).catch(() => {});
      throw e;
    }
  }

  async appendFile(path: string, data: Data, opts: Omit<WriteFileOptions, 'append'> = {}): Promise<Stat> {
    return this.writeFile(path, data, { ...opts, append: true });
  }

  /** Write bytes at an offset, keeping the rest of the file (extends with zeros if needed). */
  async writeAt(path: string, offset: number, data: Data): Promise<Stat> {
    const p = this.abs(path);
    const off = checkOffset(offset, 'offset');
    const buf = toBuffer(data);
    return this.runner.write(
      async (s) => {
        const node = await core.writeFileAt(s, p, off, buf);
        return toStat({ path: p, name: p.slice(p.lastIndexOf('/') + 1), node });
      },
      { op: 'write', paths: [p] },
    );
  }

  async truncate(path: string, size = 0): Promise<void> {
    const p = this.abs(path);
    const n = checkOffset(size, 'size');
    await this.runner.write((s) => core.truncate(s, p, n), { op: 'truncate', paths: [p] });
  }

  async mkdir(path: string, opts: { recursive?: boolean; mode?: number } = {}): Promise<void> {
    const p = this.abs(path);
    const mode = checkMode(opts.mode);
    await this.runner.write((s) => core.mkdir(s, p, { recursive: !!opts.recursive, ...(mode !== undefined ? { mode } : {}) }), { op: 'mkdir', paths: [p] });
  }

  async rmdir(path: string): Promise<void> {
    const p = this.abs(path);
    await this.runner.write((s) => core.rmdir(s, p), { op: 'rmdir', paths: [p] });
  }

  async unlink(path: string): Promise<void> {
    const p = this.abs(path);
    await this.runner.write((s) => core.unlink(s, p), { op: 'unlink', paths: [p] });
  }

  /** Remove a file or symlink, or a folder with `recursive`; `force` ignores a missing path. */
  async rm(path: string, opts: { recursive?: boolean; force?: boolean } = {}): Promise<boolean> {
    const p = this.abs(path);
    return this.runner.write((s) => core.rm(s, p, { recursive: !!opts.recursive, force: !!opts.force }), { op: 'rm', paths: [p] });
  }

  /** POSIX rename (atomic). False when `noClobber` left an existing target alone. */
  async rename(from: string, to: string, opts: { noClobber?: boolean } = {}): Promise<boolean> {
    const a = this.abs(from);
    const b = this.abs(to);
    return this.runner.write((s) => core.rename(s, a, b, { noClobber: !!opts.noClobber }), { op: 'rename', paths: [a, b] });
  }

  /** Copy to exactly `to` (content is shared, not duplicated). False when `noClobber` kept a target. */
  async copy(from: string, to: string, opts: { recursive?: boolean; noClobber?: boolean } = {}): Promise<boolean> {
    const a = this.abs(from);
    const b = this.abs(to);
    return this.runner.write((s) => core.copy(s, a, b, { recursive: !!opts.recursive, noClobber: !!opts.noClobber }), { op: 'copy', paths: [a, b] });
  }

  async symlink(target: string, path: string): Promise<void> {
    const p = this.abs(path);
    if (typeof target !== 'string') throw vfsError('EINVAL', undefined, 'symlink target must be a string');
    await this.runner.write((s) => core.symlink(s, target, p), { op: 'symlink', paths: [p] });
  }

  async readlink(path: string): Promise<string> {
    const p = this.abs(path);
    return this.runner.read((s) => core.readlink(s, p));
  }

  /** Create an empty file, or set an existing one's mtime (now by default). */
  async touch(path: string, opts: { mtimeMs?: number } = {}): Promise<void> {
    const p = this.abs(path);
    const mt = checkTime(opts.mtimeMs, 'mtimeMs');
    await this.runner.write((s) => core.touch(s, p, mt), { op: 'touch', paths: [p] });
  }

  async chmod(path: string, mode: number): Promise<void> {
    const p = this.abs(path);
    const m = checkMode(mode)!;
    if (m === undefined) throw vfsError('EINVAL', undefined, 'mode is required');
    await this.runner.write((s) => core.chmod(s, p, m), { op: 'chmod', paths: [p] });
  }

  async utimes(path: string, mtimeMs: number, opts: { follow?: boolean } = {}): Promise<void> {
    const p = this.abs(path);
    const mt = checkTime(mtimeMs, 'mtimeMs');
    if (mt === undefined) throw vfsError('EINVAL', undefined, 'mtimeMs is required');
    await this.runner.write((s) => core.utimes(s, p, mt, opts.follow !== false), { op: 'utimes', paths: [p] });
  }

  /**
   * Every entry below `path` (and `path` itself at depth 0), parents before children, names in
   * order. Symlinks are reported, never followed. Each folder is read in its own short read.
   */
  async *walk(path = '.', opts: { maxDepth?: number } & StatOptions = {}): AsyncGenerator<WalkEntry> {
    const so: StatOptions = { attrs: !!opts.attrs };
    // The start is followed if it is a symlink to a folder (as `find dir/` would), else shown as is.
    const root = await this.stat(path, so).catch(() => this.lstat(path, so));
    yield { path: root.path, depth: 0, stat: root };
    if (root.type === 'directory') yield* this.walkBelow(root.path, 0, opts.maxDepth ?? Infinity, so);
  }

  private async *walkBelow(path: string, depth: number, maxDepth: number, so: StatOptions): AsyncGenerator<WalkEntry> {
    if (depth >= maxDepth) return;
    let entries: Stat[];
    try {
      entries = await this.list(path, so);
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return;
      throw e;
    }
    for (const st of entries) {
      yield { path: st.path, depth: depth + 1, stat: st };
      if (st.type === 'directory') yield* this.walkBelow(st.path, depth + 1, maxDepth, so);
    }
  }

  /** Entries below `path` that pass every filter given. */
  async *find(path = '.', opts: FindOptions = {}): AsyncGenerator<WalkEntry> {
    const nameRe = opts.name === undefined ? undefined : globToRegExp(opts.name);
    let tagged: Set<number> | undefined;
    if (opts.tag !== undefined) {
      const tags = checkTags(opts.tag);
      this.noPast('find by tag');
      // The inodes with the tags, read once (one index range per tag), then matched during the walk.
      tagged = await this.runner.read((s) => tagsCore.inosWithTags(s, tags));
    }
    for await (const e of this.walk(path, { maxDepth: opts.maxDepth, attrs: !!opts.attrs })) {
      const st = e.stat;
      if (tagged && !tagged.has(st.ino)) continue;
      if (nameRe && !nameRe.test(st.name)) continue;
      if (opts.type && st.type !== opts.type) continue;
      if (opts.minSize !== undefined && st.size < opts.minSize) continue;
      if (opts.maxSize !== undefined && st.size > opts.maxSize) continue;
      if (opts.newerThanMs !== undefined && st.mtimeMs < opts.newerThanMs) continue;
      if (opts.olderThanMs !== undefined && st.mtimeMs >= opts.olderThanMs) continue;
      yield e;
    }
  }

  // ---- tags and metadata (src/tags; docs/tags.md) ----
  // Keyed by inode: they follow a file through rename, are copied by copy(), and go with it
  // when it is removed. Not part of history: a view of the past has none (ENOTSUP).

  private noPast(what: string): void {
    if (this.runner.historical) throw vfsError('ENOTSUP', undefined, `${what}: tags and metadata are not kept in history (read them on the vault as it is now)`);
  }

  /** Tag a file or folder (with `recursive` on a folder: every file below it). New tags are defined on the way. */
  async tag(path: string, tags: string | string[], opts: { recursive?: boolean } = {}): Promise<TagChange> {
    const p = this.abs(path);
    const t = checkTags(tags);
    const recursive = !!opts.recursive;
    return this.runner.write((s) => tagsCore.tagPath(s, p, t, recursive), { op: 'tag', paths: [p], info: { tags: t } });
  }

  /** Remove tags (each must exist: ENOENT) from a file or folder, or with `recursive` from every file below a folder. */
  async untag(path: string, tags: string | string[], opts: { recursive?: boolean } = {}): Promise<TagChange> {
    const p = this.abs(path);
    const t = checkTags(tags);
    const recursive = !!opts.recursive;
    return this.runner.write((s) => tagsCore.untagPath(s, p, t, recursive), { op: 'untag', paths: [p], info: { tags: t } });
  }

  /** A file's or folder's tags, in name order. */
  async tags(path: string): Promise<string[]> {
    const p = this.abs(path);
    this.noPast('tags');
    return this.runner.read(async (s) => (await tagsCore.tagsOfPath(s, p)).tags);
  }

  /** Every defined tag, in name order, with how many files and folders have it. */
  async listTags(): Promise<TagInfo[]> {
    this.noPast('listTags');
    return this.runner.read((s) => tagsCore.listTags(s));
  }

  /** Define a tag (EEXIST if it is), with an optional colour (`#rgb` or `#rrggbb`). */
  async createTag(name: string, opts: { color?: string } = {}): Promise<TagInfo> {
    const t = checkTag(name);
    const color = opts.color === undefined ? undefined : checkColor(opts.color);
    return this.runner.write((s) => tagsCore.createTag(s, t, color), { op: 'tag.create', paths: [], info: { tag: t, target: `tag ${t}` } });
  }

  /** Delete a tag: from every file that has it, then its definition. ENOENT if there is no such tag. */
  async deleteTag(name: string): Promise<{ name: string; files: number }> {
    const t = checkTag(name);
    return this.runner.write((s) => tagsCore.deleteTag(s, t), { op: 'tag.delete', paths: [], info: { tag: t, target: `tag ${t}` } });
  }

  /** Rename a tag on every file (ENOENT: no tag `from`; EEXIST: `to` exists). */
  async renameTag(from: string, to: string): Promise<TagInfo> {
    const a = checkTag(from);
    const b = checkTag(to);
    return this.runner.write((s) => tagsCore.renameTag(s, a, b), { op: 'tag.rename', paths: [], info: { from: a, to: b, target: `tag ${a} -> ${b}` } });
  }

  /** Give `to` every tag `from` has (its own stay); returns `to`'s tags. */
  async copyTags(from: string, to: string): Promise<string[]> {
    const a = this.abs(from);
    const b = this.abs(to);
    return (await this.runner.write((s) => tagsCore.copyTags(s, a, b), { op: 'tag.copy', paths: [a, b] })).tags;
  }

  /** All of a path's metadata, or with `key` that key's value (ENOENT when it is not set). */
  getMeta(path: string): Promise<MetaMap>;
  getMeta(path: string, key: string): Promise<string>;
  async getMeta(path: string, key?: string): Promise<MetaMap | string> {
    const p = this.abs(path);
    this.noPast('getMeta');
    if (key === undefined) return this.runner.read(async (s) => (await metaCore.getMeta(s, p)).meta);
    const k = checkMetaKey(key);
    return this.runner.read((s) => metaCore.getMetaValue(s, p, k));
  }

  /** Set one key (or every key of an object); returns the path's metadata after. */
  async setMeta(path: string, key: string | MetaMap, value?: string): Promise<MetaMap> {
    const p = this.abs(path);
    let pairs: [string, string][];
    if (typeof key === 'object' && key !== null && !Array.isArray(key)) {
      pairs = Object.entries(key).map(([k, v]) => [checkMetaKey(k), checkMetaValue(v, k)]);
      if (pairs.length === 0) throw vfsError('EINVAL', undefined, 'no metadata to set');
    } else {
      const k = checkMetaKey(key);
      pairs = [[k, checkMetaValue(value, k)]];
    }
    return (await this.runner.write((s) => metaCore.setMeta(s, p, pairs), { op: 'meta.set', paths: [p], info: { keys: pairs.map(([k]) => k) } })).meta;
  }

  /** Remove keys (a key that is not set is no error); returns the keys that were removed. */
  async unsetMeta(path: string, keys: string | string[]): Promise<string[]> {
    const p = this.abs(path);
    const list = typeof keys === 'string' ? [keys] : keys;
    if (!Array.isArray(list) || list.length === 0) throw vfsError('EINVAL', undefined, 'no metadata key given');
    const ks = [...new Set(list.map(checkMetaKey))];
    return (await this.runner.write((s) => metaCore.unsetMeta(s, p, ks), { op: 'meta.unset', paths: [p], info: { keys: ks } })).removed;
  }

  /**
   * `{"/path": {"key": "value"}}` for `path` (always present, perhaps `{}`) and, for a folder,
   * every entry below it that has metadata: what importMeta() takes.
   */
  async exportMeta(path = '.'): Promise<MetaExport> {
    const p = this.abs(path);
    this.noPast('exportMeta');
    return this.runner.read((s) => metaCore.exportMeta(s, p));
  }

  /**
   * Set metadata on many paths at once, from exportMeta()'s shape. Keys given are set, others
   * kept. All or nothing: a bad shape (EINVAL) or a missing path (ENOENT) changes nothing.
   */
  async importMeta(doc: MetaExport): Promise<{ paths: number; keys: number }> {
    const entries = checkMetaExport(doc);
    return this.runner.write((s) => metaCore.importMeta(s, entries), { op: 'meta.import', paths: entries.map(([p]) => p) });
  }

  /** Give `to` every key `from` has (same keys overwritten, others kept); returns `to`'s metadata. */
  async copyMeta(from: string, to: string): Promise<MetaMap> {
    const a = this.abs(from);
    const b = this.abs(to);
    return (await this.runner.write((s) => metaCore.copyMeta(s, a, b), { op: 'meta.copy', paths: [a, b] })).meta;
  }
}
