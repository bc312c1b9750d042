// Making the current tree equal to the tree at an earlier operation, inside one write scope
// (so it is atomic: a crash leaves the old tree or the new one). Folder by folder: names that
// were not there then go, names that were there come back (with their old inode number when it
// is free, so their history continues), files that differ get the old content as a new version.
// A name that holds the same kind of entry then and now keeps its current inode even when the
// inode differs (the file was deleted and made again since): the path's history goes on, and
// its version numbers keep rising, as docs/history.md promises.
import type { WriteScope } from '../core/scope.js';
import type { Inode } from '../core/records.js';
import { ROOT_INO } from '../core/records.js';
import { joinPath } from '../core/paths.js';
import { lastVersionAt } from '../core/fs.js';
import { dropAttrs } from '../tags/rows.js';
import { HistoricalScope } from './at.js';

export interface RestoreCounts {
  added: number;
  removed: number;
  changed: number;
}

export async function restoreTree(s: WriteScope, seq: number): Promise<RestoreCounts> {
  const past = new HistoricalScope(s.tx, s.settings, seq);
  const counts: RestoreCounts = { added: 0, removed: 0, changed: 0 };
  await reconcileDir(s, past, ROOT_INO, ROOT_INO, '/', counts);
  return counts;
}

function sameEntry(now: Inode, then: Inode): boolean {
  return now.type === then.type && now.mode === then.mode && (now.hash ?? '') === (then.hash ?? '') && now.size === then.size && (now.target ?? '') === (then.target ?? '');
}

async function reconcileDir(s: WriteScope, past: HistoricalScope, curIno: number, pastIno: number, path: string, counts: RestoreCounts): Promise<void> {
  const nowKids = new Map((await s.children(curIno)).map((c) => [c.name, c]));
  const thenKids = new Map((await past.children(pastIno)).map((c) => [c.name, c]));
  for (const [name, c] of nowKids) {
    const t = thenKids.get(name);
    if (t && t.type === c.type) continue;
    await removeEntry(s, curIno, name, c.ino, c.type === 'directory', counts);
  }
  for (const [name, t] of thenKids) {
    const then = (await past.inode(t.ino))!;
    const c = nowKids.get(name);
    if (c && c.type === t.type) {
      const now = (await s.inode(c.ino))!;
      if (!sameEntry(now, then)) {
        const contentChanged = (now.hash ?? '') !== (then.hash ?? '') || now.size !== then.size || (now.target ?? '') !== (then.target ?? '');
        // The old state, on the inode that holds the name now (its number and birth stay).
        await s.setInode({
          ...then,
          ino: now.ino,
          birthtimeMs: now.birthtimeMs,
          version: now.version + (contentChanged && then.type !== 'directory' ? 1 : 0),
          ctimeMs: Date.now(),
        });
        counts.changed++;
      }
      if (t.type === 'directory') await reconcileDir(s, past, c.ino, t.ino, joinPath(path, name), counts);
      continue;
    }
    await recreate(s, past, curIno, name, t.ino, then, counts);
  }
}

async function removeEntry(s: WriteScope, parent: number, name: string, ino: number, isDir: boolean, counts: RestoreCounts): Promise<void> {
  if (isDir) for (const c of await s.children(ino)) await removeEntry(s, ino, c.name, c.ino, c.type === 'directory', counts);
  await s.unlink(parent, name);
  await s.dropInode(ino);
  await dropAttrs(s.tx, ino); // tags and metadata are not kept in history (docs/tags.md)
  counts.removed++;
}

async function recreate(s: WriteScope, past: HistoricalScope, parent: number, name: string, pastIno: number, then: Inode, counts: RestoreCounts): Promise<void> {
  // The old inode number comes back when nothing uses it now, so the file's history continues.
  const free = (await s.inode(pastIno)) === undefined;
  const ino = free ? pastIno : await s.allocIno();
  const prior = free ? await latestLogged(s, pastIno) : undefined;
  // A file continues the numbering of the inode and of the path (whichever is further on), so
  // no version number repeats along the path.
  const version =
    then.type === 'file'
      ? Math.max(then.version, (prior?.version ?? 0) + 1, (await lastVersionAt(s, parent, name)) + 1)
      : Math.max(then.version, prior?.version ?? 0);
  const node: Inode = { ...then, ino, ctimeMs: Date.now(), version };
  await s.setInode(node);
  await s.link(parent, name, ino, node.type);
  counts.added++;
  if (then.type === 'directory') {
    for (const c of await past.children(pastIno)) {
      const child = (await past.inode(c.ino))!;
      await recreate(s, past, ino, c.name, c.ino, child, counts);
    }
  }
}

/** The newest history row of an inode (its last state before it was removed). */
async function latestLogged(s: WriteScope, ino: number): Promise<Inode | undefined> {
  const past = new HistoricalScope(s.tx, s.settings, Number.MAX_SAFE_INTEGER);
  return past.inode(ino);
}
