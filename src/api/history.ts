// History operations of the library: versions, points in time, snapshots, audit. Vault's
// methods delegate here (one call each), so vault.ts stays a table of contents.
import { isVfsError, vfsError } from '../errors.js';
import type { Engine } from '../storage/contract.js';
import { scan } from '../storage/contract.js';
import { withRead, withWrite, type VaultSettings, type WriteScope } from '../core/scope.js';
import { resolve } from '../core/resolve.js';
import * as core from '../core/fs.js';
import { readContent } from '../content/chunks.js';
import { decodeJson, type OpRecord } from '../core/records.js';
import { isWithin, normalizePath } from '../core/paths.js';
import { HistoricalScope, currentSeq, resolvePoint, type Point } from '../history/at.js';
import { fileHistory, findVersion, folderHistory, type HistoryEntry, type Version } from '../history/versions.js';
import { checkSnapshotName, deleteSnapshotRow, getSnapshot, listSnapshots, putSnapshot, type Snapshot } from '../history/snapshots.js';
import { restoreTree, type RestoreCounts } from '../history/restore.js';
import { readMemory, restoreMemory, saveMemory } from '../memory/dump.js';
import { FileOps } from './fileops.js';
import { toStat, type Stat } from './types.js';

export interface AuditFilter {
  limit?: number;
  /** Only these operations (e.g. 'write', 'rename'). */
  ops?: string[];
  /** Only operations that named a path at or below this one. */
  path?: string;
  /** Only operations at or after this time (ms since the epoch). */
  sinceMs?: number;
  actor?: string;
}

export interface PointDiff {
  from: Point;
  to: Point;
  added: string[];
  removed: string[];
  changed: string[];
}

interface Ctx {
  engine: Engine;
  settings: VaultSettings;
  cwd: string;
}

const abs = (c: Ctx, p: string): string => normalizePath(p, c.cwd);

/** A write transaction whose refusal is still named in the audit log (as FileOps writes are). */
async function logged<T>(c: Ctx, intent: { op: string; paths: string[] }, fn: (s: WriteScope) => Promise<T>): Promise<T> {
  try {
    return await withWrite(c.engine, c.settings, fn);
  } catch (e) {
    if (isVfsError(e)) await withWrite(c.engine, c.settings, (s) => s.refused(intent.op, intent.paths, e.code)).catch(() => {});
    throw e;
  }
}

export async function point(c: Ctx, spec: string | number): Promise<Point> {
  return withRead(c.engine, c.settings, (s) => resolvePoint(s.tx, String(spec)));
}

/** A read-only view of the whole vault as it was at a point; writes through it are EROFS. */
export async function at(c: Ctx, spec: string | number): Promise<FileOps & { point: Point }> {
  const p = await point(c, spec);
  const view = new FileOps({
    settings: c.settings,
    historical: true, // tags and metadata are not kept in history: the view has none
    read: (fn) => c.engine.read((tx) => fn(new HistoricalScope(tx, c.settings, p.seq))),
    write: () => Promise.reject(vfsError('EROFS', undefined, `the vault as of ${p.label} is read-only`)),
  }) as FileOps & { point: Point };
  view.cwd = c.cwd;
  view.point = p;
  return view;
}

export async function history(c: Ctx, path: string, limit = Infinity): Promise<HistoryEntry[]> {
  const p = abs(c, path);
  return withRead(c.engine, c.settings, (s) => fileHistory(s, p, limit));
}

export async function changesBelow(c: Ctx, dir: string, limit = 100): Promise<OpRecord[]> {
  const p = abs(c, dir);
  return withRead(c.engine, c.settings, async (s) => {
    await resolve(s, p, true);
    return folderHistory(s.tx, p, limit);
  });
}

export async function readVersion(c: Ctx, path: string, version: number): Promise<{ version: Version; data: Buffer }> {
  const p = abs(c, path);
  return withRead(c.engine, c.settings, async (s) => {
    const v = await findVersion(s, p, version);
    if (v.type === 'directory') throw vfsError('EISDIR', p);
    if (v.type === 'symlink') return { version: v, data: Buffer.from(v.target ?? '') };
    return { version: v, data: await readContent(s.tx, { hash: v.hash!, size: v.size }, s.settings.chunkSize) };
  });
}

/** Make version N the file's content again, as a new version (works for deleted files too). */
export async function checkout(c: Ctx, path: string, version: number): Promise<Stat> {
  const p = abs(c, path);
  return logged(c, { op: 'checkout', paths: [p] }, async (s) => {
    const v = await findVersion(s, p, version);
    if (v.type !== 'file') throw vfsError('EINVAL', p, `version ${version} is a ${v.type}, not file content`);
    const node = await core.setContent(s, p, { hash: v.hash!, size: v.size }, { parents: true });
    s.note({ checkout: version });
    return toStat({ path: p, name: p.slice(p.lastIndexOf('/') + 1), node });
  });
}

/** Go back one content version (as a new version). */
export async function revert(c: Ctx, path: string): Promise<Stat> {
  const p = abs(c, path);
  const entries = await history(c, p);
  const versions = entries.filter((e): e is Version => !('removed' in e) && e.type === 'file');
  const current = versions[0];
  if (!current) throw vfsError('ENOENT', p, 'no file versions to go back to');
  const earlier = versions.find((v) => v.version < current.version && v.hash !== current.hash);
  if (!earlier) throw vfsError('EINVAL', p, `version ${current.version} is the first; there is nothing to revert to`);
  return checkout(c, p, earlier.version);
}

function autoName(prefix: string, nowMs: number): string {
  return `${prefix}-${new Date(nowMs).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
}

export interface SaveSnapshotOptions {
  auto?: boolean;
  /** Save the agent memory with it (docs/memory.md, "Snapshots"). */
  withMemory?: boolean;
}

export async function saveSnapshot(c: Ctx, name?: string, opts: SaveSnapshotOptions = {}): Promise<Snapshot> {
  if (name !== undefined) checkSnapshotName(name);
  return logged(c, { op: 'snapshot.save', paths: ['/'] }, async (s) => {
    const now = Date.now();
    let n = name ?? autoName(opts.auto ? 'auto' : 'snap', now);
    if (name !== undefined && (await getSnapshot(s.tx, name))) throw vfsError('EEXIST', undefined, `a snapshot named "${name}" already exists`);
    for (let k = 2; name === undefined && (await getSnapshot(s.tx, n)); k++) n = `${autoName(opts.auto ? 'auto' : 'snap', now)}-${k}`;
    // The snapshot names the tree after its own (tree-neutral) operation: O(1) in time and space.
    const seq = await s.begin('snapshot.save', ['/'], { name: n, ...(opts.withMemory ? { memory: true } : {}) });
    const snap: Snapshot = { name: n, seq, timeMs: now, actor: s.settings.actor, auto: !!opts.auto };
    // Memory has no history rows: it is copied (as content, deduplicated) into the snapshot.
    if (opts.withMemory) snap.memory = await saveMemory(s.tx, s.settings.chunkSize);
    await putSnapshot(s.tx, snap);
    return snap;
  });
}

export async function snapshots(c: Ctx): Promise<Snapshot[]> {
  return withRead(c.engine, c.settings, (s) => listSnapshots(s.tx));
}

export async function deleteSnapshot(c: Ctx, name: string): Promise<void> {
  await logged(c, { op: 'snapshot.delete', paths: ['/'] }, async (s) => {
    if (!(await getSnapshot(s.tx, name))) throw vfsError('ENOENT', undefined, `no snapshot named "${name}" (see avfs snapshot list)`);
    await s.begin('snapshot.delete', ['/'], { name });
    await deleteSnapshotRow(s.tx, name);
  });
}

export interface RestoreOptions {
  /** Leave agent memory as it is even when the snapshot holds memory. */
  keepMemory?: boolean;
}

/**
 * Make the tree equal to a snapshot's (or any point's), after saving the current state as an
 * automatic snapshot; the change is one transaction and one operation. A snapshot saved with
 * memory brings the agent memory back too (unless keepMemory), and then the automatic snapshot
 * holds the memory as it was, so the restore can be undone whole.
 */
export async function restoreSnapshot(c: Ctx, spec: string, opts: RestoreOptions = {}): Promise<{ saved: Snapshot; to: Point; memory: boolean } & RestoreCounts> {
  const target = await point(c, spec).catch(async (e) => {
    if (isVfsError(e)) await withWrite(c.engine, c.settings, (s) => s.refused('snapshot.restore', ['/'], e.code)).catch(() => {});
    throw e;
  });
  return logged(c, { op: 'snapshot.restore', paths: ['/'] }, async (s) => {
    const now = Date.now();
    let name = autoName('auto', now);
    for (let k = 2; await getSnapshot(s.tx, name); k++) name = `${autoName('auto', now)}-${k}`;
    const from = target.snapshot === undefined ? undefined : await getSnapshot(s.tx, target.snapshot);
    const memory = !opts.keepMemory && from?.memory !== undefined;
    const savedSeq = await s.begin('snapshot.save', ['/'], { name, auto: true, ...(memory ? { memory: true } : {}) });
    const saved: Snapshot = { name, seq: savedSeq, timeMs: now, actor: s.settings.actor, auto: true };
    if (memory) saved.memory = await saveMemory(s.tx, s.settings.chunkSize);
    await putSnapshot(s.tx, saved);
    const seq = await s.begin('snapshot.restore', ['/'], { to: target.label, seq: target.seq, ...(memory ? { memory: true } : {}) });
    const counts = await restoreTree(s, target.seq);
    if (memory) await restoreMemory(s, await readMemory(s.tx, from!.memory!, s.settings.chunkSize), seq);
    s.note({ ...counts });
    return { saved, to: target, memory, ...counts };
  });
}

/** Paths added, removed and changed between two points (`to` defaults to now). */
export async function diffPoints(c: Ctx, fromSpec: string, toSpec?: string): Promise<PointDiff> {
  return withRead(c.engine, c.settings, async (s) => {
    const from = await resolvePoint(s.tx, fromSpec);
    const to = toSpec === undefined ? { seq: await currentSeq(s.tx), label: 'now' } : await resolvePoint(s.tx, toSpec);
    const a = await flatten(new HistoricalScope(s.tx, s.settings, from.seq));
    const b = await flatten(new HistoricalScope(s.tx, s.settings, to.seq));
    const out: PointDiff = { from, to, added: [], removed: [], changed: [] };
    for (const [p, sig] of b) {
      const old = a.get(p);
      if (old === undefined) out.added.push(p);
      else if (old !== sig) out.changed.push(p);
    }
    for (const p of a.keys()) if (!b.has(p)) out.removed.push(p);
    return out;
  });
}

/** Every path below the root with a signature of what it holds. */
async function flatten(s: HistoricalScope): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (ino: number, path: string): Promise<void> => {
    for (const c of await s.children(ino)) {
      const p = path === '/' ? `/${c.name}` : `${path}/${c.name}`;
      const node = await s.inode(c.ino);
      if (!node) continue;
      out.set(p, `${node.type}:${node.mode}:${node.hash ?? ''}:${node.size}:${node.target ?? ''}`);
      if (node.type === 'directory') await walk(c.ino, p);
    }
  };
  await walk(1, '/');
  return out;
}

export async function audit(c: Ctx, f: AuditFilter = {}): Promise<OpRecord[]> {
  const limit = f.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1) throw vfsError('EINVAL', undefined, 'limit must be a whole number >= 1');
  const prefix = f.path === undefined ? undefined : abs(c, f.path);
  return withRead(c.engine, c.settings, async (s) => {
    const out: OpRecord[] = [];
    for await (const e of scan(s.tx, 'oplog', { reverse: true }, 500)) {
      const rec = decodeJson<OpRecord>(e.value);
      if (f.sinceMs !== undefined && rec.timeMs < f.sinceMs) break;
      if (f.ops && f.ops.length > 0 && !f.ops.includes(rec.op)) continue;
      if (f.actor !== undefined && rec.actor !== f.actor) continue;
      if (prefix !== undefined && !rec.paths.some((p) => isWithin(p, prefix))) continue;
      out.push(rec);
      if (out.length >= limit) break;
    }
    return out;
  });
}
