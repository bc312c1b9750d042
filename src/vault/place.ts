// Building a new store where nobody looks and putting it in place only when it is complete
// (forks, migrate): a temporary path beside the destination, its removal on failure, the
// move into place that never replaces anything, and the clean-up of temporaries a killed
// process left behind.
import { existsSync, mkdirSync, openSync, closeSync, fsyncSync, readdirSync, renameSync, rmSync, rmdirSync, linkSync, unlinkSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { vfsError } from '../errors.js';
import { Registry, STORE_SUFFIX } from './registry.js';

export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not every file system lets a folder be synced; the rename is done either way.
  }
}

/** Remove a store at `path` (file with its SQLite companions, or folder). */
export function removeStore(path: string): void {
  rmSync(path, { recursive: true, force: true });
  for (const extra of ['-wal', '-shm', '-journal']) rmSync(path + extra, { force: true });
}

/**
 * A temporary path beside `path` for a store of `backend` being built by `purpose` ("fork",
 * "migrate"): hidden (a leading dot), and naming the process that builds it, so a later run
 * can tell a temporary whose builder died (removeStaleTemps) from one still being built.
 */
export function tempStorePath(path: string, purpose: string, backend: string): string {
  return join(dirname(path), `.${basename(path)}.${purpose}-${process.pid}-${randomBytes(4).toString('hex')}${STORE_SUFFIX[backend] ?? ''}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the temporaries of `purpose` for `path` whose building process is gone (killed
 * midway: SIGKILL, power cut). Those of a live process are left alone: it may still be building.
 */
export function removeStaleTemps(path: string, purpose: string): string[] {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.${purpose}-`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const m = /^(\d+)-[0-9a-f]{8}/.exec(n.slice(prefix.length));
    if (!m || n.endsWith('-wal') || n.endsWith('-shm') || n.endsWith('-journal')) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    removeStore(join(dir, n));
    removed.push(join(dir, n));
  }
  return removed;
}

/**
 * Put the finished store at `tmp` in place at `path`, refusing (EEXIST) if something appeared
 * there meanwhile: a file by link (which will not replace), a folder by claiming the name with
 * mkdir first (rename then replaces only that empty folder).
 */
export function placeStore(tmp: string, path: string): void {
  if (statSync(tmp).isDirectory()) {
    try {
      mkdirSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw vfsError('EEXIST', path, 'something already exists here');
      throw e;
    }
    try {
      renameSync(tmp, path);
    } catch (e) {
      try {
        rmdirSync(path);
      } catch {
        // Someone else's now: leave it.
      }
      throw e;
    }
  } else {
    // Closing the last connection checkpointed the WAL and removed it; a WAL left over would
    // hold committed data that a rename of the main file alone would lose.
    if (existsSync(tmp + '-wal') && statSync(tmp + '-wal').size > 0) {
      throw vfsError('EIO', tmp, 'the new store still has a write-ahead log after closing');
    }
    for (const extra of ['-wal', '-shm']) rmSync(tmp + extra, { force: true });
    try {
      linkSync(tmp, path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw vfsError('EEXIST', path, 'something already exists here');
      // A file system without hard links: the existence check just made is the best we have.
      if (existsSync(path)) throw vfsError('EEXIST', path, 'something already exists here');
      renameSync(tmp, path);
      return;
    }
    unlinkSync(tmp);
  }
  fsyncDir(dirname(path));
}

/**
 * placeStore(), then register the store under `name` when there is one; if registering fails
 * (the name was taken meanwhile) the store is removed again, so nothing half-made stays.
 */
export function placeAndRegister(tmp: string, path: string, home: string, name: string | undefined, backend: string): void {
  placeStore(tmp, path);
  if (!name) return;
  try {
    const now = new Registry(home); // read again: another process may have changed it
    now.add(name, path, backend);
    now.save();
  } catch (e) {
    removeStore(path);
    throw e;
  }
}
