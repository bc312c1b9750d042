// The FUSE binding, loaded only by the mount. fuse-native is an optional dependency and FUSE
// needs the kernel's /dev/fuse plus the system's fusermount and libfuse2, any of which a
// machine may lack: fuseUnavailable() names what is missing, in one line, before anything is
// tried, so `avfs mount` can say so and every other command and test never loads the binding.
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { vfsError } from '../errors.js';

/** The part of fuse-native's API the mount uses. */
export interface FuseInstance {
  mount(cb: (err?: Error | null) => void): void;
  unmount(cb: (err?: Error | null) => void): void;
  _fuseOptions(): string;
  /** fuse-native's fgetattr handler; it drops the descriptor, so the mount puts its own in. */
  _op_fgetattr(signal: (code: number, stat?: Uint32Array) => void, path: string, fd: number): void;
}

export interface FuseBinding {
  new (mnt: string, ops: Record<string, unknown>, opts: Record<string, unknown>): FuseInstance;
}

const require = createRequire(import.meta.url);

/** A program on the PATH, or undefined. */
export function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const p = join(dir || '.', name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

let loaded: { binding?: FuseBinding; dir?: string; error?: string } | undefined;

function load(): { binding?: FuseBinding; dir?: string; error?: string } {
  if (loaded) return loaded;
  try {
    const dir = dirname(require.resolve('fuse-native/package.json'));
    loaded = { binding: require('fuse-native') as FuseBinding, dir };
  } catch (e) {
    loaded = { error: `the fuse-native package cannot be loaded (${((e as Error).message ?? String(e)).split('\n')[0]})` };
  }
  return loaded;
}

/**
 * How a mount reaches the kernel. `kernel`: our own /dev/fuse session (src/mount/kernel/),
 * mounted with mount(8), which needs root; `fuse-native`: libfuse 2 through the binding, mounted
 * by the setuid fusermount, for everyone else. AVFS_MOUNT_DRIVER=kernel|fuse-native picks one.
 */
export type FuseDriver = 'kernel' | 'fuse-native';

export function fuseDriver(env: NodeJS.ProcessEnv = process.env): FuseDriver {
  const asked = env.AVFS_MOUNT_DRIVER;
  if (asked === 'kernel' || asked === 'fuse-native') return asked;
  return process.getuid?.() === 0 ? 'kernel' : 'fuse-native';
}

/** Why FUSE cannot be used on this machine (by `driver`), or undefined when it can. */
export function fuseUnavailable(driver: FuseDriver = fuseDriver()): string | undefined {
  if (process.platform !== 'linux') return `mounting is supported on Linux only (this is ${process.platform})`;
  const asked = process.env.AVFS_MOUNT_DRIVER;
  if (asked !== undefined && asked !== '' && asked !== 'kernel' && asked !== 'fuse-native') return `AVFS_MOUNT_DRIVER is "${asked}": use kernel or fuse-native`;
  if (!existsSync('/dev/fuse')) return '/dev/fuse is missing (load the fuse kernel module, or run where /dev/fuse exists)';
  try {
    closeSync(openSync('/dev/fuse', 'r+'));
  } catch (e) {
    return `/dev/fuse cannot be opened (${(e as NodeJS.ErrnoException).code ?? 'error'}): no permission to use FUSE here`;
  }
  if (driver === 'kernel') {
    if (process.getuid?.() !== 0) return 'the kernel driver mounts with mount(8), which needs root (AVFS_MOUNT_DRIVER=fuse-native uses fusermount)';
    for (const p of ['mount', 'umount']) if (!onPath(p)) return `${p} is missing (install util-linux's mount package)`;
    return undefined;
  }
  if (!onPath('fusermount')) return 'fusermount is missing (install the fuse and libfuse2 packages)';
  return load().error;
}

/** The binding, or ENOTSUP saying why FUSE is not available. */
export function fuseBinding(): FuseBinding {
  const why = fuseUnavailable('fuse-native');
  if (why) throw vfsError('ENOTSUP', undefined, `FUSE is not available: ${why}`);
  return load().binding!;
}

/**
 * True when the binding is the one scripts/fuse-fix.mjs rebuilt: utimens gets the real mtime
 * (UTIME_OMIT as OMIT_MS), and a file unlinked while open arrives with the path "". The
 * package's own prebuilt binary passes the atime twice and drops half-set times.
 */
export function bindingPatched(): boolean {
  const dir = load().dir;
  if (dir === undefined || !existsSync(join(dir, 'build/Release/fuse.node'))) return false;
  try {
    return readFileSync(join(dir, 'fuse-native.c'), 'utf8').startsWith('/* agentvfs: patched */');
  } catch {
    return false;
  }
}

/** What the patched binding passes for a time left alone (UTIME_OMIT): 2^64-1 ms. */
export const OMIT_MS = 2 ** 63;

/** The 18 numbers fuse-native hands to C for a struct stat (its own packer is not exported). */
export function statArray(st: { mode: number; uid: number; gid: number; size: number; nlink: number; ino: number; blksize: number; blocks: number; atime: number; mtime: number; ctime: number }): Uint32Array {
  const a = new Uint32Array(18);
  const two = (i: number, n: number): void => {
    a[i] = n % 4294967296;
    a[i + 1] = Math.floor(n / 4294967296);
  };
  a[0] = st.mode;
  a[1] = st.uid;
  a[2] = st.gid;
  two(3, st.size);
  a[6] = st.nlink;
  a[7] = st.ino;
  a[9] = st.blksize;
  two(10, st.blocks);
  two(12, st.atime);
  two(14, st.mtime);
  two(16, st.ctime);
  return a;
}
