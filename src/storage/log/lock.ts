// The writer lock shared by every process on the machine. Node has no flock, so the lock is a
// file created with O_EXCL that holds the owner's pid. A lock whose owner is gone (killed with
// SIGKILL: process.kill(pid, 0) says ESRCH) is stale and is broken. Breaking is itself guarded by
// a second O_EXCL file, so two waiters that both saw the same stale lock cannot end up removing
// a lock the other one has just taken. A pid reused by an unrelated process keeps a stale lock
// until that process exits; the wait then ends with EBUSY after lock_timeout_ms.
import fs from 'node:fs';
import { join } from 'node:path';
import { vfsError } from '../../errors.js';
import { fromFs } from './errors.js';
import { alive } from '../pid.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function ownerOf(file: string): number | undefined {
  try {
    const s = fs.readFileSync(file, 'latin1');
    // An empty file is a lock being created right now (open, then write): not stale yet.
    return s === '' ? undefined : Number(s);
  } catch {
    return undefined;
  }
}

/** Create `file` holding our pid; false if it exists. */
function tryCreate(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    fs.writeSync(fd, String(process.pid));
  } catch (e) {
    // A full disk lets the file be made but not written: an empty lock left behind would read
    // as "being created" to every later process, so take it away again.
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  return true;
}

/** An empty file older than a second: its creator died between open and write. */
function abandoned(file: string): boolean {
  try {
    return Date.now() - fs.statSync(file).mtimeMs > 1000;
  } catch {
    return false;
  }
}

export class FileLock {
  private readonly file: string;
  private readonly breaker: string;
  /** Times the lock was found stale and broken (stats). */
  broken = 0;
  constructor(
    private dir: string,
    name: string,
    private timeoutMs: number,
  ) {
    this.file = join(dir, name);
    this.breaker = join(dir, `${name}.break`);
  }

  async acquire(): Promise<void> {
    const start = Date.now();
    let delay = 0.5;
    for (;;) {
      try {
        if (tryCreate(this.file)) return;
        const pid = ownerOf(this.file);
        if (pid === undefined ? abandoned(this.file) : !alive(pid)) this.breakStale(pid);
      } catch (e) {
        throw fromFs(e, this.dir);
      }
      const waited = Date.now() - start;
      if (waited >= this.timeoutMs) throw vfsError('EBUSY', this.dir, `store is locked by another process (waited ${waited} ms; see lock_timeout_ms)`);
      await sleep(delay * (0.5 + Math.random()));
      delay = Math.min(delay * 2, 20);
    }
  }

  private breakStale(pid: number | undefined): void {
    if (!tryCreate(this.breaker)) {
      const b = ownerOf(this.breaker);
      if (b === undefined ? abandoned(this.breaker) : !alive(b)) fs.rmSync(this.breaker, { force: true });
      return;
    }
    try {
      // Still the same stale owner now that only we may break it?
      const now = ownerOf(this.file);
      if (now === pid || (now !== undefined && !alive(now))) {
        fs.rmSync(this.file, { force: true });
        this.broken++;
      }
    } finally {
      fs.rmSync(this.breaker, { force: true });
    }
  }

  release(): void {
    try {
      fs.rmSync(this.file, { force: true });
    } catch (e) {
      throw fromFs(e, this.dir);
    }
  }
}
