// Where an inode lives, from its parent pointer (`parents`: ino -> parent ino + name, written by
// WriteScope.link, removed by dropInode). Inodes have no hard links, so a pointer names the one
// entry; each step up is checked against the folder's entry, so a stale pointer never yields a
// wrong path. Used by search hits and by grep's index candidates.
import type { ReadTx } from '../storage/contract.js';
import { ROOT_INO, direntKey, inodeKey, parseDirent, readU64 } from './records.js';

type ChildLookup = (parent: number, name: string) => Promise<{ ino: number } | undefined>;

/**
 * Paths of inodes within one read transaction; folders found on the way are remembered. A scope
 * passes its own entry lookup (cached for the tx) and drops the whole map when the tree changes
 * under it (ReadScope.pathOf).
 */
export class InodePaths {
  private dirs = new Map<number, string | null>([[ROOT_INO, '']]);
  constructor(
    private readonly tx: ReadTx,
    private readonly child?: ChildLookup,
  ) {}

  /** Whether this inode's path (or its absence) is remembered. */
  knows(ino: number): boolean {
    return this.dirs.has(ino);
  }

  /** The inode's current path, or undefined when it is not (or no longer) in the tree. */
  async of(ino: number): Promise<string | undefined> {
    const p = await this.prefix(ino, 0);
    return p === null ? undefined : p === '' ? '/' : p;
  }

  private async prefix(ino: number, depth: number): Promise<string | null> {
    const known = this.dirs.get(ino);
    if (known !== undefined) return known;
    if (depth > 4096) return null;
    const raw = await this.tx.get('parents', inodeKey(ino));
    let out: string | null = null;
    if (raw !== undefined) {
      const parent = readU64(raw);
      const name = raw.subarray(8).toString();
      const entry = this.child ? await this.child(parent, name) : await this.direntOf(parent, name);
      if (entry !== undefined && entry.ino === ino) {
        const up = await this.prefix(parent, depth + 1);
        if (up !== null) out = `${up}/${name}`;
      }
    }
    this.dirs.set(ino, out);
    return out;
  }

  private async direntOf(parent: number, name: string): Promise<{ ino: number } | undefined> {
    const raw = await this.tx.get('dirents', direntKey(parent, name));
    return raw === undefined ? undefined : parseDirent(raw);
  }
}
