// import: a host folder (or file) into the vault; export: a vault folder (or file) to the host.
// Both plan first and write second, so a refusal leaves nothing half-done:
//   - import never follows a host symlink: it is stored as a symlink, target kept verbatim;
//   - export refuses a vault symlink that would point outside the target folder, and never
//     writes through a symlink that already sits in the target folder.
// Import writes in transactions of up to 1,000 files (or 64 MiB), which is what makes a big
// import fast; mode and mtime are kept both ways.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join, resolve as resolveHost, sep, relative, dirname as hostDirname } from 'node:path';
import { vfsError } from '../errors.js';
import { dirname, isWithin, joinPath, normalizePath, printable } from '../core/paths.js';
import type { FileOps } from './fileops.js';
import type { Stat, TransferProgress, TransferResult } from './types.js';

export interface TransferOptions {
  recursive?: boolean;
  onProgress?: (p: TransferProgress) => void;
}

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
  host: string;
  linkTarget?: string;
}

export async function exportTree(ops: FileOps, vaultPath: string, hostPath: string, opts: TransferOptions = {}): Promise<TransferResult> {
  const src = await ops.stat(vaultPath);
  if (src.type === 'directory' && !opts.recursive) throw vfsError('EISDIR', vaultPath, 'is a folder (use -r to export it)');
  let top = resolveHost(hostPath);
  if (src.type !== 'directory') {
    const there = await fsp.stat(top).catch(() => undefined);
    if (there?.isDirectory()) top = join(top, src.name);
  }
  // Plan: every entry's host path, and every symlink checked to stay inside the target.
  const plan: PlanItem[] = [];
  for await (const e of ops.walk(src.path)) {
    const rel = e.path === src.path ? '' : e.path.slice(src.path === '/' ? 1 : src.path.length + 1);
    const host = rel === '' ? top : resolveHost(top, ...rel.split('/'));
    if (host !== top && !host.startsWith(top + sep)) {
      throw vfsError('EPERM', e.path, `export refused: ${printable(e.path)} would land outside ${top}`);
    }
    const item: PlanItem = { stat: e.stat, host };
    if (e.stat.type === 'symlink') item.linkTarget = exportLinkTarget(e.stat, src.path);
    plan.push(item);
  }
  await refuseHostSymlinks(plan, top);
  const total = { totalFiles: plan.filter((p) => p.stat.type !== 'directory').length, totalBytes: plan.reduce((a, p) => a + (p.stat.type === 'file' ? p.stat.size : 0), 0) };
  const result: TransferResult = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
  let last = 0;
  for (const item of plan) {
    const { stat, host } = item;
    if (stat.type === 'directory') {
      await fsp.mkdir(host, { recursive: true });
      result.dirs++;
      continue;
    }
    await fsp.mkdir(hostDirname(host), { recursive: true });
    if (stat.type === 'symlink') {
      await fsp.rm(host, { force: true });
      await fsp.symlink(item.linkTarget!, host);
      result.symlinks++;
    } else {
      // O_NOFOLLOW: never write through a symlink that appeared since the plan was checked.
      const fh = await fsp.open(host, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW, stat.mode);
      try {
        for await (const part of ops.readStream(stat.path)) {
          await fh.write(part);
          result.bytes += part.length;
        }
        await fh.chmod(stat.mode);
      } finally {
        await fh.close();
      }
      await fsp.utimes(host, stat.mtime, stat.mtime);
      result.files++;
    }
    if (opts.onProgress && (result.files + result.symlinks - last >= 100 || stat.size > 1 << 20)) {
      last = result.files + result.symlinks;
      opts.onProgress({ files: last, bytes: result.bytes, ...total });
    }
  }
  // Folder modes and times last, deepest first, since writing children moved them.
  for (const item of plan.filter((p) => p.stat.type === 'directory').reverse()) {
    await fsp.chmod(item.host, item.stat.mode);
    await fsp.utimes(item.host, item.stat.mtime, item.stat.mtime);
  }
  opts.onProgress?.({ files: result.files + result.symlinks, bytes: result.bytes, ...total });
  return result;
}

/**
 * The host target for a vault symlink, or a refusal. Relative targets must stay inside the
 * exported folder; an absolute vault target inside it becomes relative; anything else would
 * point at the host's own files and is refused.
 */
function exportLinkTarget(st: Stat, root: string): string {
  const target = st.target ?? '';
  const linkDir = dirname(st.path);
  const resolved = normalizePath(target, linkDir);
  if (!isWithin(resolved, root)) {
    throw vfsError('EPERM', st.path, `export refused: symlink ${printable(st.path)} -> ${printable(target)} points outside the exported folder`);
  }
  if (!target.startsWith('/')) return target;
  const rel = relative(linkDir, resolved);
  return rel === '' ? '.' : rel;
}

/** Refuse if any planned host path, or a folder above it inside the target, is a symlink now. */
async function refuseHostSymlinks(plan: PlanItem[], top: string): Promise<void> {
  const checked = new Set<string>();
  const check = async (p: string): Promise<void> => {
    if (checked.has(p)) return;
    checked.add(p);
    const st = await fsp.lstat(p).catch(() => undefined);
    if (st?.isSymbolicLink()) throw vfsError('EPERM', p, 'export refused: a symlink is in the way on the host (it could redirect the write)');
  };
  for (const item of plan) {
    for (let p = item.host; p.length >= top.length; p = hostDirname(p)) {
      await check(p);
      if (p === top) break;
    }
  }
}
