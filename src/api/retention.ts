// Retention and space, as the Vault exposes them (prune, gc, compact, maintain, usage stats,
// per-vault config). Loaded on first use, like the history module: most commands never need it.
import { vfsError } from '../errors.js';
import type { Engine } from '../storage/contract.js';
import { withWrite, type VaultSettings } from '../core/scope.js';
import { CONFIG_KEYS, isConfigKey, parseConfigValue, readVaultConfig, writeVaultConfig, type VaultConfig } from '../core/vault-config.js';
import { pruneVault, type PruneOptions, type PruneResult } from '../history/prune.js';
import { gcVault, type GcOptions, type GcResult } from '../history/gc.js';
import { compactVault, maintainVault, type CompactResult, type MaintainOptions, type MaintainResult } from '../history/maintain.js';
import { usageStats as stats, type UsageStats, type UsageStatsOptions } from '../history/usage.js';

export type { PruneOptions, PruneResult, PrunedFile } from '../history/prune.js';
export type { GcOptions, GcResult, GcCounts } from '../history/gc.js';
export type { CompactResult, MaintainOptions, MaintainResult } from '../history/maintain.js';
export type { UsageStats, UsageStatsOptions, FileVersionCount } from '../history/usage.js';
export type { VaultConfig, PruneStrategy } from '../core/vault-config.js';
export type { RetentionPolicy } from '../core/retention.js';

export function prune(engine: Engine, settings: VaultSettings, opts: PruneOptions): Promise<PruneResult> {
  return pruneVault(engine, settings, opts);
}

export function gc(engine: Engine, settings: VaultSettings, opts: GcOptions = {}): Promise<GcResult> {
  return gcVault(engine, settings, opts);
}

export function compact(engine: Engine): Promise<CompactResult> {
  return compactVault(engine);
}

export function maintain(engine: Engine, settings: VaultSettings, opts: MaintainOptions = {}): Promise<MaintainResult> {
  return maintainVault(engine, settings, opts);
}

export function usageStats(engine: Engine, opts: UsageStatsOptions = {}): Promise<UsageStats> {
  if (opts.top !== undefined && (!Number.isSafeInteger(opts.top) || opts.top < 1)) {
    throw vfsError('EINVAL', undefined, `top must be a whole number >= 1, got ${String(opts.top)}`);
  }
  return stats(engine, opts);
}

export function getConfig(engine: Engine): Promise<VaultConfig> {
  return engine.read((tx) => readVaultConfig(tx));
}

/** The settings a vault knows, each with one line of help. */
export function configKeys(): Record<keyof VaultConfig, { help: string }> {
  return CONFIG_KEYS;
}

/** EINVAL naming the known keys, unless `key` is one. */
export function checkConfigKey(key: string): asserts key is keyof VaultConfig {
  if (typeof key !== 'string' || !isConfigKey(key)) {
    throw vfsError('EINVAL', undefined, `unknown vault setting "${String(key)}" (known: ${Object.keys(CONFIG_KEYS).join(', ')})`);
  }
}

/** Set one key (validated by parseConfigValue), recorded in the operation log as `config`. */
export async function setConfig(engine: Engine, settings: VaultSettings, key: string, value: unknown): Promise<VaultConfig> {
  checkConfigKey(key);
  const v = parseConfigValue(key, value);
  return withWrite(engine, settings, async (s) => {
    await s.begin('config', ['/'], { key, value: v });
    const cfg = await readVaultConfig(s.tx);
    const next = { ...cfg, [key]: v } as VaultConfig;
    await writeVaultConfig(s.tx, next);
    return next;
  });
}

/** Remove one key (no limit / no automatic pruning for it), recorded as `config`. */
export async function unsetConfig(engine: Engine, settings: VaultSettings, key: string): Promise<VaultConfig> {
  checkConfigKey(key);
  return withWrite(engine, settings, async (s) => {
    await s.begin('config', ['/'], { key, unset: true });
    const cfg = await readVaultConfig(s.tx);
    delete cfg[key];
    await writeVaultConfig(s.tx, cfg);
    return cfg;
  });
}
