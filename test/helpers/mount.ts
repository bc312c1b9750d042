// Mounting a vault with `avfs mount` for the tests, and knowing when it cannot be done here.
// A failing test must never leave a mount behind (the next run would find a stale FUSE mount
// point, and the background process would keep running), so unmount() falls back to a lazy
// unmount (leaveNoMount) when `avfs unmount` does not do the job.
import { mkdtempSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliHome, type RunOptions, type RunResult } from './cli.js';
import { storeRef } from './vaults.js';

// What avfs mount itself checks (no /dev/fuse, no permission, no fusermount, no binding).
export { fuseDriver, fuseUnavailable } from '../../src/mount/fuse.js';
import type { FuseDriver } from '../../src/mount/fuse.js';
import { detach as detachMount, kernelMounts } from '../../src/mount/table.js';

/**
 * Detach whatever is mounted on `dir` (lazily, as `avfs unmount` does for a stale mount: umount
 * as root, fusermount otherwise). Returns why `dir` is still a mount point, or undefined.
 */
export function leaveNoMount(dir: string): string | undefined {
  if (!isMounted(dir)) return undefined;
  try {
    detachMount(dir);
  } catch (e) {
    return (e as Error).message;
  }
  return isMounted(dir) ? `${dir} is still mounted after a lazy unmount` : undefined;
}

/** Whether `dir` is a mount point now (the kernel's own table). */
export function isMounted(dir: string): boolean {
  return kernelMounts().has(dir);
}

export interface MountedVault {
  /** The AVFS_HOME holding the vault `v`. */
  home: string;
  /** The mount point. */
  dir: string;
  /** Runs `avfs` with this AVFS_HOME (cliHome's runner). */
  run: (args: readonly string[], opts?: RunOptions) => Promise<RunResult>;
  /**
   * `avfs unmount DIR`, then removes the temp folders. If that fails or leaves the mount, it
   * detaches the mount lazily (leaveNoMount), cleans up, and then throws what avfs said.
   */
  unmount(): Promise<void>;
}

/** A fresh vault `v` on `backend` in a fresh AVFS_HOME, mounted with `avfs mount` on a fresh folder. */
export async function mountVault(opts: { backend?: 'sqlite' | 'lmdb' | 'log' | 'rocksdb' | 'postgres'; args?: string[]; driver?: FuseDriver } = {}): Promise<MountedVault> {
  const backend = opts.backend ?? 'sqlite';
  const { home, run: runHome } = cliHome('avfs-mount-home-');
  // The driver is the serving process's choice (AVFS_MOUNT_DRIVER), passed to every avfs run.
  const run: MountedVault['run'] = opts.driver ? (args, o) => runHome(args, { ...o, env: { AVFS_MOUNT_DRIVER: opts.driver, ...o?.env } }) : runHome;
  const dir = mkdtempSync(join(tmpdir(), 'avfs-mount-'));

  const detach = (): string | undefined => leaveNoMount(dir);
  const removeFolders = (): void => {
    rmSync(home, { recursive: true, force: true });
    // Never recursive: if the mount is somehow still there, this must not walk into the vault.
    try {
      rmdirSync(dir);
    } catch {
      // still mounted (reported by detach) or already gone
    }
  };

  try {
    // postgres: on the test cluster, in a schema named after the (fresh) mount folder.
    const where = backend === 'postgres' ? ['--url', storeRef('postgres', dir)] : [];
    const created = await run(['vault', 'create', 'v', '--backend', backend, ...where]);
    if (created.code !== 0) throw new Error(`avfs vault create v --backend ${backend}: exit ${created.code}: ${created.stderr}`);
    const mounted = await run(['mount', '--vault', 'v', dir, ...(opts.args ?? [])]);
    if (mounted.code !== 0) throw new Error(`avfs mount --vault v ${dir}: exit ${mounted.code}: ${mounted.stderr}`);
  } catch (e) {
    detach();
    removeFolders();
    throw e;
  }

  let done = false;
  return {
    home,
    dir,
    run,
    async unmount() {
      if (done) return;
      done = true;
      const r = await run(['unmount', dir]);
      const stillMounted = isMounted(dir);
      const detachFailure = detach();
      removeFolders();
      if (detachFailure !== undefined) throw new Error(detachFailure);
      if (r.code !== 0) throw new Error(`avfs unmount ${dir}: exit ${r.code}: ${r.stderr}`);
      if (stillMounted) throw new Error(`avfs unmount ${dir} exited 0 but left the mount (detached lazily)`);
    },
  };
}
