// Which mounts exist: the kernel's list (/proc/self/mounts) says what is mounted where; our
// records ($AVFS_HOME/mounts/*.json, one per mount point) say which process serves it, so that
// `avfs unmount` can ask that process to finish its writes and go. A record whose process is
// gone, or a mount whose process is gone (killed), is stale: unmount clears it, and so does the
// next mount on the same folder.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vfsError } from '../errors.js';

/** The file system type our mounts show in the kernel's list (subtype avfs). */
export const FS_TYPE = 'fuse.avfs';

export interface MountRecord {
  pid: number;
  mountpoint: string;
  vault: string;
  readOnly: boolean;
  at?: string;
  startedMs: number;
}

/** The kernel's mount list: mount point -> file system type. */
export function kernelMounts(): Map<string, string> {
  const out = new Map<string, string>();
  let text = '';
  try {
    text = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return out;
  }
  // Fields are space separated; spaces, tabs, newlines and backslashes in them are \ooo escapes.
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length >= 3) out.set(unescape(f[1]), f[2]);
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function recordPath(home: string, mountpoint: string): string {
  const id = createHash('sha256').update(mountpoint).digest('hex').slice(0, 16);
  return join(home, 'mounts', `${id}.json`);
}

export function readRecord(home: string, mountpoint: string): MountRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(recordPath(home, mountpoint), 'utf8')) as MountRecord;
    return r.mountpoint === mountpoint && Number.isInteger(r.pid) ? r : undefined;
  } catch {
    return undefined;
  }
}

export function writeRecord(home: string, r: MountRecord): void {
  const p = recordPath(home, r.mountpoint);
  mkdirSync(join(home, 'mounts'), { recursive: true });
  writeFileSync(`${p}.tmp-${process.pid}`, JSON.stringify(r) + '\n');
  renameSync(`${p}.tmp-${process.pid}`, p);
}

export function removeRecord(home: string, mountpoint: string, pid?: number): void {
  const r = readRecord(home, mountpoint);
  if (pid !== undefined && r && r.pid !== pid) return; // another process serves it now
  rmSync(recordPath(home, mountpoint), { force: true });
}

/**
 * Detach a mount now (lazy: programs still inside it keep what they hold open). Root uses
 * umount(8) itself (no fusermount needed with the kernel driver); others the setuid fusermount.
 */
export function detach(mountpoint: string): void {
  const [cmd, args] = process.getuid?.() === 0 ? ['umount', ['-i', '-l', '--', mountpoint]] : ['fusermount', ['-u', '-z', '--', mountpoint]];
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw vfsError('EIO', mountpoint, `${cmd} failed: ${r.error.message}`);
  if (r.status !== 0) throw vfsError('EIO', mountpoint, `${cmd} failed: ${(r.stderr || '').trim().split('\n')[0] || `exit ${r.status}`}`);
}
