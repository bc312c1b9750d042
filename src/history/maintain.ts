// `compact` and `maintain`: give the space that prune and gc freed back to the file system,
// and the three steps in their only sensible order (prune makes content unreferenced, gc
// deletes it, compact shrinks the store).
import type { Engine } from '../storage/contract.js';
import type { VaultSettings } from '../core/scope.js';
import { readVaultConfig } from '../core/vault-config.js';
import { policyFromConfig } from '../core/retention.js';
import { pruneVault, type PruneResult } from './prune.js';
import { gcVault, type GcResult } from './gc.js';

export interface CompactResult {
  backend: string;
  bytesBefore: number;
  bytesAfter: number;
  /** bytesBefore - bytesAfter (0 or more). */
  bytesFreed: number;
  /** Set when the engine does not shrink its store, saying why. */
  note?: string;
}

export interface MaintainOptions {
  /** Report what prune and gc would remove; compact is not run. */
  dryRun?: boolean;
}

export interface MaintainResult {
  dryRun: boolean;
  /** The vault's prune_strategy applied to every file, or null when it sets none (reason in pruneSkipped). */
  prune: PruneResult | null;
  pruneSkipped?: string;
  gc: GcResult;
  /** Null with dryRun. */
  compact: CompactResult | null;
}

const NO_SHRINK: Record<string, string> = {
  lmdb: 'lmdb reuses freed pages but never shrinks its file while it may be open elsewhere; copy the vault with every process closed to shrink it',
  memory: 'a memory vault has no file to shrink',
  rocksdb: 'rocksdb has no compaction call in its binding: compact rewrites the live entries into a fresh database folder and removes the old one',
  postgres: "postgres: VACUUM (FULL) rewrote the vault's tables on the server; sizes are pg_total_relation_size",
};

export async function compactVault(engine: Engine): Promise<CompactResult> {
  const r = await engine.compact();
  const out: CompactResult = { backend: engine.kind, bytesBefore: r.bytesBefore, bytesAfter: r.bytesAfter, bytesFreed: Math.max(0, r.bytesBefore - r.bytesAfter) };
  const note = r.note ?? NO_SHRINK[engine.kind];
  if (note) out.note = note;
  return out;
}

export async function maintainVault(engine: Engine, settings: VaultSettings, opts: MaintainOptions = {}): Promise<MaintainResult> {
  const dryRun = !!opts.dryRun;
  const cfg = await engine.read((tx) => readVaultConfig(tx));
  const policy = policyFromConfig(cfg);
  let prune: PruneResult | null = null;
  let pruneSkipped: string | undefined;
  if (policy) prune = await pruneVault(engine, settings, { ...policy, dryRun });
  else if (cfg.prune_strategy === undefined || cfg.prune_strategy === 'none') pruneSkipped = 'the vault sets no prune_strategy';
  else pruneSkipped = `prune_strategy=${cfg.prune_strategy} needs ${cfg.prune_strategy === 'keep_count' ? 'prune_keep_count' : 'prune_older_than_days'}`;
  const gc = await gcVault(engine, settings, { dryRun });
  const compact = dryRun ? null : await compactVault(engine);
  return { dryRun, prune, ...(pruneSkipped !== undefined ? { pruneSkipped } : {}), gc, compact };
}
