// Names for inodes in reports (prune, stats): the current path, or for an inode no longer in
// the tree the path it last had (from dirent_log), marked as deleted. Inodes have no parent
// pointer, so this scans the entries once; it is for maintenance commands, not for hot paths.
import type { ReadTx } from '../storage/contract.js';
import { scan } from '../storage/contract.js';
import { ROOT_INO, direntName, parseDirent, readU64 } from '../core/records.js';

export interface InodeName {
  path: string;
  /** False when the inode is no longer in the tree (the path is where it last was). */
  current: boolean;
}

interface Binding {
  parent: number;
  name: string;
  seq: number;
}

export async function pathsOf(tx: ReadTx, inos: Iterable<number>): Promise<Map<number, InodeName>> {
  const wanted = new Set(inos);
  const out = new Map<number, InodeName>();
  if (wanted.size === 0) return out;
  const current = new Map<number, Binding>();
  for await (const e of scan(tx, 'dirents')) {
    const { ino } = parseDirent(e.value);
    current.set(ino, { parent: readU64(e.key), name: direntName(e.key), seq: Infinity });
  }
  let past: Map<number, Binding> | undefined;
  if ([...wanted].some((ino) => ino !== ROOT_INO && !current.has(ino))) {
    // The newest binding of every inode ever named: deleted files and their deleted folders.
    past = new Map();
    for await (const e of scan(tx, 'dirent_log')) {
      if (e.value.length === 0 || e.key.length < 17 || e.key[e.key.length - 9] !== 0) continue;
      const seq = readU64(e.key, e.key.length - 8);
      const { ino } = parseDirent(e.value);
      const b = past.get(ino);
      if (!b || b.seq < seq) past.set(ino, { parent: readU64(e.key), name: e.key.subarray(8, e.key.length - 9).toString(), seq });
    }
  }
  for (const ino of wanted) {
    const names: string[] = [];
    let cur = ino;
    let known = true;
    for (let depth = 0; cur !== ROOT_INO; depth++) {
      const b = current.get(cur) ?? past?.get(cur);
      if (!b || depth > 4096) {
        known = false;
        break;
      }
      names.push(b.name);
      cur = b.parent;
    }
    const path = known ? '/' + names.reverse().join('/') : `(inode ${ino})`;
    out.set(ino, { path, current: ino === ROOT_INO || current.has(ino) });
  }
  return out;
}
