// vault create | list | use | info | delete | import | check | fork: the registry and the store.
import type { Vault, VaultInfo } from '../../api/vault.js';
import type { Command, CommandGroup, CommandModule, Context } from '../context.js';
import { usageError } from '../args.js';
import { humanBytes, plural } from '../output.js';
import { checkVaultName } from '../../vault/registry.js';
import { vaultConfig, vaultStats } from './retention.js';

async function api(): Promise<typeof import('../../api/open.js')> {
  return import('../../api/open.js');
}

/** The vault named by the argument, else --vault, else the current one; closed after `fn`. */
async function withVault<T>(ctx: Context, name: string | undefined, fn: (v: Vault) => Promise<T>): Promise<T> {
  if (name === undefined) return fn(await ctx.vault());
  const { openVault } = await api();
  const v = await openVault(name, { home: ctx.home, ...(ctx.actor !== undefined ? { actor: ctx.actor } : {}) });
  try {
    return await fn(v);
  } finally {
    await v.close();
  }
}

const create: Command = {
  usage: 'vault create NAME [--backend sqlite|lmdb|memory] [--path P]',
  summary: 'create a vault and register it under NAME',
  notes: ['The store goes to $AVFS_HOME/vaults/NAME.avfs (sqlite) or NAME.lmdb/ unless --path is given.'],
  flags: [
    { key: 'backend', long: 'backend', value: 'KIND', help: 'storage backend: sqlite (default), lmdb or memory' },
    { key: 'path', long: 'path', value: 'P', help: 'where to keep the store' },
  ],
  min: 1,
  max: 1,
  async run(ctx) {
    // NAME is a name (the store's place is --path), so 'a/b' is refused rather than taken as a path.
    checkVaultName(ctx.args[0]);
    const { createVault } = await api();
    const backend = ctx.flags.str('backend');
    const path = ctx.flags.str('path');
    const v = await createVault(ctx.args[0], {
      home: ctx.home,
      ...(backend !== undefined ? { backend } : {}),
      ...(path !== undefined ? { path } : {}),
      ...(ctx.actor !== undefined ? { actor: ctx.actor } : {}),
    });
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
    const { path } = deleteVault(ctx.args[0], { home: ctx.home });
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
    { key: 'backend', long: 'backend', value: 'KIND', help: 'backend of the new vault: sqlite or lmdb (default: the source\'s)' },
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

const vault: CommandGroup = {
  usage: 'vault SUBCOMMAND [ARGS...]',
  notes: ['Vaults are registered by name in $AVFS_HOME/config.toml; --vault also takes a path to a store.'],
  sub: { create, list, use, info, delete: del, import: register, check, stats: vaultStats, config: vaultConfig, fork },
};

export const commands: CommandModule = { vault };
