// vault create | list | use | info | delete | import | check | fork | migrate: the registry and the store.
import type { Vault, VaultInfo } from '../../api/vault.js';
import type { Command, CommandGroup, CommandModule, Context } from '../context.js';
import { usageError } from '../args.js';
import { humanBytes, plural } from '../output.js';
import { ProgressBar } from '../progress.js';
import { checkVaultName } from '../../vault/registry.js';
import { vfsError } from '../../errors.js';
import { vaultConfig, vaultStats } from './retention.js';

async function api(): Promise<typeof import('../../api/open.js')> {
  return import('../../api/open.js');
}

/** The vault named by the argument, else --vault, else the current one; closed after `fn`. */
async function withVault<T>(ctx: Context, name: string | undefined, fn: (v: Vault) => Promise<T>): Promise<T> {
  if (name === undefined) return fn(await ctx.vault());
  const { openVault } = await api();
  const { withPassphrase } = await import('../passphrase.js');
  const v = await withPassphrase(ctx, (passphrase) => openVault(name, { home: ctx.home, passphrase, ...(ctx.actor !== undefined ? { actor: ctx.actor } : {}) }));
  try {
    return await fn(v);
  } finally {
    await v.close();
  }
}

const create: Command = {
  usage: 'vault create NAME [--backend sqlite|lmdb|log|rocksdb|postgres|memory] [--path P] [--url URL] [--encrypt]',
  summary: 'create a vault and register it under NAME',
  notes: [
    'The store goes to $AVFS_HOME/vaults/NAME.avfs (sqlite), NAME.lmdb/, NAME.log/ or NAME.rocksdb/ unless --path is given.',
    '--encrypt (log backend, chosen when --backend is not given): the passphrase comes from',
    'AVFS_PASSPHRASE, else it is asked for on the terminal; every later command needs it too.',
    '--backend postgres --url postgres://user@host/db (or ?host=/socket/dir): the vault lives in schema',
    'avfs_NAME on that server (?schema=S picks another). Passwords: PGPASSWORD or ~/.pgpass (a',
    'password in the URL is used once and not recorded).',
  ],
  flags: [
    { key: 'encrypt', long: 'encrypt', help: 'encrypt the store at rest (AES-256-GCM, key from a passphrase via scrypt; log backend)' },
    { key: 'backend', long: 'backend', value: 'KIND', help: 'storage backend: sqlite (default), lmdb, log, rocksdb, postgres (with --url) or memory' },
    { key: 'path', long: 'path', value: 'P', help: 'where to keep the store' },
    { key: 'url', long: 'url', value: 'URL', help: 'the PostgreSQL server of a postgres vault (postgres://user@host/db)' },
  ],
  min: 1,
  max: 1,
  async run(ctx) {
    // NAME is a name (the store's place is --path), so 'a/b' is refused rather than taken as a path.
    checkVaultName(ctx.args[0]);
    const { createVault } = await api();
    const backend = ctx.flags.str('backend');
    const path = ctx.flags.str('path');
    const url = ctx.flags.str('url');
    const encrypt = ctx.flags.bool('encrypt');
    if (backend === 'postgres' && url === undefined) throw usageError('vault create: --backend postgres needs --url postgres://user@host/db');
    if (url !== undefined && backend !== undefined && backend !== 'postgres') throw usageError(`vault create: --url is for --backend postgres (not ${backend})`);
    if (url !== undefined && path !== undefined) throw usageError('vault create: --url and --path exclude each other (a postgres vault lives on the server)');
    if (encrypt && backend !== undefined && backend !== 'log') {
      throw vfsError('EINVAL', undefined, `vault create: encryption is available on the log backend only (not ${backend}): use --backend log`);
    }
    let passphrase: string | undefined;
    if (encrypt) {
      const { passphraseFor } = await import('../passphrase.js');
      passphrase = await passphraseFor(ctx, 'passphrase for the new vault: ');
      if (ctx.env.AVFS_PASSPHRASE === undefined || ctx.env.AVFS_PASSPHRASE === '') {
        if ((await passphraseFor(ctx, 'again: ')) !== passphrase) throw vfsError('EPASSPHRASE', undefined, 'the two passphrases differ');
      }
    }
    const v = await createVault(ctx.args[0], {
      home: ctx.home,
      ...(encrypt ? { encrypt, passphrase } : {}),
      ...(backend !== undefined ? { backend } : {}),
      ...(path !== undefined ? { path } : {}),
      ...(url !== undefined ? { url } : {}),
      ...(ctx.actor !== undefined ? { actor: ctx.actor } : {}),
    });
    if (url !== undefined) {
      const { hasPassword } = await import('../../storage/postgres/url.js');
      if (hasPassword(url) && !ctx.json) await ctx.note('the password in --url was used but not recorded: later commands take it from PGPASSWORD or ~/.pgpass');
    }
    const made = { name: v.name ?? null, path: v.path, backend: v.backend };
    await v.close();
    if (ctx.json) await ctx.printJson(made);
    else await ctx.note(`created vault ${made.name ?? made.path} (${made.backend}) at ${made.path}`);
  },
};

const list: Command = {
  usage: 'vault list',
  summary: 'list the registered vaults (* marks the current one)',
  flags: [],
  min: 0,
  max: 0,
  async run(ctx) {
    const { listVaults } = await api();
    const all = listVaults({ home: ctx.home });
    if (ctx.json) {
      await ctx.printJson(all);
      return;
    }
    if (all.length === 0) {
      await ctx.note('no vaults yet (avfs vault create NAME makes one)');
      return;
    }
    const wn = Math.max(...all.map((v) => v.name.length));
    const wb = Math.max(...all.map((v) => v.backend.length));
    await ctx.print(
      all.map((v) => `${v.current ? '*' : ' '} ${v.name.padEnd(wn)}  ${v.backend.padEnd(wb)}  ${v.path}${v.exists ? '' : '  (missing)'}\n`).join(''),
    );
  },
};

const use: Command = {
  usage: 'vault use NAME',
  summary: 'make NAME the current vault',
  flags: [],
  min: 1,
  max: 1,
  async run(ctx) {
    checkVaultName(ctx.args[0]);
    const { useVault } = await api();
    useVault(ctx.args[0], { home: ctx.home });
    if (ctx.json) await ctx.printJson({ current: ctx.args[0] });
    else await ctx.note(`now using vault ${ctx.args[0]}`);
  },
};

function renderInfo(i: VaultInfo): string {
  const rows: [string, string][] = [
    ['name', i.name ?? '(unregistered)'],
    ['path', i.path],
    ['backend', i.backend],
    ['format', String(i.format)],
    ['id', i.id],
    ['created', i.created.toISOString()],
    ['chunk size', humanBytes(i.chunkSize)],
    ['operations', String(i.operations)],
    ['files', String(i.files)],
    ['folders', String(i.dirs)],
    ['symlinks', String(i.symlinks)],
    ['content', `${humanBytes(i.logicalBytes)} (${i.logicalBytes} bytes)`],
    ['on disk', `${humanBytes(i.storedBytes)} (${i.storedBytes} bytes)`],
    ['supports', Object.entries(i.supports).filter(([, on]) => on).map(([k]) => k).join(', ') || '-'],
  ];
  return rows.map(([k, v]) => `${(k + ':').padEnd(12)}${v}\n`).join('');
}

const info: Command = {
  usage: 'vault info [NAME]',
  summary: 'show where a vault is stored, its backend, counts and sizes',
  flags: [],
  min: 0,
  max: 1,
  async run(ctx) {
    const i = await withVault(ctx, ctx.args[0], (v) => v.info());
    if (ctx.json) await ctx.printJson(i);
    else await ctx.print(renderInfo(i));
  },
};

const del: Command = {
  usage: 'vault delete NAME --force',
  summary: 'delete a vault\'s store and its registration (needs --force)',
  flags: [{ key: 'force', long: 'force', short: 'f', help: 'really delete (there is no undo)' }],
  min: 1,
  max: 1,
  async run(ctx) {
    if (!ctx.flags.bool('force')) throw usageError(`vault delete: this removes vault "${ctx.args[0]}" and all its data; add --force to confirm`);
    const { deleteVault } = await api();
    const { path } = await deleteVault(ctx.args[0], { home: ctx.home });
    if (ctx.json) await ctx.printJson({ deleted: ctx.args[0], path });
    else await ctx.note(`deleted vault ${ctx.args[0]} (${path})`);
  },
};

const register: Command = {
  usage: 'vault import NAME PATH',
  summary: 'register an existing vault store under NAME',
  flags: [],
  min: 2,
  max: 2,
  async run(ctx) {
    const { registerVault, listVaults } = await api();
    const [name, path] = ctx.args;
    await registerVault(name, path, { home: ctx.home });
    const v = listVaults({ home: ctx.home }).find((x) => x.name === name);
    if (ctx.json) await ctx.printJson({ name, path: v?.path ?? path, backend: v?.backend });
    else await ctx.note(`registered vault ${name} (${v?.backend ?? '?'}) at ${v?.path ?? path}`);
  },
};

const check: Command = {
  usage: 'vault check [NAME]',
  summary: 'verify a vault\'s integrity (exit 1 when a problem is found)',
  flags: [],
  min: 0,
  max: 1,
  async run(ctx) {
    const r = await withVault(ctx, ctx.args[0], (v) => v.check());
    if (ctx.json) await ctx.printJson(r);
    else if (r.ok) {
      await ctx.note(
        `ok: ${plural(r.files, 'file', 'files')}, ${plural(r.dirs, 'folder', 'folders')}, ${plural(r.symlinks, 'symlink', 'symlinks')}, ${plural(r.chunks, 'chunk', 'chunks')}`,
      );
    } else {
      await ctx.print(r.problems.map((p) => `${p}\n`).join(''));
      await ctx.err.write(`avfs: vault check found ${plural(r.problems.length, 'problem', 'problems')}\n`);
    }
    if (!r.ok) await ctx.fail();
  },
};

const fork: Command = {
  usage: 'vault fork SRC DST [--snapshot S] [--backend B]',
  summary: 'make a new vault that starts as SRC was (now, or at a point) and then goes its own way',
  notes: [
    'SRC is a name or a path; it is only read. DST is a new name (stored under $AVFS_HOME/vaults) or a path; it must not exist.',
    'DST keeps SRC\'s history, snapshots and settings up to the point; its audit log adds a vault.fork record.',
    '--snapshot takes what --at takes: a snapshot name, an operation number (42, seq:42) or a time (ISO 8601, 10m, 2h, 3d).',
    'Agent memory has no history: DST gets the memory saved with snapshot S (snapshot save --with-memory), else SRC\'s memory as it is now.',
  ],
  flags: [
    { key: 'snapshot', long: 'snapshot', value: 'S', help: 'fork at this point: a snapshot, an operation number or a time (default: now)' },
    { key: 'backend', long: 'backend', value: 'KIND', help: 'backend of the new vault: sqlite, lmdb, log, rocksdb or postgres (default: the source\'s)' },
  ],
  min: 2,
  max: 2,
  async run(ctx) {
    const [src, dst] = ctx.args;
    const at = ctx.flags.str('snapshot');
    const backend = ctx.flags.str('backend');
    const { forkVault } = await import('../../api/fork.js');
    const r = await forkVault(src, dst, {
      home: ctx.home,
      ...(at !== undefined ? { at } : {}),
      ...(backend !== undefined ? { backend } : {}),
      ...(ctx.actor !== undefined ? { actor: ctx.actor } : {}),
    });
    if (ctx.json) await ctx.printJson({ name: r.name ?? null, path: r.path, backend: r.backend, from: r.from, seq: r.seq });
    else await ctx.note(`forked ${r.from} at ${r.at}${r.memory ? ' (with its agent memory)' : ''} into vault ${r.name ?? r.path} (${r.backend}) at ${r.path}`);
  },
};

const migrate: Command = {
  usage: 'vault migrate SRC --to BACKEND [--name DST] [--path P | --url URL] [--encrypt]',
  summary: 'copy a vault whole into a new store on another backend, verify it, and register it',
  notes: [
    'SRC is a name or a path; it is only read and stays as it is. DST (default SRC-BACKEND) must not exist.',
    'Everything comes along (tree, all history, snapshots, tags, metadata, settings, agent memory) with the',
    'same vault id; the search indexes are rebuilt on the new store. The copy is checked against SRC',
    '(entry counts and hashes of every collection, one search) before DST is registered; on a mismatch,',
    'an error or Ctrl-C nothing is registered and the partial store is removed.',
    'After checking DST, `avfs vault use DST` switches to it and `avfs vault delete SRC --force` drops the old store.',
    '--encrypt (--to log): the new store is encrypted with the passphrase ($AVFS_PASSPHRASE or asked for);',
    'without it the copy is not encrypted, even when SRC is.',
  ],
  flags: [
    { key: 'to', long: 'to', value: 'BACKEND', help: 'backend of the new store, any but memory (required)' },
    { key: 'name', long: 'name', value: 'DST', help: 'name to register the migrated vault under (default: SRC-BACKEND)' },
    { key: 'path', long: 'path', value: 'P', help: 'where to keep the new store (default: under $AVFS_HOME/vaults)' },
    { key: 'url', long: 'url', value: 'URL', help: 'the PostgreSQL server, for --to postgres (schema avfs_DST unless ?schema=S)' },
    { key: 'encrypt', long: 'encrypt', help: 'encrypt the new store at rest (log backend; passphrase as for vault create)' },
  ],
  min: 1,
  max: 1,
  async run(ctx) {
    const to = ctx.flags.str('to');
    if (to === undefined) throw usageError('vault migrate: --to BACKEND is required (the backend to move the vault to)');
    const name = ctx.flags.str('name');
    const path = ctx.flags.str('path');
    const url = ctx.flags.str('url');
    const encrypt = ctx.flags.bool('encrypt');
    if (to === 'postgres' && url === undefined) throw usageError('vault migrate: --to postgres needs --url postgres://user@host/db');
    if (url !== undefined && to !== 'postgres') throw usageError(`vault migrate: --url is for --to postgres (not ${to})`);
    if (url !== undefined && path !== undefined) throw usageError('vault migrate: --url and --path exclude each other (a postgres vault lives on the server)');
    let passphrase: string | undefined;
    if (encrypt) {
      if (to !== 'log') throw vfsError('EINVAL', undefined, `vault migrate: encryption is available on the log backend only (not ${to})`);
      const { passphraseFor } = await import('../passphrase.js');
      passphrase = await passphraseFor(ctx, 'passphrase for the new store: ');
    }
    const { migrateVault } = await import('../../api/migrate.js');
    // Ctrl-C or a TERM stops the copy; migrateVault then removes the partial store.
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    const sigs = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    for (const sig of sigs) process.on(sig, stop);
    const tty = ctx.err.isTTY && !ctx.json && !ctx.quiet;
    const sink = { write: (s: string) => void ctx.err.write(s) };
    const bars: Record<string, ProgressBar> = {};
    let shown: ProgressBar | undefined;
    try {
      const r = await migrateVault(ctx.args[0], {
        to,
        home: ctx.home,
        signal: ac.signal,
        ...(encrypt ? { encrypt, passphrase } : {}),
        ...(name !== undefined ? { name } : {}),
        ...(path !== undefined ? { path } : {}),
        ...(url !== undefined ? { url } : {}),
        ...(tty
          ? {
              onProgress: (p) => {
                if (p.phase === 'index') {
                  // No count to show while the indexes are rebuilt: a line the verify bar overwrites.
                  shown?.clear();
                  shown = undefined;
                  sink.write('\r\x1b[Krebuilding the search indexes');
                  return;
                }
                const bar = (bars[p.phase] ??= new ProgressBar(sink, p.phase === 'copy' ? 'copying' : 'verifying', Date.now, 100, 'entries'));
                shown = bar;
                bar.update({ files: p.entries, totalFiles: p.totalEntries, bytes: p.bytes, totalBytes: 0 });
              },
            }
          : {}),
      });
      shown?.clear();
      if (ctx.json) await ctx.printJson(r);
      else {
        await ctx.note(
          `migrated ${r.from} (${r.fromBackend}) into vault ${r.name} (${r.backend}) at ${r.path}: ${plural(r.entries, 'entry', 'entries')} (${humanBytes(r.bytes)}), ${plural(r.files, 'file', 'files')}, ${r.indexed} indexed; verified`,
        );
      }
    } finally {
      shown?.clear();
      for (const sig of sigs) process.off(sig, stop);
    }
  },
};

const vault: CommandGroup = {
  usage: 'vault SUBCOMMAND [ARGS...]',
  notes: ['Vaults are registered by name in $AVFS_HOME/config.toml; --vault also takes a path to a store.'],
  sub: { create, list, use, info, delete: del, import: register, check, stats: vaultStats, config: vaultConfig, fork, migrate },
};

export const commands: CommandModule = { vault };
