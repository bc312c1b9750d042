// touch, mkdir, rmdir, rm: one operation per operand; a failing operand is reported and the
// others still run (as GNU tools do), and the exit code is then 1.
import type { Vault } from '../../api/vault.js';
import type { Command, CommandModule, Context } from '../context.js';

async function eachOperand(ctx: Context, op: (vault: Vault, path: string) => Promise<boolean | void>, key = 'paths'): Promise<void> {
  const vault = await ctx.vault();
  const done: string[] = [];
  for (const p of ctx.args) {
    try {
      if ((await op(vault, p)) !== false) done.push(vault.abs(p));
    } catch (e) {
      await ctx.fail(e);
    }
  }
  if (ctx.json && !ctx.failed) await ctx.printJson({ ok: true, [key]: done });
}

const touch: Command = {
  usage: 'touch PATH...',
  notes: ['Creates empty files; an existing entry gets its modification time set to now.'],
  flags: [],
  min: 1,
  max: Infinity,
  run: (ctx) => eachOperand(ctx, (v, p) => v.touch(p)),
};

const mkdir: Command = {
  usage: 'mkdir [-p] PATH...',
  flags: [{ key: 'parents', short: 'p', long: 'parents', help: 'create missing parents; no error if it exists' }],
  min: 1,
  max: Infinity,
  run: (ctx) => eachOperand(ctx, (v, p) => v.mkdir(p, { recursive: ctx.flags.bool('parents') })),
};

const rmdir: Command = {
  usage: 'rmdir PATH...',
  notes: ['Only empty folders (use rm -r for the rest).'],
  flags: [],
  min: 1,
  max: Infinity,
  run: (ctx) => eachOperand(ctx, (v, p) => v.rmdir(p)),
};

const rm: Command = {
  usage: 'rm [-r] [-f] PATH...',
  flags: [
    { key: 'recursive', short: 'r', long: 'recursive', help: 'remove folders and everything in them' },
    { key: 'recursive', short: 'R', help: 'same as -r' },
    { key: 'force', short: 'f', long: 'force', help: 'ignore missing paths' },
  ],
  min: 1,
  max: Infinity,
  run: (ctx) => eachOperand(ctx, (v, p) => v.rm(p, { recursive: ctx.flags.bool('recursive'), force: ctx.flags.bool('force') }), 'removed'),
};

export const commands: CommandModule = { touch, mkdir, rmdir, rm };
