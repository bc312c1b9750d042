// stat: GNU-stat-like lines, or the Stat objects with --json.
import type { Stat } from '../../api/types.js';
import type { Command, CommandModule, Context } from '../context.js';
import { longTime, modeString, octalMode, oneLine } from '../output.js';
import { AT_FLAG, readOps } from './point.js';

const TYPE_NAME: Record<Stat['type'], string> = { file: 'regular file', directory: 'directory', symlink: 'symbolic link' };

function render(st: Stat, tty: boolean): string {
  const show = (s: string): string => (tty ? oneLine(s) : s);
  const col = (a: string, b: string): string => a.padEnd(28) + b;
  const lines = [
    `  File: ${show(st.path)}${st.type === 'symlink' ? ` -> ${show(st.target ?? '')}` : ''}`,
    col(`  Size: ${st.size}`, `Type: ${TYPE_NAME[st.type]}`),
    col(`  Mode: ${octalMode(st.mode)}/${modeString(st.type, st.mode)}`, `Links: ${st.nlink}`),
    col(` Inode: ${st.ino}`, `Version: ${st.version}`),
  ];
  if (st.hash !== undefined) lines.push(`  Hash: ${st.hash}`);
  if (st.tags && st.tags.length > 0) lines.push(`  Tags: ${show(st.tags.join(', '))}`);
  const keys = st.meta ? Object.keys(st.meta) : [];
  if (keys.length > 0) lines.push(`  Meta: ${show(keys.join(', '))}`);
  lines.push(`Modify: ${longTime(st.mtimeMs)}`, `Change: ${longTime(st.ctimeMs)}`, ` Birth: ${longTime(st.birthtimeMs)}`);
  return lines.join('\n') + '\n';
}

const stat: Command = {
  usage: 'stat [-L] [--at POINT] PATH...',
  notes: [
    'A symlink is described itself unless -L. Tags and metadata keys are shown when there are any (meta PATH',
    'prints the values). --json: one Stat object (with tags and meta) for one PATH, an array for several.',
  ],
  flags: [{ key: 'deref', short: 'L', long: 'dereference', help: 'follow symlinks' }, AT_FLAG],
  min: 1,
  max: Infinity,
  async run(ctx: Context) {
    const vault = await readOps(ctx);
    const follow = ctx.flags.bool('deref');
    const all: Stat[] = [];
    for (const p of ctx.args) {
      try {
        const st = follow ? await vault.stat(p, { attrs: true }) : await vault.lstat(p, { attrs: true });
        if (ctx.json) all.push(st);
        else await ctx.print(render(st, ctx.out.isTTY));
      } catch (e) {
        if (ctx.json) throw e;
        await ctx.fail(e);
      }
    }
    if (ctx.json) await ctx.printJson(all.length === 1 ? all[0] : all);
  },
};

export const commands: CommandModule = { stat };
