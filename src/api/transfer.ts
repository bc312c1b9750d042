// import: a host folder (or file) into the vault; export: a vault folder (or file) to the host.
// Both plan first and write second, so a refusal leaves nothing half-done:
//   - import never follows a host symlink: it is stored as a symlink, target kept verbatim;
//   - export writes a vault symlink as a symlink with its target verbatim (as tar and cp -a do:
//     writing a link escapes nothing, only following one would), never follows one, never
//     writes through a host symlink and never places anything outside the target folder
//     (src/api/host-tree.ts says how, and what holds against a concurrent swap); with
//     safeLinks, links pointing outside the exported folder are skipped and counted.
// Import writes in transactions of up to 1,000 files (or 64 MiB), which is what makes a big
// import fast; mode and mtime are kept both ways.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { basename, join, resolve as resolveHost, sep, dirname as hostDirname } from 'node:path';
import { vfsError } from '../errors.js';
import { dirname, joinPath, normalizePath, printable } from '../core/paths.js';
import { HostTree } from './host-tree.js';
import type { FileOps } from './fileops.js';
import type { Stat, TransferProgress, TransferResult } from './types.js';

export interface TransferOptions {
  recursive?: boolean;
  onProgress?: (p: TransferProgress) => void;
}

export interface ExportOptions extends TransferOptions {
  /** Skip symlinks whose target is absolute or leads outside the exported folder (rsync's --safe-links). */
  safeLinks?: boolean;
}

/** With safeLinks: how many symlinks were skipped. */
export type ExportResult = TransferResult & { skippedLinks?: number };

/** What a batch writer offers: the same file operations inside one transaction. */
export type Batcher = <T>(fn: (ops: FileOps) => Promise<T>) => Promise<T>;

interface HostEntry {
  rel: string; // '/'-separated, '' for the top
  type: 'file' | 'directory' | 'symlink';
  size: number;
  mode: number;
  mtimeMs: number;
  target?: string;
}

const BATCH_FILES = 1000;
const BATCH_BYTES = 64 * 1024 * 1024;

async function scanHost(top: string, recursive: boolean): Promise<{ entries: HostEntry[]; skipped: string[] }> {
  const entries: HostEntry[] = [];
  const skipped: string[] = [];
  const visit = async (abs: string, rel: string): Promise<void> => {
    const st = await fsp.lstat(abs);
    const base = { rel, size: st.size, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs };
    if (st.isSymbolicLink()) entries.push({ ...base, type: 'symlink', target: await fsp.readlink(abs) });
    else if (st.isFile()) entries.push({ ...base, type: 'file' });
    else if (st.isDirectory()) {
      if (rel !== '' && !recursive) return;
      entries.push({ ...base, type: 'directory', size: 0 });
      const names = (await fsp.readdir(abs)).sort();
      for (const n of names) await visit(join(abs, n), rel === '' ? n : `${rel}/${n}`);
    } else skipped.push(abs); // sockets, FIFOs, devices have no place in a vault
  };
  await visit(top, '');
  return { entries, skipped };
}

export async function importTree(
  ops: FileOps,
  batch: Batcher,
  hostPath: string,
  vaultPath: string,
  opts: TransferOptions = {},
): Promise<TransferResult & { skipped: string[] }> {
  const top = resolveHost(hostPath);
  let st: fs.Stats;
  try {
    st = await fsp.lstat(top);
  } catch {
    throw vfsError('ENOENT', hostPath, 'no such file or folder on the host');
  }
  if (st.isDirectory() && !opts.recursive) throw vfsError('EISDIR', hostPath, 'is a folder (use -r to import it)');
  let dest = ops.abs(vaultPath);
  // A single file imported onto an existing folder goes inside it, like cp.
  if (!st.isDirectory()) {
    const there = await ops.stat(dest).catch(() => undefined);
    if (there?.type === 'directory') dest = joinPath(dest, top.slice(top.lastIndexOf(sep) + 1));
  }
  const { entries, skipped } = await scanHost(top, !!opts.recursive);
  for (const e of entries) normalizePath(e.rel === '' ? dest : joinPath(dest, e.rel)); // names valid before any write
  const total = { totalFiles: entries.filter((e) => e.type !== 'directory').length, totalBytes: entries.reduce((a, e) => a + (e.type === 'file' ? e.size : 0), 0) };
  const result = { files: 0, dirs: 0, symlinks: 0, bytes: 0, skipped };
  const dirs: HostEntry[] = [];
  let i = 0;
  while (i < entries.length) {
    // Read the next batch's file contents before opening the transaction, then write it whole.
    const group: { e: HostEntry; data?: Buffer }[] = [];
    let bytes = 0;
    // A file too big for a batch streams in on its own, never held whole in memory.
    if (entries[i].type === 'file' && entries[i].size > BATCH_BYTES) {
      const e = entries[i++];
      const p = e.rel === '' ? dest : joinPath(dest, e.rel);
      const abs = e.rel === '' ? top : join(top, ...e.rel.split('/'));
      await ops.writeStream(p, fs.createReadStream(abs), { mode: e.mode, mtimeMs: e.mtimeMs });
      result.files++;
      result.bytes += e.size;
      opts.onProgress?.({ files: result.files + result.symlinks, bytes: result.bytes, ...total });
      continue;
    }
    while (i < entries.length && group.length < BATCH_FILES && entries[i].size <= BATCH_BYTES && (group.length === 0 || bytes + entries[i].size <= BATCH_BYTES)) {
      const e = entries[i++];
      const abs = e.rel === '' ? top : join(top, ...e.rel.split('/'));
      const data = e.type === 'file' ? await fsp.readFile(abs) : undefined;
      bytes += data?.length ?? 0;
      group.push({ e, data });
    }
    await batch(async (b) => {
      for (const { e, data } of group) {
        const p = e.rel === '' ? dest : joinPath(dest, e.rel);
        if (e.type === 'directory') {
          await b.mkdir(p, { recursive: true });
          dirs.push(e);
        } else if (e.type === 'symlink') {
          await b.rm(p, { force: true });
          await b.mkdir(dirname(p), { recursive: true });
          await b.symlink(e.target!, p);
          await b.utimes(p, e.mtimeMs, { follow: false }); // the link's own time, so export gives it back
        } else {
          await b.writeFile(p, data!, { mode: e.mode, mtimeMs: e.mtimeMs });
        }
      }
    });
    for (const { e, data } of group) {
      if (e.type === 'directory') result.dirs++;
      else if (e.type === 'symlink') result.symlinks++;
      else {
        result.files++;
        result.bytes += data!.length;
      }
    }
    opts.onProgress?.({ files: result.files + result.symlinks, bytes: result.bytes, ...total });
  }
  // Folder modes and times last: adding children above moved their mtimes.
  for (let k = 0; k < dirs.length; k += BATCH_FILES) {
    const part = dirs.slice(k, k + BATCH_FILES);
    await batch(async (b) => {
      for (const e of part) {
        const p = e.rel === '' ? dest : joinPath(dest, e.rel);
        await b.chmod(p, e.mode);
        await b.utimes(p, e.mtimeMs);
      }
    });
  }
  return result;
}

interface PlanItem {
  stat: Stat;
  rel: string; // '/'-separated below the target, '' for the target itself
}

/**
 * `--safe-links` (rsync's name): does a symlink's target point outside the exported folder? An
 * absolute target does; a relative one is followed lexically from the link's folder. A `..`
 * after a name counts as outside too: that name may itself be a symlink (`d -> .` makes `d/..`
 * the folder above the target), so only leading `..`s are taken at their word.
 */
export function linkLeavesTree(target: string, linkRel: string): boolean {
  if (target.startsWith('/') || target === '') return true;
  let depth = linkRel === '' ? 0 : linkRel.split('/').length - 1; // the link's folder, below the target
  let named = false;
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (named || --depth < 0) return true;
    } else named = true;
  }
  return false;
}

export async function exportTree(ops: FileOps, vaultPath: string, hostPath: string, opts: ExportOptions = {}): Promise<ExportResult> {
  const src = await ops.stat(vaultPath);
  if (src.type === 'directory' && !opts.recursive) throw vfsError('EISDIR', vaultPath, 'is a folder (use -r to export it)');
  let top = resolveHost(hostPath);
  if (src.type !== 'directory') {
    const there = await fsp.stat(top).catch(() => undefined);
    if (there?.isDirectory()) top = join(top, src.name);
  }
  const single = src.type !== 'directory';
  // Plan: every entry's place below the target; symlinks kept verbatim (or skipped with --safe-links).
  const plan: PlanItem[] = [];
  let skippedLinks = 0;
  for await (const e of ops.walk(src.path)) {
    const rel = e.path === src.path ? '' : e.path.slice(src.path === '/' ? 1 : src.path.length + 1);
    const host = rel === '' ? top : resolveHost(top, ...rel.split('/'));
    if (host !== top && !host.startsWith(top + sep)) {
      throw vfsError('EPERM', e.path, `export refused: ${printable(e.path)} would land outside ${top}`);
    }
    if (e.stat.type === 'symlink' && opts.safeLinks && linkLeavesTree(e.stat.target ?? '', rel)) {
      skippedLinks++;
      continue;
    }
    plan.push({ stat: e.stat, rel });
  }
  await refuseInTheWay(plan, top);
  const total = { totalFiles: plan.filter((p) => p.stat.type !== 'directory').length, totalBytes: plan.reduce((a, p) => a + (p.stat.type === 'file' ? p.stat.size : 0), 0) };
  const result: ExportResult = { files: 0, dirs: 0, symlinks: 0, bytes: 0, ...(opts.safeLinks ? { skippedLinks } : {}) };
  if (plan.length === 0) return result;
  // A single file or link is written into the folder above HOST_PATH, which the user named.
  const tree = await HostTree.open(single ? hostDirname(top) : top, single);
  const place = (rel: string): string => (single ? basename(top) : rel);
  let last = 0;
  try {
    for (const item of plan) {
      const { stat } = item;
      if (stat.type === 'directory') {
        await tree.mkdir(item.rel, stat.mode, stat.mtimeMs);
        result.dirs++;
        continue;
      }
      if (stat.type === 'symlink') {
        await tree.symlink(place(item.rel), stat.target ?? '', stat.mtimeMs);
        result.symlinks++;
      } else {
        await tree.writeFile(place(item.rel), stat.mode, stat.mtimeMs, async (fh) => {
          for await (const part of ops.readStream(stat.path)) {
            await fh.write(part);
            result.bytes += part.length;
          }
        });
        result.files++;
      }
      if (opts.onProgress && (result.files + result.symlinks - last >= 100 || stat.size > 1 << 20)) {
        last = result.files + result.symlinks;
        opts.onProgress({ files: last, bytes: result.bytes, ...total });
      }
    }
    await tree.close();
  } catch (e) {
    await tree.abandon();
    throw e;
  }
  opts.onProgress?.({ files: result.files + result.symlinks, bytes: result.bytes, ...total });
  return result;
}

/**
 * Refuse before anything is written when the host already holds something that cannot be
 * replaced safely: a symlink on the way to an entry or in the place of a file or folder (only a
 * symlink may replace a symlink: unlinking a link never touches what it points at), a folder
 * where a file or link goes, or a file where a folder goes. HostTree checks the same again
 * while it writes, so a change made after this check is refused too, only later.
 */
async function refuseInTheWay(plan: PlanItem[], top: string): Promise<void> {
  const checked = new Set<string>();
  const check = async (p: string, own?: PlanItem): Promise<void> => {
    if (own === undefined && checked.has(p)) return;
    checked.add(p);
    const st = await fsp.lstat(p).catch(() => undefined);
    if (st === undefined) return;
    const want = own?.stat.type ?? 'directory';
    if (st.isSymbolicLink() && want !== 'symlink') throw vfsError('EPERM', printable(p), 'export refused: a symlink is in the way on the host (it could redirect the write)');
    if (st.isDirectory() && want !== 'directory') throw vfsError('EEXIST', printable(p), 'export refused: a folder is in the way on the host');
    if (!st.isDirectory() && !st.isSymbolicLink() && want === 'directory') throw vfsError('ENOTDIR', printable(p), 'export refused: a file is in the way of a folder on the host');
  };
  for (const item of plan) {
    const host = item.rel === '' ? top : join(top, ...item.rel.split('/'));
    await check(host, item);
    for (let p = hostDirname(host); p.length >= top.length && host !== top; p = hostDirname(p)) {
      await check(p);
      if (p === top) break;
    }
  }
}
