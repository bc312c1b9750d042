// prune, gc, compact, maintain, and the `vault stats` / `vault config` subcommands: retention
// and space. Every rule lives in the library (src/core/retention.ts, src/history/); this module
// turns flags into options and results into lines.
import type { Vault } from '../../api/vault.js';
import type { CompactResult, GcResult, MaintainResult, PruneResult, UsageStats, VaultConfig } from '../../api/retention.js';
import type { Command, CommandModule, Context } from '../context.js';
import { usageError } from '../args.js';
import { humanBytes, oneLine, plural } from '../output.js';

function bytes(n: number): string {
  return n < 1024 ? `${n} B` : `${humanBytes(n)} (${n} bytes)`;
}

function showPath(ctx: Context, p: string): string {
  return ctx.out.isTTY ? oneLine(p) : p;
}

/** `1-3, 5` for [1,2,3,5]. */
function ranges(ns: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ns.length; ) {
    let j = i;
    while (j + 1 < ns.length && ns[j + 1] === ns[j] + 1) j++;
    out.push(j > i ? `${ns[i]}-${ns[j]}` : String(ns[i]));
    i = j + 1;
  }
  return out.join(', ');
}

// ---- prune ---------------------------------------------------------------------------------

function pruneSummary(r: PruneResult): string {
  const verb = r.dryRun ? 'would remove' : 'removed';
  let s = `${verb} ${plural(r.versions, 'version', 'versions')} (${plural(r.rows, 'history row', 'history rows')}) of ${plural(r.files.length, 'file', 'files')}`;
  if (r.pinned > 0) s += `; ${plural(r.pinned, 'row', 'rows')} kept because a snapshot shows ${r.pinned === 1 ? 'it' : 'them'}`;
  return s;
}

function pruneLines(ctx: Context, r: PruneResult): string {
  return r.files
    .map((f) => {
      const what = f.versions.length > 0 ? `${f.versions.length === 1 ? 'version' : 'versions'} ${ranges(f.versions)}` : plural(f.rows, 'metadata row', 'metadata rows');
      return `${showPath(ctx, f.path)}${f.current ? '' : ' (deleted)'}: ${what}\n`;
    })
    .join('');
}

/** `--older-than DAYS`: a number of days >= 0 (fractions allowed: 0.5 is twelve hours). */
function parseDays(raw: string): number {
  if (!/^\d+(\.\d+)?$/.test(raw)) throw usageError(`prune: --older-than: expected a number of days >= 0, got "${raw}"`);
  return Number(raw);
}

const prune: Command = {
  usage: 'prune (--keep N | --older-than DAYS) [--dry-run] [-v]',
  notes: [
    'Removes old content versions from history. Exactly one rule:',
    '  --keep N          keep the newest N versions of each file (the current one counts)',
    '  --older-than D    remove versions replaced more than D days ago (every point in time',
    '                    within the last D days can still be rebuilt)',
    'Never removed: a file\'s current state, and any version a snapshot shows.',
    'The content stays stored until `avfs gc`; `avfs maintain` runs prune, gc and compact.',
  ],
  flags: [
    { key: 'keep', long: 'keep', value: 'N', int: true, help: 'keep the newest N versions of each file' },
    { key: 'olderThan', long: 'older-than', value: 'DAYS', help: 'remove versions replaced more than DAYS days ago' },
    { key: 'dryRun', long: 'dry-run', short: 'n', help: 'only show what would be removed' },
    { key: 'verbose', long: 'verbose', short: 'v', help: 'list each file (always with --dry-run)' },
  ],
  min: 0,
  max: 0,
  async run(ctx) {
    const keep = ctx.flags.int('keep');
    const older = ctx.flags.str('olderThan');
    if (keep !== undefined && older !== undefined) throw usageError('prune: give either --keep N or --older-than DAYS, not both (see avfs prune --help)');
    if (keep === undefined && older === undefined) throw usageError('prune: say what to remove: --keep N or --older-than DAYS (see avfs prune --help)');
    const dryRun = ctx.flags.bool('dryRun');
    const opts = keep !== undefined ? { keep, dryRun } : { olderThanDays: parseDays(older!), dryRun };
    const r = await (await ctx.vault()).prune(opts);
    if (ctx.json) return ctx.printJson(r);
    if (dryRun || ctx.flags.bool('verbose')) await ctx.print(pruneLines(ctx, r));
    await ctx.note(pruneSummary(r) + (r.rows > 0 && !dryRun ? ' (run avfs gc to free the content)' : ''));
  },
};

// ---- gc ------------------------------------------------------------------------------------

function gcSummary(r: GcResult): string {
  const verb = r.dryRun ? 'would free' : 'freed';
  const parts = [`${plural(r.chunks.removed, 'chunk', 'chunks')}`, `${plural(r.manifests.removed, 'manifest', 'manifests')}`];
  return `${verb} ${bytes(r.bytesFreed)}: ${parts.join(', ')}`;
}

function gcStats(r: GcResult): string {
  const row = (name: string, c: GcResult['chunks'], skipped = false): string =>
    `${name.padEnd(11)}${String(c.total).padStart(8)} stored ${String(c.removed).padStart(8)} ${r.dryRun ? 'to remove' : 'removed'}  ${skipped ? '(not swept)' : humanBytes(c.bytes)}\n`;
  return row('chunks:', r.chunks, r.chunksSkipped) + row('manifests:', r.manifests) + (r.staleMarkers > 0 ? `stale markers: ${r.staleMarkers}\n` : '');
}

const gc: Command = {
  usage: 'gc [--dry-run] [--stats]',
  notes: [
    'Deletes stored content (chunks, manifests) that no file and no kept version refers to,',
    'in one transaction. While a streamed write is in progress (less than an hour old), chunks',
    'are left alone and gc says so. `avfs compact` then gives the space back to the disk.',
  ],
  flags: [
    { key: 'dryRun', long: 'dry-run', short: 'n', help: 'only count what would be removed' },
    { key: 'stats', long: 'stats', help: 'show counts of stored and removed chunks and manifests' },
  ],
  min: 0,
  max: 0,
  async run(ctx) {
    const r = await (await ctx.vault()).gc({ dryRun: ctx.flags.bool('dryRun') });
    if (ctx.json) return ctx.printJson(r);
    for (const n of r.notes) await ctx.warn(n);
    if (ctx.flags.bool('stats')) await ctx.print(gcStats(r));
    await ctx.note(gcSummary(r));
  },
};

// ---- compact -------------------------------------------------------------------------------

function compactSummary(r: CompactResult): string {
  return `${r.backend}: ${humanBytes(r.bytesBefore)} -> ${humanBytes(r.bytesAfter)} on disk (freed ${bytes(r.bytesFreed)})`;
}

const compact: Command = {
  usage: 'compact',
  notes: [
    'sqlite: rewrites the file without its free pages (VACUUM). lmdb reuses free pages in place and',
    'does not shrink; memory has no file; postgres runs VACUUM (FULL) on the vault\'s tables; rocksdb',
    'rewrites the live entries into a fresh database; log copies the live values into a fresh chunk',
    'file and removes the old ones, unless another process has the vault open (then it says so).',
  ],
  flags: [],
  min: 0,
  max: 0,
  async run(ctx) {
    const r = await (await ctx.vault()).compact();
    if (ctx.json) return ctx.printJson(r);
    await ctx.note(compactSummary(r));
    if (r.note) await ctx.note(`(${r.note})`);
  },
};

// ---- maintain ------------------------------------------------------------------------------

const maintain: Command = {
  usage: 'maintain [--dry-run]',
  notes: [
    'prune by the vault\'s own prune_strategy (see avfs vault config), then gc, then compact;',
    'one line per step. With --dry-run: what prune and gc would remove; compact is not run.',
  ],
  flags: [{ key: 'dryRun', long: 'dry-run', short: 'n', help: 'only show what would be removed' }],
  min: 0,
  max: 0,
  async run(ctx) {
    const r: MaintainResult = await (await ctx.vault()).maintain({ dryRun: ctx.flags.bool('dryRun') });
    if (ctx.json) return ctx.printJson(r);
    for (const n of r.gc.notes) await ctx.warn(n);
    await ctx.note(`prune:   ${r.prune ? pruneSummary(r.prune) : `skipped (${r.pruneSkipped})`}`);
    await ctx.note(`gc:      ${gcSummary(r.gc)}`);
    await ctx.note(`compact: ${r.compact ? compactSummary(r.compact) : 'skipped (dry run)'}`);
  },
};

// ---- vault stats -----------------------------------------------------------------------------

async function withNamedVault<T>(ctx: Context, name: string | undefined, fn: (v: Vault) => Promise<T>): Promise<T> {
  if (name === undefined) return fn(await ctx.vault());
  const { openVault } = await import('../../api/open.js');
  const v = await openVault(name, { home: ctx.home, ...(ctx.actor !== undefined ? { actor: ctx.actor } : {}) });
  try {
    return await fn(v);
  } finally {
    await v.close();
  }
}

function renderStats(ctx: Context, s: UsageStats): string {
  const rows: [string, string][] = [
    ['backend', s.backend],
    ['files', String(s.files)],
    ['folders', String(s.directories)],
    ['symlinks', String(s.symlinks)],
    ['versions', `${s.versions} (${plural(s.historyRows, 'history row', 'history rows')})`],
    ['snapshots', String(s.snapshots)],
    ['content', `${bytes(s.logicalBytes)} in current files`],
    ['all versions', `${bytes(s.versionBytes)} if each version were stored whole`],
    ['stored', `${bytes(s.storedBytes)} in ${plural(s.chunks.count, 'chunk', 'chunks')} and ${plural(s.manifests.count, 'manifest', 'manifests')}`],
    ['on disk', bytes(s.bytesOnDisk)],
    ['dedup ratio', s.dedupRatio === null ? '-' : `${s.dedupRatio.toFixed(2)}x`],
  ];
  let out = rows.map(([k, v]) => `${(k + ':').padEnd(14)}${v}\n`).join('');
  if (s.topVersions) {
    out += `\nversions per file (top ${s.topVersions.length}):\n`;
    const w = Math.max(1, ...s.topVersions.map((f) => String(f.versions).length));
    out += s.topVersions.map((f) => `  ${String(f.versions).padStart(w)}  ${showPath(ctx, f.path)}${f.current ? '' : ' (deleted)'}\n`).join('');
  }
  if (s.engine) {
    out += `\nbackend info (${s.engine.engine}):\n`;
    out += `  entries: ${Object.entries(s.engine.entries).map(([k, v]) => `${k}=${v}`).join(' ')}\n`;
    out += Object.entries(s.engine.details).map(([k, v]) => `  ${k}: ${String(v)}\n`).join('');
  }
  return out;
}

export const vaultStats: Command = {
  usage: 'vault stats [NAME] [--versions [--top N]] [--backend-info]',
  summary: 'show files, versions, snapshots, logical and stored bytes, dedup ratio',
  notes: [
    'dedup ratio: the size of every kept version, whole, divided by the content actually stored',
    '(identical content and unchanged chunks are stored once). Reads all history: slow on big vaults.',
  ],
  flags: [
    { key: 'versions', long: 'versions', help: 'list the files with the most versions' },
    { key: 'top', long: 'top', value: 'N', int: true, help: 'how many files --versions lists (default 10)' },
    { key: 'backendInfo', long: 'backend-info', help: 'add the storage engine\'s own statistics' },
  ],
  min: 0,
  max: 1,
  async run(ctx) {
    const top = ctx.flags.int('top');
    if (top !== undefined && top < 1) throw usageError('vault stats: --top: expected a number >= 1');
    const opts = { versions: ctx.flags.bool('versions') || top !== undefined, backendInfo: ctx.flags.bool('backendInfo'), ...(top !== undefined ? { top } : {}) };
    const s = await withNamedVault(ctx, ctx.args[0], (v) => v.usageStats(opts));
    if (ctx.json) await ctx.printJson(s);
    else await ctx.print(renderStats(ctx, s));
  },
};

// ---- vault config ----------------------------------------------------------------------------

function effectWarning(cfg: VaultConfig): string | undefined {
  if (cfg.prune_strategy === 'keep_count' && cfg.prune_keep_count === undefined) return 'prune_strategy=keep_count does nothing until prune_keep_count is set';
  if (cfg.prune_strategy === 'older_than' && cfg.prune_older_than_days === undefined) return 'prune_strategy=older_than does nothing until prune_older_than_days is set';
  return undefined;
}

export const vaultConfig: Command = {
  usage: 'vault config [KEY [VALUE]] [--unset KEY]',
  summary: 'show or change the vault\'s own settings (limits, automatic pruning)',
  notes: [
    'No KEY: every setting. KEY: its value. KEY VALUE: set it. --unset KEY: remove it.',
    'Keys: max_file_size_mb, max_files, max_size_mb (limits: writes beyond them fail with',
    'EFBIG/EDQUOT; removing files always works), prune_strategy none|keep_count|older_than,',
    'prune_keep_count, prune_older_than_days (applied to each file on every write to it),',
    'memory_max_value_kb (largest memory, kv value, stream append, session payload or agent',
    'state; default 1024).',
    'The settings live in the vault, so every process and interface obeys them; each change',
    'is recorded in the operation log.',
  ],
  flags: [{ key: 'unset', long: 'unset', value: 'KEY', help: 'remove a setting' }],
  min: 0,
  max: 2,
  async run(ctx) {
    const unset = ctx.flags.str('unset');
    const [key, value] = ctx.args;
    if (unset !== undefined && key !== undefined) throw usageError('vault config: --unset KEY takes no other arguments');
    const vault = await ctx.vault();
    if (unset !== undefined) {
      const cfg = await vault.unsetConfig(unset);
      if (ctx.json) await ctx.printJson({ key: unset, value: null, config: cfg });
      else await ctx.note(`unset ${unset}`);
      return;
    }
    if (value !== undefined) {
      const cfg = await vault.setConfig(key, value);
      const v = cfg[key as keyof VaultConfig];
      if (ctx.json) await ctx.printJson({ key, value: v, config: cfg });
      else await ctx.note(`${key} = ${String(v)}`);
      const w = effectWarning(cfg);
      if (w && key.startsWith('prune_') && !ctx.json) await ctx.warn(w);
      return;
    }
    const lib: typeof import('../../api/retention.js') = await import('../../api/retention.js');
    const cfg = await vault.getConfig();
    if (key !== undefined) {
      lib.checkConfigKey(key);
      const v = cfg[key as keyof VaultConfig];
      if (ctx.json) await ctx.printJson({ key, value: v ?? null });
      else if (v !== undefined) await ctx.print(`${String(v)}\n`);
      else await ctx.note(`${key} is not set`);
      return;
    }
    if (ctx.json) {
      await ctx.printJson(cfg);
      return;
    }
    const keys = lib.configKeys();
    const w = Math.max(...Object.keys(keys).map((k) => k.length));
    await ctx.print(
      Object.entries(keys)
        .map(([k, d]) => {
          const v = cfg[k as keyof VaultConfig];
          return `${k.padEnd(w)}  ${(v === undefined ? '-' : String(v)).padEnd(10)}  ${d.help}\n`;
        })
        .join(''),
    );
  },
};

export const commands: CommandModule = { prune, gc, compact, maintain };
