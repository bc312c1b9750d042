// Vault paths: absolute, '/'-separated, UTF-8. Normalisation is lexical ('.' dropped, '..'
// pops, and '..' above '/' stays at '/', as POSIX does for the root); symlinks are resolved
// later, by the walk in resolve.ts, so a '..' that follows a symlink is handled there.
import { vfsError } from '../errors.js';

export const NAME_MAX = 255; // bytes, like Linux
export const PATH_MAX = 4096; // bytes, including the leading '/'

/** Check a single directory-entry name (no '/', not '.' or '..'). */
export function checkName(name: string, path?: string): void {
  if (name.length === 0) throw vfsError('EINVAL', path ?? '""', 'empty file name');
  if (name.includes('\0')) throw vfsError('EINVAL', printable(path ?? name), 'file name contains a NUL byte');
  if (name.includes('/')) throw vfsError('EINVAL', path ?? name, "file name contains '/'");
  if (name === '.' || name === '..') throw vfsError('EINVAL', path ?? name, `"${name}" cannot be used as a name`);
  if (Buffer.byteLength(name) > NAME_MAX) {
    throw vfsError('ENAMETOOLONG', path ?? name.slice(0, 40) + '...', `file name longer than ${NAME_MAX} bytes`);
  }
}

/** Show a path in one line even if it holds control characters. */
export function printable(p: string): string {
  // eslint-disable-next-line no-control-regex
  return p.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\0' ? '\\0' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** Split a normalised path into names: '/' -> [], '/a/b' -> ['a','b']. */
export function splitPath(p: string): string[] {
  return p === '/' ? [] : p.slice(1).split('/');
}

export function joinNames(names: readonly string[]): string {
  return '/' + names.join('/');
}

/**
 * Turn user input into a normalised absolute vault path, relative paths taken from `cwd`.
 * Rejects what no name may hold: NUL bytes, empty input, names over 255 bytes, paths over 4096.
 */
export function normalizePath(input: string, cwd = '/'): string {
  if (typeof input !== 'string') throw vfsError('EINVAL', undefined, 'path must be a string');
  if (input.length === 0) throw vfsError('EINVAL', '""', 'empty path');
  if (input.includes('\0')) throw vfsError('EINVAL', printable(input), 'path contains a NUL byte');
  if (Buffer.byteLength(input) > PATH_MAX) {
    throw vfsError('ENAMETOOLONG', printable(input.slice(0, 40)) + '...', `path longer than ${PATH_MAX} bytes`);
  }
  const names: string[] = input.startsWith('/') ? [] : splitPath(cwd);
  for (const part of input.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      names.pop();
      continue;
    }
    if (Buffer.byteLength(part) > NAME_MAX) {
      throw vfsError('ENAMETOOLONG', printable(input.length > 80 ? input.slice(0, 77) + '...' : input), `a name in the path is longer than ${NAME_MAX} bytes`);
    }
    names.push(part);
  }
  const out = joinNames(names);
  if (Buffer.byteLength(out) > PATH_MAX) throw vfsError('ENAMETOOLONG', out.slice(0, 40) + '...', `path longer than ${PATH_MAX} bytes`);
  return out;
}

export function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

export function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

export function joinPath(dir: string, name: string): string {
  return dir === '/' ? '/' + name : dir + '/' + name;
}

/** True when `p` is `ancestor` or lies below it. */
export function isWithin(p: string, ancestor: string): boolean {
  return ancestor === '/' || p === ancestor || p.startsWith(ancestor + '/');
}
