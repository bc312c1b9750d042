// Change notification between processes with no daemon: a small marker file beside the store
// (sqlite: NAME.avfs-notify; lmdb, log, rocksdb: NAME.lmdb/notify, NAME.log/notify, ...) that a writer rewrites (8 bytes, no fsync)
// after every commit others may be waiting for: a stream append, a state set. Watchers in other
// processes get an inotify event through fs.watch within about a millisecond, and then read
// the store. Writers in this process also wake this process's watchers directly.
//
// Why after the commit, and why a file of our own rather than the store's files: the store's
// files change before the commit is visible (SQLite writes the WAL, then fsyncs, then
// publishes the commit in the shared-memory index), so a watcher woken by them could read the
// old value and then sleep on it. The marker changes only once the commit is visible, so a
// reader woken by it sees that commit or a later one.
//
// Nothing depends on the file-system event arriving: every waiter also wakes after pollMs and
// looks again, so a lost event (a file system without inotify, a marker that cannot be
// written) costs latency, never a stale value. A waiter remembers the change counter from
// before its read and returns at once if it moved since, so no wake-up falls between a read
// and the wait that follows it.
//
// Engines with change events of their own (postgres: LISTEN/NOTIFY, engine.changes) need no
// marker: their commits announce themselves to every process on every machine, and the
// channel listens instead of watching a file. The listener counts its start (and every
// reconnect) as a change, so a change that came before it was listening is read at once.
import fs from 'node:fs';
import { join } from 'node:path';

/** Where a store's marker lives; undefined for stores only this process can see (memory). */
export function markerFor(backend: string, path: string): string | undefined {
  if (backend === 'sqlite') return `${path}-notify`;
  if (backend === 'lmdb' || backend === 'log' || backend === 'rocksdb') return join(path, 'notify');
  return undefined;
}

export interface ChangeSource {
  /** The store's identity in this process: its marker path, or the engine for a memory store. */
  key: string | object;
  marker?: string;
  /** The engine's own change events (postgres), used instead of a marker. */
  listen?: (onChange: () => void) => { close(): void };
}

class Channel {
  gen = 0;
  users = 0;
  watcher: fs.FSWatcher | undefined;
  private listener: { close(): void } | undefined;
  private waiters = new Set<() => void>();

  constructor(
    private marker: string | undefined,
    private listen?: (onChange: () => void) => { close(): void },
  ) {}

  bump(): void {
    this.gen++;
    for (const w of [...this.waiters]) w();
  }

  get watching(): boolean {
    return this.watcher !== undefined || this.listener !== undefined;
  }

  watch(create: boolean): void {
    if (this.listen) {
      this.listener ??= this.listen(() => this.bump());
      return;
    }
    if (!this.marker || this.watcher) return;
    try {
      if (create && !fs.existsSync(this.marker)) fs.closeSync(fs.openSync(this.marker, 'a', 0o644));
      // persistent: false: the watch alone never keeps a process alive (a waiter's timer does).
      const w = fs.watch(this.marker, { persistent: false }, (event) => {
        this.bump();
        // The marker was removed or replaced: this watch sees nothing more; watch the new one.
        if (event === 'rename') {
          this.unwatch();
          if (this.users > 0) this.watch(false);
        }
      });
      w.on('error', () => {
        if (this.watcher === w) this.unwatch();
      });
      this.watcher = w;
    } catch {
      // No marker (read-only folder, store gone): polling alone.
      this.watcher = undefined;
    }
  }

  unwatch(): void {
    const l = this.listener;
    this.listener = undefined;
    l?.close();
    const w = this.watcher;
    this.watcher = undefined;
    try {
      w?.close();
    } catch {
      // already closed
    }
  }

  wait(seen: number, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.gen !== seen || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

const channels = new Map<string | object, Channel>();
const stamp = Buffer.alloc(8);

/** After a commit that watchers wait for: wake this process's waiters and rewrite the marker. */
export function notifyChange(src: ChangeSource): void {
  channels.get(src.key)?.bump();
  if (!src.marker) return;
  let fd: number | undefined;
  try {
    fd = fs.openSync(src.marker, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o644);
    stamp.writeDoubleBE(Date.now());
    fs.writeSync(fd, stamp, 0, 8, 0);
  } catch {
    // Watchers fall back to polling; the commit itself has happened.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export interface Subscription {
  /** Changes seen so far in this process: read it before a read of the store, pass it to wait(). */
  readonly gen: number;
  /** True while a file-system watch is active (else only polling). */
  readonly watching: boolean;
  /** Resolve on the next change after `seen`, after `ms` at most, or on abort. */
  wait(seen: number, ms: number, signal?: AbortSignal): Promise<void>;
  close(): void;
}

export interface SubscribeOptions {
  /** Skip the file-system watch (poll only): for measurements, and file systems without events. */
  noWatch?: boolean;
}

export function subscribe(src: ChangeSource, o: SubscribeOptions = {}): Subscription {
  let ch = channels.get(src.key);
  if (!ch) {
    ch = new Channel(src.marker, src.listen);
    channels.set(src.key, ch);
  }
  ch.users++;
  if (!o.noWatch) ch.watch(true);
  const c = ch;
  let closed = false;
  return {
    get gen() {
      return c.gen;
    },
    get watching() {
      return c.watching;
    },
    wait: (seen, ms, signal) => c.wait(seen, ms, signal),
    close() {
      if (closed) return;
      closed = true;
      if (--c.users === 0) {
        c.unwatch();
        channels.delete(src.key);
      }
    },
  };
}
