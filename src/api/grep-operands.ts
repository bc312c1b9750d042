// grep's PATH operands: each resolved to a file or a folder (a glob like /src/**/*.ts expanded
// by a walk below its fixed part), or named as given with what went wrong; how a path below
// an operand is shown (written from the operand as given, as GNU grep does); and the
// --include/--exclude filter on file names.
import { ERROR_CODES, isVfsError, vfsError, type VfsError } from '../errors.js';
import * as core from '../core/fs.js';
import { joinPath, normalizePath } from '../core/paths.js';
import { globToRegExp, hasGlob } from '../util/glob.js';
import type { FileOps, Runner } from './fileops.js';

export interface Operand {
  kind: 'file' | 'dir';
  /** Canonical absolute path. */
  path: string;
  ino: number;
  /** How paths below it are shown ('' for the implicit operand: no prefix). */
  shown: string;
  explicit: boolean;
}

export function shownBelow(op: Operand, path: string): string {
  if (path === op.path) return op.shown === '' ? path : op.shown;
  const rel = op.path === '/' ? path.slice(1) : path.slice(op.path.length + 1);
  if (op.shown === '') return rel;
  return op.shown.endsWith('/') ? op.shown + rel : `${op.shown}/${rel}`;
}

/** The PATH operands in order: each a file or a folder (globs expanded), or what went wrong with it. */
export async function resolveOperands(ops: FileOps, runner: Runner, paths: string[]): Promise<(Operand | { error: VfsError; path: string })[]> {
  const out: (Operand | { error: VfsError; path: string })[] = [];
  const implicit = paths.length === 0;
  const list = implicit ? ['.'] : paths;
  for (const given of list) {
    try {
      if (!implicit && hasGlob(given)) {
        const found = await expandGlob(ops, runner, given);
        if (found.length === 0) throw vfsError('ENOENT', given, 'no such file or directory (no match for the pattern)');
        out.push(...found);
        continue;
      }
      const abs = normalizePath(given, ops.cwd);
      const f = await runner.read((s) => core.stat(s, abs, true));
      const isDir = f.node.type === 'directory';
      out.push({ kind: isDir ? 'dir' : 'file', path: f.path, ino: f.ino, shown: implicit ? '' : given, explicit: !implicit });
    } catch (e) {
      // Named as given (GNU: "grep: src/x: No such file or directory").
      const err = isVfsError(e) ? (e.path !== undefined && e.message === `${e.path}: ${ERROR_CODES[e.code]}` ? vfsError(e.code, given) : e) : vfsError('EIO', given, (e as Error).message);
      out.push({ error: err, path: given });
    }
  }
  return out;
}

/** A glob operand's matches (files and folders), in walk order, shown as the glob was written. */
async function expandGlob(ops: FileOps, runner: Runner, glob: string): Promise<Operand[]> {
  // '.' and '..' taken out first (lexically, as for any path); the rest may hold glob characters.
  const segs: string[] = [];
  for (const part of (glob.startsWith('/') ? glob : joinPath(ops.cwd, glob)).split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') segs.pop();
    else segs.push(part);
  }
  const absGlob = '/' + segs.join('/');
  const parts = absGlob.split('/');
  let i = 1;
  while (i < parts.length && !hasGlob(parts[i])) i++;
  const base = normalizePath(parts.slice(0, i).join('/') || '/');
  const re = globToRegExp(absGlob);
  const out: Operand[] = [];
  const show = (p: string): string => {
    if (glob.startsWith('/')) return p;
    const cwd = ops.cwd;
    return cwd === '/' ? p.slice(1) : p.startsWith(cwd + '/') ? p.slice(cwd.length + 1) : p;
  };
  await runner.read(async (s) => {
    let start;
    try {
      start = await core.stat(s, base, true);
    } catch {
      return;
    }
    if (start.node.type !== 'directory') return;
    const deep = absGlob.includes('**');
    const depth = parts.length - i;
    const walk = async (dirIno: number, dirPath: string, level: number): Promise<void> => {
      for (const c of await s.children(dirIno)) {
        const p = joinPath(dirPath, c.name);
        let kind: 'file' | 'dir' | undefined = c.type === 'file' ? 'file' : c.type === 'directory' ? 'dir' : undefined;
        let ino = c.ino;
        if (c.type === 'symlink' && re.test(p)) {
          try {
            const f = await core.stat(s, p, true);
            kind = f.node.type === 'directory' ? 'dir' : 'file';
            ino = f.ino;
          } catch {
            kind = undefined;
          }
        }
        if (kind && re.test(p)) out.push({ kind, path: c.type === 'symlink' ? (await core.stat(s, p, true)).path : p, ino, shown: show(p), explicit: true });
        if (c.type === 'directory' && (deep || level + 1 < depth)) await walk(c.ino, p, level + 1);
      }
    };
    await walk(start.ino, start.path, 0);
  });
  return out;
}

export function nameFilter(o: { include?: string[]; exclude?: string[] }): ((name: string) => boolean) | undefined {
  const inc = (o.include ?? []).map((g) => globToRegExp(g));
  const exc = (o.exclude ?? []).map((g) => globToRegExp(g));
  if (inc.length === 0 && exc.length === 0) return undefined;
  return (name) => (inc.length === 0 || inc.some((r) => r.test(name))) && !exc.some((r) => r.test(name));
}
