// Writing a tree onto the host for `export`, never through a symlink and never outside the
// target folder, even when another process swaps a folder for a symlink while it runs.
//
// Every write names its folder by an open descriptor, not by a path: folders are opened with
// O_DIRECTORY | O_NOFOLLOW one name at a time from the target folder down, and entries are
// made through `/proc/self/fd/N/NAME`, which Linux resolves from the folder the descriptor holds
// (openat() semantics, which Node does not offer directly), never by walking the path again.
// So a folder replaced by a symlink after it was opened changes nothing (the writes go on into
// the folder that was opened, still inside the target), and one replaced before it is opened
// fails to open (ELOOP/ENOTDIR), which is reported as a symlink in the way. Files and symlinks
// are created exclusively (O_CREAT | O_EXCL | O_NOFOLLOW, symlink()): an existing regular file
// is unlinked first (never truncated: it may be a hard link to a file outside the target), an
// existing symlink is replaced only by a symlink (unlinking a link never touches its target),
// anything else in the way is refused. Without /proc (not Linux) the same steps run on full
// paths, which keeps every check but not the guarantee against a concurrent swap.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { vfsError } from '../errors.js';
import { printable } from '../core/paths.js';

const PROC = fs.existsSync('/proc/self/fd');
const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY } = fs.constants;

interface OpenDir {
  rel: string; // '/'-separated below the top, '' for the top
  abs: string;
  fh: FileHandle;
  /** Mode and mtime to set when the export leaves the folder (its children moved its mtime). */
  finish?: { mode: number; mtimeMs: number };
}

const parentOf = (rel: string): string => (rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '');
const baseOf = (rel: string): string => rel.slice(rel.lastIndexOf('/') + 1);
const isAncestor = (dir: string, rel: string): boolean => dir === '' || rel === dir || rel.startsWith(dir + '/');

function inTheWay(abs: string, what: string): Error {
  return vfsError('EPERM', printable(abs), `export refused: ${what} is in the way on the host (it could redirect the write)`);
}

/** A folder already there from an earlier export of a read-only folder: writable until left. */
async function writable(d: OpenDir): Promise<void> {
  const st = await d.fh.stat();
  if ((st.mode & 0o300) !== 0o300) await d.fh.chmod((st.mode & 0o7777) | 0o300);
}

export class HostTree {
  /** The chain of open folders from the top to the folder written last (a depth-first walk). */
  private stack: OpenDir[] = [];

  private constructor(readonly top: string) {}

  /**
   * Open (making it if needed) the target folder. It must not itself be a symlink, unless
   * `followTop` (the folder a single file goes into, which the user named: /tmp may be a link).
   */
  static async open(top: string, followTop = false): Promise<HostTree> {
    await fsp.mkdir(top, { recursive: true });
    const t = new HostTree(top);
    const fh = await fsp.open(top, O_RDONLY | O_DIRECTORY | (followTop ? 0 : O_NOFOLLOW)).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ELOOP' || e.code === 'ENOTDIR') throw inTheWay(top, 'a symlink or file');
      throw e;
    });
    t.stack.push({ rel: '', abs: top, fh });
    return t;
  }

  private at(dir: OpenDir, name: string): string {
    return PROC ? `/proc/self/fd/${dir.fh.fd}/${name}` : join(dir.abs, name);
  }

  /** Make `dir` the innermost open folder: leave the ones not above it, open the ones below. */
  private async enter(dir: string): Promise<OpenDir> {
    while (!isAncestor(this.stack[this.stack.length - 1].rel, dir)) await this.leave();
    let cur = this.stack[this.stack.length - 1];
    while (cur.rel !== dir) {
      const rest = dir.slice(cur.rel === '' ? 0 : cur.rel.length + 1);
      const name = rest.split('/')[0];
      cur = await this.openChild(cur, name);
    }
    return cur;
  }

  private async openChild(parent: OpenDir, name: string, finish?: OpenDir['finish']): Promise<OpenDir> {
    const rel = parent.rel === '' ? name : `${parent.rel}/${name}`;
    const abs = join(parent.abs, name);
    const fh = await fsp.open(this.at(parent, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ELOOP' || e.code === 'ENOTDIR') throw inTheWay(abs, 'a symlink or file where a folder goes');
      throw e;
    });
    const d: OpenDir = { rel, abs, fh, finish };
    this.stack.push(d);
    return d;
  }

  private async leave(): Promise<void> {
    const d = this.stack.pop()!;
    try {
      if (d.finish) {
        await d.fh.chmod(d.finish.mode);
        await d.fh.utimes(d.finish.mtimeMs / 1000, d.finish.mtimeMs / 1000);
      }
    } finally {
      await d.fh.close();
    }
  }

  /** A folder (kept if it is there); its mode and mtime are set when the export leaves it. */
  async mkdir(rel: string, mode: number, mtimeMs: number): Promise<void> {
    if (rel === '') {
      this.stack[0].finish = { mode, mtimeMs };
      await writable(this.stack[0]);
      return;
    }
    const parent = await this.enter(parentOf(rel));
    const name = baseOf(rel);
    await fsp.mkdir(this.at(parent, name), 0o700).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
    await writable(await this.openChild(parent, name, { mode, mtimeMs }));
  }

  /** Clear the way for a new entry: a regular file goes (and a symlink when `link`); else refuse. */
  private async clear(parent: OpenDir, name: string, link: boolean): Promise<void> {
    const p = this.at(parent, name);
    const st = await fsp.lstat(p);
    const abs = join(parent.abs, name);
    if (st.isFile() || (link && st.isSymbolicLink())) await fsp.unlink(p);
    else if (st.isSymbolicLink()) throw inTheWay(abs, 'a symlink');
    else if (st.isDirectory()) throw vfsError('EEXIST', printable(abs), 'export refused: a folder is in the way on the host');
    else throw inTheWay(abs, 'a special file');
  }

  /** A file, created exclusively, with `write` filling it through the open handle. */
  async writeFile(rel: string, mode: number, mtimeMs: number, write: (fh: FileHandle) => Promise<void>): Promise<void> {
    const parent = await this.enter(parentOf(rel));
    const name = baseOf(rel);
    const flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
    let fh: FileHandle;
    try {
      fh = await fsp.open(this.at(parent, name), flags, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      await this.clear(parent, name, false);
      fh = await fsp.open(this.at(parent, name), flags, 0o600).catch((e2: NodeJS.ErrnoException) => {
        if (e2.code === 'EEXIST') throw inTheWay(join(parent.abs, name), 'something that appeared during the export');
        throw e2;
      });
    }
    try {
      await write(fh);
      await fh.chmod(mode);
      await fh.utimes(mtimeMs / 1000, mtimeMs / 1000);
    } finally {
      await fh.close();
    }
  }

  /** A symlink holding `target` verbatim (never followed); its own mtime set without following it. */
  async symlink(rel: string, target: string, mtimeMs: number): Promise<void> {
    const parent = await this.enter(parentOf(rel));
    const name = baseOf(rel);
    const p = this.at(parent, name);
    try {
      await fsp.symlink(target, p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      await this.clear(parent, name, true);
      await fsp.symlink(target, p).catch((e2: NodeJS.ErrnoException) => {
        if (e2.code === 'EEXIST') throw inTheWay(join(parent.abs, name), 'something that appeared during the export');
        throw e2;
      });
    }
    await fsp.lutimes(p, mtimeMs / 1000, mtimeMs / 1000);
  }

  /** Leave every open folder (setting their modes and times), the top last. */
  async close(): Promise<void> {
    while (this.stack.length > 0) await this.leave();
  }

  /** Close without setting anything more (after a failure). */
  async abandon(): Promise<void> {
    for (const d of this.stack.splice(0)) await d.fh.close().catch(() => undefined);
  }
}
