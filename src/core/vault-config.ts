// Per-vault settings (`avfs vault config`), stored in the vault itself (meta `config`) so every
// process and interface enforces the same limits. Unset keys have no limit / no automatic prune.
import { vfsError } from '../errors.js';
import type { ReadTx, WriteTx } from '../storage/contract.js';
import { decodeJson, encodeJson } from './records.js';

export const META_CONFIG = Buffer.from('config');

export const PRUNE_STRATEGIES = ['none', 'keep_count', 'older_than'] as const;
export type PruneStrategy = (typeof PRUNE_STRATEGIES)[number];

export interface VaultConfig {
  /** A file larger than this many MiB is refused (EFBIG). */
  max_file_size_mb?: number;
  /** More files than this are refused (EDQUOT). */
  max_files?: number;
  /** Current content beyond this many MiB is refused (EDQUOT). */
  max_size_mb?: number;
  /** Applied on every write to the file written: keep_count keeps prune_keep_count versions,
   * older_than drops versions older than prune_older_than_days. */
  prune_strategy?: PruneStrategy;
  prune_keep_count?: number;
  prune_older_than_days?: number;
  /** Agent memory: the largest memory text, kv value, stream append, session payload or agent
   * state, in KiB (EFBIG beyond). Unset: 1024 (src/memory/common.ts). */
  memory_max_value_kb?: number;
}

type Kind = 'positive' | 'count' | 'strategy';
export const CONFIG_KEYS: Record<keyof VaultConfig, { kind: Kind; help: string }> = {
  max_file_size_mb: { kind: 'positive', help: 'largest file allowed, in MiB (EFBIG beyond)' },
  max_files: { kind: 'count', help: 'most files allowed (EDQUOT beyond)' },
  max_size_mb: { kind: 'positive', help: 'most current content allowed, in MiB (EDQUOT beyond)' },
  prune_strategy: { kind: 'strategy', help: `automatic pruning on each write: ${PRUNE_STRATEGIES.join(', ')}` },
  prune_keep_count: { kind: 'count', help: 'versions kept per file by prune_strategy=keep_count' },
  prune_older_than_days: { kind: 'positive', help: 'age in days beyond which prune_strategy=older_than drops versions' },
  memory_max_value_kb: { kind: 'positive', help: 'largest memory, kv value, stream append, session payload or state, in KiB (EFBIG beyond; default 1024)' },
};

export function isConfigKey(k: string): k is keyof VaultConfig {
  return Object.hasOwn(CONFIG_KEYS, k);
}

/** Parse a value given as text (CLI) or as a JSON value (library) for `key`. */
export function parseConfigValue(key: string, raw: unknown): VaultConfig[keyof VaultConfig] {
  if (!isConfigKey(key)) throw vfsError('EINVAL', undefined, `unknown vault setting "${key}" (known: ${Object.keys(CONFIG_KEYS).join(', ')})`);
  const { kind } = CONFIG_KEYS[key];
  if (kind === 'strategy') {
    if (typeof raw !== 'string' || !(PRUNE_STRATEGIES as readonly string[]).includes(raw)) {
      throw vfsError('EINVAL', undefined, `${key} must be one of ${PRUNE_STRATEGIES.join(', ')}`);
    }
    return raw as PruneStrategy;
  }
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : NaN;
  const ok = kind === 'count' ? Number.isSafeInteger(n) && n >= 0 : Number.isFinite(n) && n > 0;
  if (!ok) throw vfsError('EINVAL', undefined, `${key} must be ${kind === 'count' ? 'a whole number >= 0' : 'a number > 0'}, got "${String(raw)}"`);
  return n;
}

export async function readVaultConfig(tx: ReadTx): Promise<VaultConfig> {
  const raw = await tx.get('meta', META_CONFIG);
  return raw === undefined ? {} : decodeJson<VaultConfig>(raw);
}

export async function writeVaultConfig(tx: WriteTx, cfg: VaultConfig): Promise<void> {
  await tx.put('meta', META_CONFIG, encodeJson(cfg));
}
