// Retention: which history rows of a file may be removed (docs/history.md, "Retention").
//
// A file's inode_log rows, in seq order, fall into content versions: runs of rows with the same
// `version` (a chmod or a rename adds a row without a new version). A policy decides which
// versions go; of their rows, two kinds always stay:
//   - the inode's newest row (its current state, or its last state before it was deleted);
//   - every row that is the inode's state at a snapshot's seq S (row seq <= S < next row's seq),
//     so a snapshot can always be listed, read and restored.
// Only file rows are ever removed: folder and symlink rows are small and carry no content.
//
// This runs in two places: `prune` over the whole vault (src/history/prune.ts), and on every
// write to the files written when the vault sets prune_strategy (WriteScope.flush).
import type { ReadTx, WriteTx } from '../storage/contract.js';
import { listSnapshots } from '../history/snapshots.js';
import { decodeJson, inodeLogKey, u64, type Inode, type OpRecord } from './records.js';
import type { VaultConfig } from './vault-config.js';

export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * `keep`: keep the newest N content versions (the current one counts, and always stays, so 0
 * acts as 1). `olderThanDays`: remove versions that stopped being current more than D days ago, so
 * every point in time within the last D days can still be rebuilt.
 */
export type RetentionPolicy = { keep: number } | { olderThanDays: number };

export interface LogRow {
  seq: number;
  node: Inode;
}

export interface InodePrunePlan {
  ino: number;
  /** Seqs of the rows that go. */
  drop: number[];
  /** Content versions all of whose rows go. */
  versions: number[];
  /** Rows the policy would drop but that stay because a snapshot shows them. */
  pinned: number;
}

/** Operation times by seq, shared across calls (the oplog is read once per seq). */
export type TimeCache = Map<number, number>;

/** The policy the vault's config asks for on every write, if any. */
export function policyFromConfig(cfg: VaultConfig): RetentionPolicy | undefined {
  if (cfg.prune_strategy === 'keep_count' && cfg.prune_keep_count !== undefined) return { keep: cfg.prune_keep_count };
  if (cfg.prune_strategy === 'older_than' && cfg.prune_older_than_days !== undefined) return { olderThanDays: cfg.prune_older_than_days };
  return undefined;
}

/** The seqs snapshots name, ascending, without repeats. */
export async function snapshotSeqs(tx: ReadTx): Promise<number[]> {
  return [...new Set((await listSnapshots(tx)).map((s) => s.seq))].sort((a, b) => a - b);
}

async function opTime(tx: ReadTx, row: LogRow, times: TimeCache): Promise<number> {
  let t = times.get(row.seq);
  if (t === undefined) {
    const raw = await tx.get('oplog', u64(row.seq));
    // A row always has its operation; should the record be missing, the inode's change time is next best.
    t = raw === undefined ? row.node.ctimeMs : decodeJson<OpRecord>(raw).timeMs;
    times.set(row.seq, t);
  }
  return t;
}

/**
 * Decide which of one inode's rows go. `rows` are all its inode_log rows in seq order;
 * `snaps` the snapshot seqs in ascending order. Reads only operation times (older-than).
 */
export async function planRows(
  tx: ReadTx,
  ino: number,
  rows: LogRow[],
  policy: RetentionPolicy,
  snaps: readonly number[],
  nowMs: number,
  times: TimeCache = new Map(),
): Promise<InodePrunePlan> {
  const plan: InodePrunePlan = { ino, drop: [], versions: [], pinned: 0 };
  if (rows.length < 2 || rows[rows.length - 1].node.type !== 'file') return plan;
  // Runs of rows holding one content version.
  const runs: { version: number; from: number; to: number }[] = [];
  rows.forEach((r, i) => {
    const last = runs[runs.length - 1];
    if (last && last.version === r.node.version) last.to = i;
    else runs.push({ version: r.node.version, from: i, to: i });
  });
  const dropRun = runs.map(() => false);
  if ('keep' in policy) {
    for (let i = 0; i < runs.length - Math.max(1, policy.keep); i++) dropRun[i] = true;
  } else {
    const cutoff = nowMs - policy.olderThanDays * DAY_MS;
    // A version's age is counted from when the next one replaced it.
    for (let i = 0; i < runs.length - 1; i++) dropRun[i] = (await opTime(tx, rows[runs[i + 1].from], times)) <= cutoff;
  }
  if (!dropRun.includes(true)) return plan;
  // Rows that are the inode's state at a snapshot: the last row at or before each snapshot seq.
  const pinned = new Set<number>();
  let j = 0;
  for (const s of snaps) {
    while (j < rows.length && rows[j].seq <= s) j++;
    if (j > 0) pinned.add(j - 1);
  }
  runs.forEach((run, k) => {
    if (!dropRun[k]) return;
    let all = true;
    for (let i = run.from; i <= run.to; i++) {
      if (i === rows.length - 1) all = false;
      else if (pinned.has(i)) {
        all = false;
        plan.pinned++;
      } else plan.drop.push(rows[i].seq);
    }
    if (all) plan.versions.push(run.version);
  });
  return plan;
}

/** All inode_log rows of one inode, in seq order. */
export async function inodeRows(tx: ReadTx, ino: number): Promise<LogRow[]> {
  const entries = await tx.range('inode_log', { prefix: u64(ino) });
  return entries.map((e) => ({ seq: e.key.readUInt32BE(8) * 0x100000000 + e.key.readUInt32BE(12), node: decodeJson<Inode>(e.value) }));
}

export async function dropRows(tx: WriteTx, plan: InodePrunePlan): Promise<void> {
  for (const seq of plan.drop) await tx.del('inode_log', inodeLogKey(plan.ino, seq));
}

/** Prune one inode's history by `policy`, inside the caller's write transaction. */
export async function pruneInode(
  tx: WriteTx,
  ino: number,
  policy: RetentionPolicy,
  snaps: readonly number[],
  nowMs: number,
  times?: TimeCache,
): Promise<InodePrunePlan> {
  const plan = await planRows(tx, ino, await inodeRows(tx, ino), policy, snaps, nowMs, times);
  await dropRows(tx, plan);
  return plan;
}

/**
 * Automatic pruning at the end of a write scope: the files whose content changed, by the
 * vault's prune_strategy. `times` holds the scope's own operations (not in the oplog yet).
 * Returns the number of rows removed.
 */
export async function autoPrune(tx: WriteTx, cfg: VaultConfig, inos: readonly number[], times: TimeCache): Promise<number> {
  const policy = policyFromConfig(cfg);
  if (!policy || inos.length === 0) return 0;
  const snaps = await snapshotSeqs(tx);
  const now = Date.now();
  let removed = 0;
  for (const ino of inos) removed += (await pruneInode(tx, ino, policy, snaps, now, times)).drop.length;
  return removed;
}
