// Confinement for `avfs mcp --root /sub`: every path a client gives is taken relative to the
// root, and every path the server shows is relative to it again. The vault itself never touches
// the host file system, so without --root the vault is the whole world and there is nothing to
// check beyond the library's own lexical normalisation ('..' above '/' stays at '/').
//
// With a root, lexical normalisation alone is not enough: a symlink inside the root may point
// out of it (`/sub/link -> /etc`, `-> ../../x`). So paths are resolved here, one name at a
// time with lstat, following symlinks the way the library's walk does, and any step that would
// leave the root is refused with EACCES before the operation runs, whether or not what lies
// outside exists (so the answer says nothing about it). The path handed to the library is the
// canonical one found, which holds no symlink; the check and the operation run in one
// transaction (see Session.read/write in server.ts), so nothing can swap a folder for a
// symlink in between.
import { vfsError } from '../errors.js';
import { normalizePath, isWithin, splitPath, joinPath, printable } from '../core/paths.js';
import type { Stat } from '../api/types.js';

/** What resolution needs from a FileOps (the vault, a batch, or a view of the past). */
export interface PathReader {
  lstat(path: string): Promise<Stat>;
  stat(path: string): Promise<Stat>;
}

const MAX_LINKS = 40; // as the library's walk (ELOOP)

export class Confinement {
  private readonly rootNames: number;

  /** `root`: the canonical vault path of the root folder ('/' for no confinement). */
  constructor(readonly root: string) {
    this.rootNames = splitPath(root).length;
  }

  get confined(): boolean {
    return this.root !== '/';
  }

  /** A client path as a vault path, lexically: always at or below the root. */
  lexical(input: string): string {
    if (typeof input !== 'string') throw vfsError('EINVAL', undefined, 'path must be a string');
    const p = normalizePath(input, '/');
    return this.root === '/' ? p : p === '/' ? this.root : this.root + p;
  }

  /** A vault path as the client sees it; undefined when it lies outside the root. */
  toClient(p: string): string | undefined {
    if (this.root === '/') return p;
    if (p === this.root) return '/';
    if (p.startsWith(this.root + '/')) return p.slice(this.root.length);
    return undefined;
  }

  /** Like toClient, for places that must show something: outside paths become a marker. */
  show(p: string): string {
    return this.toClient(p) ?? '(outside the root)';
  }

  /** Vault paths inside a message (errors name the paths they were given) as client paths. */
  message(text: string): string {
    if (this.root === '/') return text;
    const r = this.root;
    let out = '';
    for (let i = 0; i < text.length; ) {
      const at = text.indexOf(r, i);
      if (at < 0) {
        out += text.slice(i);
        break;
      }
      const next = text[at + r.length];
      const boundary = at === 0 || /[\s"'(:]/.test(text[at - 1]);
      if (boundary && (next === undefined || next === '/' || /[\s"'):,]/.test(next))) {
        out += text.slice(i, at) + (next === '/' ? '' : '/');
        i = at + r.length;
      } else {
        out += text.slice(i, at + r.length);
        i = at + r.length;
      }
    }
    return out;
  }

  private outside(input: string): Error {
    return vfsError('EACCES', printable(input), 'permission denied: a symbolic link on the way leads outside the folder this server is confined to');
  }

  /**
   * The canonical vault path for a client path, inside the root. `followLast`: resolve a
   * symlink in the last position too (reading or writing through it); without it the entry
   * itself is meant (delete, move, stat of a link). A path whose tail does not exist yet is
   * returned with that tail (lexically, still inside the root) for the operation to create or
   * to report as missing.
   */
  async resolve(ops: PathReader, input: string, followLast: boolean): Promise<string> {
    const lexical = this.lexical(input);
    if (this.root === '/') return lexical;
    // The root itself, as checked at start: still a folder, reached without a symlink (another
    // process could have replaced it, or a folder above it, by a link since).
    const top = await ops.stat(this.root);
    if (top.type !== 'directory' || top.path !== this.root) {
      throw vfsError('EACCES', '/', 'permission denied: the folder this server is confined to was replaced since it started (restart the server)');
    }
    const queue = splitPath(lexical).slice(this.rootNames);
    let cur = this.root;
    let links = 0;
    while (queue.length > 0) {
      const name = queue.shift()!;
      if (name === '' || name === '.') continue;
      if (name === '..') {
        // Only a symlink's target brings '..' here (the input was normalised).
        if (cur === this.root) throw this.outside(input);
        cur = cur.slice(0, cur.lastIndexOf('/')) || '/';
        continue;
      }
      const next = joinPath(cur, name);
      let st: Stat;
      try {
        st = await ops.lstat(next);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
        // Nothing below here exists: no symlink can be on the rest of the way.
        const rest = normalizePath([next, ...queue].join('/'));
        if (!isWithin(rest, this.root)) throw this.outside(input);
        return rest;
      }
      if (st.type === 'symlink' && (queue.length > 0 || followLast)) {
        if (++links > MAX_LINKS) throw vfsError('ELOOP', printable(input));
        const target = st.target ?? '';
        if (target === '') throw vfsError('ENOENT', printable(input));
        if (target.startsWith('/')) {
          const t = normalizePath(target);
          if (!isWithin(t, this.root)) throw this.outside(input);
          queue.unshift(...splitPath(t).slice(this.rootNames));
          cur = this.root;
        } else {
          queue.unshift(...target.split('/'));
        }
        continue;
      }
      cur = next;
    }
    return cur;
  }
}
