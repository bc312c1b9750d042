// Mounting and unmounting: check the mount point, serve the vault through FUSE until asked to
// stop, and stop cleanly (commit open files, detach, make writes durable, close the vault).
import { lstatSync, readdirSync } from 'node:fs';
import { resolve as resolveHost } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { vfsError } from '../errors.js';
import type { Vault } from '../api/vault.js';
import { FileOps } from '../api/fileops.js';
import { BatchRunner } from '../api/write-behind.js';
import { bindingPatched, fuseBinding, fuseDriver, statArray, type FuseInstance } from './fuse.js';
import { FuseDevice } from './kernel/device.js';
import { KernelSession } from './kernel/session.js';
import { fuseOps } from './ops.js';
import { FS_TYPE, alive, detach, kernelMounts, readRecord, removeRecord, writeRecord } from './table.js';

export interface MountOptions {
  vault: Vault;
  /** Absolute host path of an empty folder. */
  mountpoint: string;
  home: string;
  readOnly?: boolean;
  /** Mount the vault as it was at this point (snapshot, operation number, time): read-only. */
  at?: string;
  /**
   * How long the kernel may trust what it was told about names and attributes, in seconds. 0
   * (the default): every lookup asks the vault, so a write made through the CLI or MCP shows
   * in the mount at once.
   */
  cacheSeconds?: number;
  log(line: string): void;
}

export interface Serving {
  /** Resolves when the mount has ended (unmounted, by us or from outside). */
  readonly ended: Promise<void>;
  /** Commit open files, detach, sync and close. */
  stop(): Promise<void>;
}

/**
 * Check that `dir` can be mounted on: an existing, empty folder that is not a mount already. A
 * stale avfs mount there (its process was killed) is cleared first. Returns the absolute path.
 */
export function checkMountpoint(dir: string, home: string): string {
  const mp = resolveHost(dir);
  const mounted = kernelMounts().get(mp);
  if (mounted !== undefined) {
    const rec = readRecord(home, mp);
    if (mounted === FS_TYPE && !(rec && alive(rec.pid))) {
      // Left behind by a mount process that died: nothing serves it, so take it away.
      detach(mp);
      removeRecord(home, mp);
    } else if (mounted === FS_TYPE) {
      throw vfsError('EBUSY', mp, `already mounted (by process ${rec!.pid}; avfs unmount ${mp} first)`);
    } else {
      throw vfsError('EBUSY', mp, `is a mount point already (${mounted})`);
    }
  }
  let st;
  try {
    st = lstatSync(mp);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw vfsError('ENOENT', mp, 'mount point does not exist (make an empty folder first)');
    if (code === 'ENOTDIR') throw vfsError('ENOTDIR', mp, 'mount point is not a folder');
    throw vfsError('EIO', mp, `cannot use as a mount point: ${(e as Error).message}`);
  }
  if (!st.isDirectory()) throw vfsError('ENOTDIR', mp, 'mount point is not a folder');
  if (readdirSync(mp).length > 0) throw vfsError('ENOTEMPTY', mp, 'mount point is not empty');
  return mp;
}

/** FUSE options (libfuse 2): ours replace fuse-native's list, which cannot say 0 for a timeout. */
function fuseOptions(name: string, cacheSeconds: number): string {
  return [
    '-o',
    [
      `fsname=${fsnameOf(name)}`,
      'subtype=avfs',
      // Our inode numbers, so `ls -i`, git and find see stable ones.
      'use_ino',
      // An unlinked file that is still open keeps working through its descriptors without a
      // hidden rename (.fuse_hidden*), which would show in the vault's history.
      'hard_remove',
      // open(O_TRUNC) comes to us whole, so overwriting a file makes one version, not an empty one first.
      'atomic_o_trunc',
      // Keep a file's pages in the kernel while its mtime and size stay the same (checked at
      // every open): a second read costs nothing, and a change from elsewhere drops them.
      'auto_cache',
      'big_writes',
      'max_write=131072',
      // Names are kept a second (a lookup per folder on every path walk costs most of a deep
      // tree's time); attributes are asked for every time, and no absence is kept, so a file
      // written, grown or made elsewhere shows at once. No default_permissions: it would ask
      // for every folder's attributes on each walk too; every entry is the mounting user's,
      // and access(2) is answered from the owner bits (ops.ts).
      `entry_timeout=${Math.max(1, cacheSeconds)}`,
      `attr_timeout=${cacheSeconds}`,
      'negative_timeout=0',
    ].join(','),
  ].join('');
}

/** Every request and its answer in the log (AVFS_MOUNT_TRACE=1): what a tool really asked for. */
function traced(ops: Record<string, unknown>, log: (line: string) => void): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(ops)) {
    out[name] = (...args: unknown[]) => {
      const cb = args.pop() as (...r: unknown[]) => void;
      const shown = args.map((a) => (Buffer.isBuffer(a) ? `<${a.length} bytes>` : JSON.stringify(a))).join(', ');
      const t0 = performance.now();
      (fn as (...a: unknown[]) => void)(...args, (...r: unknown[]) => {
        const ms = (performance.now() - t0).toFixed(3);
        log(`${name}(${shown}) -> ${r.map((x) => (Buffer.isBuffer(x) ? `<${x.length} bytes>` : JSON.stringify(x))).join(', ')} [${ms} ms]`);
        cb(...r);
      });
    };
  }
  return out;
}

/** A live mount, whichever driver serves it. */
interface Driver {
  /** Take the mount away (fails while the folder is busy). */
  unmount(): Promise<void>;
}

/** fsname in the kernel's list: `avfs:NAME`, with what would break the option list replaced. */
function fsnameOf(name: string): string {
  return `avfs:${name}`.replace(/[,\\\s]/g, '_');
}

/** Our own /dev/fuse session (src/mount/kernel): needs root, for mount(8). */
async function startKernel(mp: string, name: string, ops: Record<string, unknown>, cacheSeconds: number, log: (line: string) => void, onEnd: () => void): Promise<Driver> {
  // Names kept a second at least, attributes as --cache says, as with fuse-native (fuseOptions).
  const session = new KernelSession(ops, { entrySeconds: Math.max(1, cacheSeconds), attrSeconds: cacheSeconds, log, trace: !!process.env.AVFS_MOUNT_TRACE });
  const device = await FuseDevice.mount(mp, fsnameOf(name), (buf, len) => session.handle(buf, len), log);
  session.attach(device);
  void device.ended.then(onEnd);
  return { unmount: () => device.unmount() };
}

/** libfuse 2 through fuse-native, mounted by fusermount: for users who may not call mount(2). */
async function startFuseNative(mp: string, name: string, ops: Record<string, unknown>, cacheSeconds: number, log: (line: string) => void): Promise<Driver> {
  const Fuse = fuseBinding();
  const fuse: FuseInstance = new Fuse(mp, ops, { timeout: 120_000 });
  const options = fuseOptions(name, cacheSeconds);
  fuse._fuseOptions = () => options;
  // fstat(fd): fuse-native hands fgetattr to getattr without the descriptor; a file unlinked
  // while open has no path left, so the descriptor is all there is to answer from.
  const fgetattr = ops.fgetattr as (path: string, fd: number, cb: (code: number, st?: Parameters<typeof statArray>[0]) => void) => void;
  fuse._op_fgetattr = (signal, path, fd) => fgetattr(path, fd, (code, st) => (code ? signal(code) : signal(0, statArray(st!))));
  await new Promise<void>((resolve, reject) =>
    fuse.mount((err) => (err ? reject(vfsError('EIO', mp, `mount failed: ${err.message}`)) : resolve())),
  );
  return {
    unmount: () =>
      new Promise<void>((resolve, reject) => fuse.unmount((err) => (err ? reject(err) : resolve()))),
  };
}

export async function serve(opts: MountOptions): Promise<Serving> {
  const driverKind = fuseDriver();
  const { vault, mountpoint: mp, home } = opts;
  const readOnly = !!opts.readOnly || opts.at !== undefined;
  // Changes go through a write-behind runner (many requests, one transaction: write-behind.ts);
  // a read-only mount reads the vault (or its past) directly.
  const batches = readOnly ? undefined : new BatchRunner(vault.engine, { chunkSize: vault.record.chunkSize, actor: vault.actor }, opts.log);
  const files: FileOps = opts.at !== undefined ? await vault.at(opts.at) : batches ? new FileOps(batches) : vault;
  const open = files.openFiles();
  const sync = async (): Promise<void> => {
    await batches?.flush();
    await vault.sync();
  };
  // The kernel driver passes times whole; fuse-native's prebuilt binary needs our rebuild.
  const patched = driverKind === 'kernel' || bindingPatched();
  if (!patched && !readOnly) opts.log('warning: fuse-native was not rebuilt with our fixes (scripts/fuse-fix.mjs): times set through the mount are not kept');
  const plain = fuseOps({
    files,
    open,
    readOnly,
    sync,
    hostPath: vault.path === ':memory:' ? '' : vault.path,
    patched,
    log: opts.log,
  });
  const ops = process.env.AVFS_MOUNT_TRACE ? traced(plain, opts.log) : plain;
  const name = vault.name ?? 'vault';
  const cache = opts.cacheSeconds ?? 0;
  let stop: () => Promise<void> = async () => {};
  const driver =
    driverKind === 'kernel'
      ? await startKernel(mp, name, ops, cache, opts.log, () => void stop())
      : await startFuseNative(mp, name, ops, cache, opts.log);
  writeRecord(home, { pid: process.pid, mountpoint: mp, vault: vault.path, readOnly, ...(opts.at !== undefined ? { at: opts.at } : {}), startedMs: Date.now() });

  let stopping: Promise<void> | undefined;
  let ended!: () => void;
  const endedP = new Promise<void>((r) => (ended = r));
  stop = (): Promise<void> =>
    (stopping ??= (async () => {
      try {
        await open.commitAll().catch((e) => opts.log(`could not commit an open file: ${(e as Error).message}`));
        await batches?.flush().catch((e) => opts.log(`could not commit: ${(e as Error).message}`));
        if (kernelMounts().get(mp) === FS_TYPE) {
          await driver.unmount().catch((err: Error) => opts.log(`unmount: ${err.message}`));
        }
        if (!readOnly) await sync().catch((e) => opts.log(`could not sync: ${(e as Error).message}`));
      } finally {
        removeRecord(home, mp, process.pid);
        ended();
      }
    })());

  // Someone ran fusermount -u (or the kernel dropped us): nothing can reach us any more.
  // unref: this watch alone must not keep a stopped server's process alive.
  const watch = setInterval(() => {
    if (stopping) return clearInterval(watch);
    if (kernelMounts().get(mp) === FS_TYPE) return;
    opts.log('the mount was removed from outside; stopping');
    void stop();
  }, 1000);
  watch.unref();
  return { ended: endedP, stop };
}

/**
 * Unmount `dir`: ask the process serving it to stop (it commits open files first) and wait for
 * it; a mount nothing serves any more (its process was killed) is detached directly.
 */
export async function unmount(dir: string, home: string): Promise<{ mountpoint: string; stale: boolean }> {
  const mp = resolveHost(dir);
  const rec = readRecord(home, mp);
  const mounted = kernelMounts().get(mp);
  if (rec && alive(rec.pid)) {
    process.kill(rec.pid, 'SIGTERM');
    // Done when the server has committed, detached and synced (it then removes its record);
    // closing the store afterwards (SQLite folds its WAL back in) needs no waiting for.
    const serving = (): boolean => alive(rec.pid) && readRecord(home, mp)?.pid === rec.pid;
    for (let waited = 0; serving() && waited < 60_000; waited += 20) await sleep(20);
    if (serving()) throw vfsError('EBUSY', mp, `the mount process ${rec.pid} did not stop within 60 s`);
    if (kernelMounts().get(mp) === FS_TYPE) detach(mp);
    removeRecord(home, mp);
    return { mountpoint: mp, stale: false };
  }
  if (mounted === undefined) {
    removeRecord(home, mp);
    throw vfsError('EINVAL', mp, 'not mounted');
  }
  if (mounted !== FS_TYPE) throw vfsError('EINVAL', mp, `not an avfs mount (${mounted})`);
  detach(mp);
  removeRecord(home, mp);
  return { mountpoint: mp, stale: true };
}
