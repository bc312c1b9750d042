// mount / unmount: the vault as a real folder through FUSE (src/mount; docs/mount.md).
//
// `avfs mount DIR` checks everything it can in this process (the folder, the vault, the point
// in history, FUSE itself), then starts the serving process in the background and returns once
// the mount is live, or with that process's error. `--foreground` serves in this process until
// SIGINT or SIGTERM, which is also what the background process runs.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command, CommandModule, Context } from '../context.js';
import { usageError } from '../args.js';
import { isVfsError, VfsError, vfsError, type ErrorCode } from '../../errors.js';

/** Errors of this command say which command they come from: `avfs: mount: DIR: not empty`. */
function tagged(e: unknown, word: string): unknown {
  if (!isVfsError(e) || e.code === 'EUSAGE') return e;
  return new VfsError(e.code, `${word}: ${e.message}`, { ...(e.path !== undefined ? { path: e.path } : {}), cause: e });
}

function cacheSeconds(ctx: Context): number {
  const v = ctx.flags.str('cache');
  if (v === undefined) return 0;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 3600) throw usageError(`mount: --cache: "${v}" is not a number of seconds from 0 to 3600`);
  return n;
}

const mount: Command = {
  usage: 'mount [--read-only] [--at POINT] [--foreground] [--cache SECONDS] MOUNTPOINT',
  notes: [
    'Shows the vault (--vault NAME|PATH, else the current one) as the folder MOUNTPOINT, which must',
    'exist and be empty. Every tool works there: editors, compilers, git, tar. Writes through the',
    'mount become versions and audit records (actor "mount", or --actor NAME) when a program closes',
    'or fsyncs the file; changes made meanwhile with the CLI or MCP show in the mount at once.',
    '--at POINT mounts the vault as it was at a snapshot, operation number or time, read-only.',
    'Without --foreground the mount is served by a background process, and this command returns',
    'once it is live; stop it with avfs unmount MOUNTPOINT. Needs FUSE (/dev/fuse, and the fuse',
    'and libfuse2 packages on Debian): without it, this command says so and exits 1.',
  ],
  flags: [
    { key: 'readOnly', long: 'read-only', help: 'refuse every change (EROFS)' },
    { key: 'at', long: 'at', value: 'POINT', help: 'mount the vault as it was at a snapshot, operation number or time (read-only)' },
    { key: 'foreground', long: 'foreground', short: 'f', help: 'serve in this process until interrupted' },
    { key: 'cache', long: 'cache', value: 'SECONDS', help: 'let the kernel keep attributes (and names, else kept 1 s) this long (default 0: changes from elsewhere show at once)' },
  ],
  min: 1,
  max: 1,
  async run(ctx: Context) {
    try {
      await mountCommand(ctx);
    } catch (e) {
      throw tagged(e, 'mount');
    }
  },
};

async function mountCommand(ctx: Context): Promise<void> {
  const cache = cacheSeconds(ctx);
  const at = ctx.flags.str('at');
  if (at !== undefined && at.trim() === '') throw usageError('mount: --at: empty point');
  const { checkMountpoint, serve } = await import('../../mount/mount.js');
  const { fuseUnavailable } = await import('../../mount/fuse.js');
  const mp = checkMountpoint(ctx.args[0], ctx.home);
  const { openVault } = await import('../../api/open.js');
  const vault = await openVault(ctx.vaultRef, { home: ctx.home, actor: ctx.actor ?? 'mount', syncEachWrite: false });
  let served = false;
  try {
    if (at !== undefined) await vault.point(at); // a bad point is refused here, not in the background
    const why = fuseUnavailable();
    if (why) throw vfsError('ENOTSUP', undefined, `FUSE is not available: ${why}`);
    if (!ctx.flags.bool('foreground')) {
      await vault.close();
      served = true;
      const pid = await startInBackground(ctx, mp);
      if (ctx.json) await ctx.printJson({ mounted: mp, vault: vault.name ?? vault.path, pid, readOnly: !!ctx.flags.bool('readOnly') || at !== undefined });
      else await ctx.note(`mounted ${vault.name ?? vault.path} at ${mp}`);
      return;
    }
    const ready = typeof process.send === 'function' && ctx.env.AVFS_MOUNT_IPC === '1';
    const log = (line: string): void => void ctx.err.write(`avfs mount: ${line}\n`);
    const serving = await serve({ vault, mountpoint: mp, home: ctx.home, readOnly: ctx.flags.bool('readOnly'), ...(at !== undefined ? { at } : {}), cacheSeconds: cache, log });
    served = true;
    const onSignal = (): void => void serving.stop();
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
    if (ready) {
      process.send!({ ready: true, pid: process.pid });
      process.disconnect();
    } else {
      log(`serving ${vault.name ?? vault.path} at ${mp} (Ctrl-C or avfs unmount ${mp} to stop)`);
    }
    await serving.ended;
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(sig, onSignal);
    await vault.close();
    // When the mount was taken away from outside, fuse-native keeps its thread's handles open
    // (it frees them only after its own fusermount succeeds), which would keep this process
    // alive for good: everything is committed and closed, so go.
    setTimeout(() => process.exit(), 500).unref();
  } catch (e) {
    if (!served) await vault.close().catch(() => {});
    // The starting process is waiting for a word: give it the error to report as its own.
    if (ctx.env.AVFS_MOUNT_IPC === '1' && typeof process.send === 'function' && process.connected) {
      const ve = isVfsError(e) ? e : vfsError('EIO', undefined, (e as Error)?.message ?? String(e));
      process.send({ error: { code: ve.code, message: ve.message, ...(ve.path !== undefined ? { path: ve.path } : {}) } });
    }
    throw e;
  }
}

/** bin/avfs of this installation (this module is bundled into dist/cli, or compiled into dist/src). */
function avfsBin(): string {
  for (let dir = new URL('.', import.meta.url); dir.pathname !== '/'; dir = new URL('..', dir)) {
    const candidate = new URL('bin/avfs', dir);
    if (existsSync(candidate) && existsSync(new URL('package.json', dir))) return fileURLToPath(candidate);
  }
  return process.argv[1];
}

/**
 * Run `avfs mount --foreground` detached, its output to a log file, and wait until it says the
 * mount is live (or fails, with its error).
 */
async function startInBackground(ctx: Context, mp: string): Promise<number> {
  const bin = avfsBin();
  const args = [bin, '--quiet', 'mount', '--foreground', mp];
  if (ctx.vaultRef !== undefined) args.push('--vault', ctx.vaultRef);
  if (ctx.actor !== undefined) args.push('--actor', ctx.actor);
  if (ctx.flags.bool('readOnly')) args.push('--read-only');
  const at = ctx.flags.str('at');
  if (at !== undefined) args.push('--at', at);
  const cache = ctx.flags.str('cache');
  if (cache !== undefined) args.push('--cache', cache);
  mkdirSync(join(ctx.home, 'mounts'), { recursive: true });
  const logPath = join(ctx.home, 'mounts', 'mount.log');
  const logFd = openSync(logPath, 'a');
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', logFd, logFd, 'ipc'],
    env: { ...ctx.env, AVFS_HOME: ctx.home, AVFS_MOUNT_IPC: '1' },
  });
  closeSync(logFd);
  return new Promise<number>((resolve, reject) => {
    const done = (): void => {
      child.removeAllListeners();
      if (child.connected) child.disconnect();
      child.unref();
    };
    child.on('message', (m: { ready?: boolean; pid?: number; error?: { code: ErrorCode; message: string; path?: string } }) => {
      if (m.error) {
        done();
        reject(new VfsError(m.error.code, m.error.message, m.error.path !== undefined ? { path: m.error.path } : {}));
      } else if (m.ready) {
        done();
        resolve(m.pid ?? child.pid ?? 0);
      }
    });
    child.on('error', (e) => {
      done();
      reject(vfsError('EIO', mp, `could not start the mount process: ${e.message}`));
    });
    child.on('exit', (code) => {
      done();
      reject(vfsError('EIO', mp, `the mount process ended (exit ${code}) before the mount was live; see ${logPath}`));
    });
  });
}

const unmount: Command = {
  usage: 'unmount MOUNTPOINT',
  notes: [
    'Ends a mount made by avfs mount: open files are committed, then the folder is detached.',
    'A mount whose process was killed (the folder then says "Transport endpoint is not',
    'connected") is detached too.',
  ],
  flags: [],
  min: 1,
  max: 1,
  async run(ctx: Context) {
    try {
      const { unmount: stop } = await import('../../mount/mount.js');
      const r = await stop(ctx.args[0], ctx.home);
      if (ctx.json) await ctx.printJson({ unmounted: r.mountpoint, stale: r.stale });
      else await ctx.note(r.stale ? `cleared the stale mount at ${r.mountpoint}` : `unmounted ${r.mountpoint}`);
    } catch (e) {
      throw tagged(e, 'unmount');
    }
  },
};

export const commands: CommandModule = { mount, unmount };
