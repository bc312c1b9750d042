// `prune`: remove old content versions from the whole vault's history by one policy, in one
// write transaction recorded as one operation (or, with dryRun, in a read transaction that
// only reports). The per-inode rules are in src/core/retention.ts; content no longer
// referenced stays until `gc`.
import { vfsError } from '../errors.js';
import type { Engine, ReadTx } from '../storage/contract.js';
import { scan } from '../storage/contract.js';
import { decodeJson, readU64, type Inode } from '../core/records.js';
import { withWrite, type VaultSettings } from '../core/scope.js';
import { dropRows, planRows, snapshotSeqs, type InodePrunePlan, type LogRow, type RetentionPolicy, type TimeCache } from '../core/retention.js';
import { pathsOf } from './paths-of.js';

export interface PruneOptions {
  /** Keep the newest N content versions of each file (the current one counts). */
  keep?: number;
  /** Remove versions replaced more than this many days ago. */
  olderThanDays?: number;
  /** Only report what would be removed. */
  dryRun?: boolean;
  /** "Now" for olderThanDays, in ms since the epoch (default: the clock). */
  nowMs?: number;
}

export interface PrunedFile {
  /** Where the file is now, or where it last was (`current: false`). */
  path: string;
  current: boolean;
  ino: number;
  /** History rows removed. */
  rows: number;
  /** Content versions removed (version numbers, ascending). */
  versions: number[];
}

export interface PruneResult {
  dryRun: boolean;
  policy: RetentionPolicy;
  /** History rows removed (or that would be). */
  rows: number;
  /** Content versions removed. */
  versions: number;
  /** Rows the policy would remove but that stay because a snapshot shows them. */
  pinned: number;
  files: PrunedFile[];
}

/** Exactly one of keep / olderThanDays, each a sensible number; else EINVAL. */
export function checkPolicy(opts: PruneOptions): RetentionPolicy {
  const { keep, olderThanDays } = opts ?? {};
  if (keep !== undefined && olderThanDays !== undefined) {
    throw vfsError('EINVAL', undefined, 'prune: give keep or olderThanDays, not both');
  }
  if (keep !== undefined) {
    if (typeof keep !== 'number' || !Number.isSafeInteger(keep) || keep < 0) {
      throw vfsError('EINVAL', undefined, `prune: keep must be a whole number >= 0, got ${String(keep)}`);
    }
    return { keep };
  }
  if (olderThanDays !== undefined) {
    if (typeof olderThanDays !== 'number' || !Number.isFinite(olderThanDays) || olderThanDays < 0) {
      throw vfsError('EINVAL', undefined, `prune: olderThanDays must be a number of days >= 0, got ${String(olderThanDays)}`);
    }
    return { olderThanDays };
  }
  throw vfsError('EINVAL', undefined, 'prune: say what to remove: keep (versions per file) or olderThanDays');
}

/** Plans for every inode that loses rows, walking inode_log once (its keys group by inode). */
async function planVault(tx: ReadTx, policy: RetentionPolicy, nowMs: number): Promise<InodePrunePlan[]> {
  const snaps = await snapshotSeqs(tx);
  const times: TimeCache = new Map();
  const plans: InodePrunePlan[] = [];
  let ino = -1;
  let rows: LogRow[] = [];
  const done = async (): Promise<void> => {
    if (rows.length < 2) return;
    const plan = await planRows(tx, ino, rows, policy, snaps, nowMs, times);
    if (plan.drop.length > 0 || plan.pinned > 0) plans.push(plan);
  };
  for await (const e of scan(tx, 'inode_log')) {
    const i = readU64(e.key);
    if (i !== ino) {
      await done();
      ino = i;
      rows = [];
    }
    rows.push({ seq: readU64(e.key, 8), node: decodeJson<Inode>(e.value) });
  }
  await done();
  return plans;
}

async function report(tx: ReadTx, plans: InodePrunePlan[], policy: RetentionPolicy, dryRun: boolean): Promise<PruneResult> {
  const losing = plans.filter((p) => p.drop.length > 0);
  const names = await pathsOf(tx, losing.map((p) => p.ino));
  const files: PrunedFile[] = losing.map((p) => {
    const n = names.get(p.ino)!;
    return { path: n.path, current: n.current, ino: p.ino, rows: p.drop.length, versions: [...p.versions].sort((a, b) => a - b) };
  });
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.ino - b.ino));
  return {
    dryRun,
    policy,
    rows: files.reduce((n, f) => n + f.rows, 0),
    versions: files.reduce((n, f) => n + f.versions.length, 0),
    pinned: plans.reduce((n, p) => n + p.pinned, 0),
    files,
  };
}

export async function pruneVault(engine: Engine, settings: VaultSettings, opts: PruneOptions): Promise<PruneResult> {
  const policy = checkPolicy(opts);
  const nowMs = opts.nowMs ?? Date.now();
  if (opts.dryRun) {
    return engine.read(async (tx) => report(tx, await planVault(tx, policy, nowMs), policy, true));
  }
  return withWrite(engine, settings, async (s) => {
    const plans = await planVault(s.tx, policy, nowMs);
    const result = await report(s.tx, plans, policy, false);
    for (const p of plans) await dropRows(s.tx, p);
    if (result.rows > 0) await s.begin('prune', ['/'], { ...policy, rows: result.rows, versions: result.versions });
    return result;
  });
}
