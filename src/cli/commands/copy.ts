// cp, mv, ln -s. The library's copy() and rename() take the exact target; the shell habit of
// "into the folder" is decided here: when DST is an existing folder, or several sources are
// given, each source goes to DST/basename.
import type { Vault } from '../../api/vault.js';
import type { Command, CommandModule, Context } from '../context.js';
import { vfsError } from '../../errors.js';
import { usageError } from '../args.js';
import { baseName, joinDisplay } from './common.js';

async function targets(vault: Vault, sources: string[], dst: string): Promise<string[]> {
  const there = await vault.stat(dst).catch(() => undefined);
  if (there?.type === 'directory') return sources.map((s) => joinDisplay(there.path, baseName(vault.abs(s))));
  if (sources.length > 1) {
    throw there ? vfsError('ENOTDIR', vault.abs(dst), 'target is not a folder (several sources need a folder)') : vfsError('ENOENT', vault.abs(dst), 'target folder does not exist');
  }
  return [dst];
}

async function transfer(ctx: Context, op: (vault: Vault, from: string, to: string) => Promise<boolean>): Promise<void> {
  const vault = await ctx.vault();
  const sources = ctx.args.slice(0, -1);
  const dst = ctx.args[ctx.args.length - 1];
  const tos = await targets(vault, sources, dst);
  const items: { from: string; to: string; done: boolean }[] = [];
  for (let i = 0; i < sources.length; i++) {
    try {
      const done = await op(vault, sources[i], tos[i]);
      items.push({ from: vault.abs(sources[i]), to: vault.abs(tos[i]), done });
    } catch (e) {
      await ctx.fail(e);
    }
  }
  if (ctx.json && !ctx.failed) await ctx.printJson({ ok: true, items });
}

const cp: Command = {
  usage: 'cp [-r] [-n] SRC... DST',
  notes: [
    'When DST is an existing folder, or several SRCs are given, each SRC is copied to DST/NAME;',
    'otherwise SRC is copied to exactly DST. Content is shared, not duplicated.',
  ],
  flags: [
    { key: 'recursive', short: 'r', long: 'recursive', help: 'copy folders and everything in them' },
    { key: 'recursive', short: 'R', help: 'same as -r' },
    { key: 'noClobber', short: 'n', long: 'no-clobber', help: 'never replace an existing file' },
  ],
  min: 2,
  max: Infinity,
  run: (ctx) =>
    transfer(ctx, (v, from, to) => v.copy(from, to, { recursive: ctx.flags.bool('recursive'), noClobber: ctx.flags.bool('noClobber') })),
};

const mv: Command = {
  usage: 'mv [-n] SRC... DST',
  notes: ['When DST is an existing folder, or several SRCs are given, each SRC moves to DST/NAME.'],
  flags: [{ key: 'noClobber', short: 'n', long: 'no-clobber', help: 'never replace an existing entry' }],
  min: 2,
  max: Infinity,
  run: (ctx) => transfer(ctx, (v, from, to) => v.rename(from, to, { noClobber: ctx.flags.bool('noClobber') })),
};

const ln: Command = {
  usage: 'ln -s TARGET LINK',
  notes: [
    'Only symbolic links: a vault has no hard links. TARGET is stored as given (it may dangle).',
    'When LINK is an existing folder, the link is made inside it as LINK/basename(TARGET).',
  ],
  flags: [{ key: 'symbolic', short: 's', long: 'symbolic', help: 'make a symbolic link (required)' }],
  min: 2,
  max: 2,
  async run(ctx) {
    if (!ctx.flags.bool('symbolic')) throw usageError('ln: hard links are not supported; use ln -s TARGET LINK');
    const [target, link] = ctx.args;
    const vault = await ctx.vault();
    const there = await vault.stat(link).catch(() => undefined);
    const path = there?.type === 'directory' ? joinDisplay(there.path, baseName(target)) : link;
    await vault.symlink(target, path);
    if (ctx.json) await ctx.printJson({ ok: true, path: vault.abs(path), target });
  },
};

export const commands: CommandModule = { cp, mv, ln };
