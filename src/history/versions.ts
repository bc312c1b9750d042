// File versions: every content a path has held, read from the history rows (docs/history.md).
import { vfsError } from '../errors.js';
import type { ReadTx } from '../storage/contract.js';
import { scan } from '../storage/contract.js';
import { decodeJson, inodeLogKey, parseDirent, readU64, u64, type FileType, type Inode, type OpRecord } from '../core/records.js';
import { lookup } from '../core/resolve.js';
import { isWithin } from '../core/paths.js';
import type { ReadScope } from '../core/scope.js';

export interface Version {
  /** Content version number (1 = created). */
  version: number;
  /** The operation that made it. */
  seq: number;
  timeMs: number;
  type: FileType;
  size: number;
  hash?: string;
  target?: string;
  ino: number;
  actor: string;
  op: string;
  /** The paths the operation named (where the file was then). */
  paths: string[];
}

export interface Removal {
  removed: true;
  seq: number;
  timeMs: number;
  ino: number;
  actor: string;
  op: string;
  paths: string[];
}

export type HistoryEntry = Version | Removal;

async function opAt(tx: ReadTx, seq: number): Promise<OpRecord | undefined> {
  const raw = await tx.get('oplog', u64(seq));
  return raw === undefined ? undefined : decodeJson<OpRecord>(raw);
}

/**
 * The content versions of one inode, oldest first (one per version number, at the row that made
 * it). With `newest`, only the newest that many, read from the end: `log -n 10` of a file with
 * 10,000 versions reads a few rows, not 10,000.
 */
export async function inodeVersions(tx: ReadTx, ino: number, newest = Infinity): Promise<{ seq: number; node: Inode }[]> {
  const range = { gte: inodeLogKey(ino, 0), lte: inodeLogKey(ino, Number.MAX_SAFE_INTEGER) };
  if (newest === Infinity) {
    const out: { seq: number; node: Inode }[] = [];
    let last: Inode | undefined;
    for await (const e of scan(tx, 'inode_log', range)) {
      const node = decodeJson<Inode>(e.value);
      if (!last || node.version !== last.version || node.type !== last.type) out.push({ seq: readU64(e.key, 8), node });
      last = node;
    }
    return out;
  }
  // Newest first: a version's rows are consecutive; the oldest row of each run made it.
  const runs: { seq: number; node: Inode }[] = [];
  for await (const e of scan(tx, 'inode_log', { ...range, reverse: true }, 64)) {
    const node = decodeJson<Inode>(e.value);
    const run = runs[runs.length - 1];
    if (run && run.node.version === node.version && run.node.type === node.type) run.seq = readU64(e.key, 8);
    else if (runs.length === newest) break;
    else runs.push({ seq: readU64(e.key, 8), node });
  }
  return runs.reverse();
}

/**
 * A row of version `version` of one inode, found by binary search over operation numbers
 * (versions only grow with them): O(log n) reads whatever the number of versions.
 */
async function inodeVersion(tx: ReadTx, ino: number, version: number): Promise<{ seq: number; node: Inode } | undefined> {
  let lo = 0;
  let hi = Number.MAX_SAFE_INTEGER;
  while (lo <= hi) {
    const mid = Math.floor(lo / 2 + hi / 2);
    const r = await tx.range('inode_log', { gte: inodeLogKey(ino, 0), lte: inodeLogKey(ino, mid), reverse: true, limit: 1 });
    if (r.length === 0) {
      lo = mid + 1;
      continue;
    }
    const seq = readU64(r[0].key, 8);
    const node = decodeJson<Inode>(r[0].value);
    if (node.version === version) return { seq, node };
    if (node.version < version) lo = mid + 1;
    else hi = seq - 1;
  }
  return undefined;
}

/** What was ever bound at (parent, name): each binding's inode, and the removals, oldest first. */
async function bindings(tx: ReadTx, parent: number, name: string): Promise<{ seq: number; ino?: number }[]> {
  const base = Buffer.concat([u64(parent), Buffer.from(name), Buffer.from([0])]);
  const out: { seq: number; ino?: number }[] = [];
  for await (const e of scan(tx, 'dirent_log', { prefix: base })) {
    const seq = readU64(e.key, e.key.length - 8);
    out.push(e.value.length === 0 ? { seq } : { seq, ino: parseDirent(e.value).ino });
  }
  return out;
}

/**
 * The history of a path, newest first: the content versions of every file that was ever at
 * this path (with their versions from before a rename), and the removals. The path need not
 * exist now, but its folder must.
 */
export async function fileHistory(s: ReadScope, path: string, limit = Infinity): Promise<HistoryEntry[]> {
  const r = await lookup(s, path, false);
  const binds = await bindings(s.tx, r.parent, r.name);
  if (binds.length === 0) throw vfsError('ENOENT', path, 'no such file, now or in its history');
  const inos = [...new Set(binds.filter((b) => b.ino !== undefined).map((b) => b.ino!))];
  // Rows first, operation records only for what is returned: `log -n 10` and `cat -v N` on a
  // file with 10,000 versions must not read 10,000 operation records.
  const found: { seq: number; ino: number; node?: Inode }[] = [];
  for (const ino of inos) for (const { seq, node } of await inodeVersions(s.tx, ino, limit)) found.push({ seq, ino, node });
  let prev: number | undefined;
  for (const b of binds) {
    if (b.ino === undefined && prev !== undefined) found.push({ seq: b.seq, ino: prev });
    prev = b.ino;
  }
  found.sort((a, b) => b.seq - a.seq);
  const entries: HistoryEntry[] = [];
  for (const f of found.slice(0, limit)) entries.push(await describe(s.tx, f));
  return entries;
}

async function describe(tx: ReadTx, f: { seq: number; ino: number; node?: Inode }): Promise<HistoryEntry> {
  const op = await opAt(tx, f.seq);
  const who = { seq: f.seq, ino: f.ino, actor: op?.actor ?? '', op: op?.op ?? '', paths: op?.paths ?? [] };
  if (!f.node) return { removed: true, timeMs: op?.timeMs ?? 0, ...who };
  const node = f.node;
  const v: Version = { version: node.version, timeMs: op?.timeMs ?? node.mtimeMs, type: node.type, size: node.size, ...who };
  if (node.hash !== undefined) v.hash = node.hash;
  if (node.target !== undefined) v.target = node.target;
  return v;
}

/** Version N along a path (the newest one with that number if several files held it). */
export async function findVersion(s: ReadScope, path: string, version: number): Promise<Version> {
  if (!Number.isSafeInteger(version) || version < 1) throw vfsError('EINVAL', path, `bad version "${version}" (versions count from 1)`);
  const r = await lookup(s, path, false);
  const binds = await bindings(s.tx, r.parent, r.name);
  if (binds.length === 0) throw vfsError('ENOENT', path, 'no such file, now or in its history');
  const inos = [...new Set(binds.filter((b) => b.ino !== undefined).map((b) => b.ino!))];
  let best: { seq: number; ino: number; node: Inode } | undefined;
  for (const ino of inos) {
    const hit = await inodeVersion(s.tx, ino, version);
    if (hit && (!best || hit.seq > best.seq)) best = { ...hit, ino };
  }
  if (!best) {
    const known = new Set<number>();
    for (const ino of inos) for (const v of await inodeVersions(s.tx, ino)) known.add(v.node.version);
    throw vfsError('ENOENT', path, `no version ${version} (versions: ${[...known].sort((a, b) => a - b).join(', ') || 'none'})`);
  }
  return (await describe(s.tx, best)) as Version;
}

/** The operations that touched anything at or below a folder, newest first. */
export async function folderHistory(tx: ReadTx, dir: string, limit: number): Promise<OpRecord[]> {
  const out: OpRecord[] = [];
  for await (const e of scan(tx, 'oplog', { reverse: true }, 500)) {
    const rec = decodeJson<OpRecord>(e.value);
    // Changes only: refused operations and recorded reads (mcp.* tool calls) changed nothing.
    if (rec.outcome === undefined && !rec.op.startsWith('mcp.') && rec.paths.some((p) => isWithin(p, dir))) out.push(rec);
    if (out.length >= limit) break;
  }
  return out;
}
