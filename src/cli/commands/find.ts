// find: GNU find's everyday tests, turned into vault.find() options. -size and -mtime keep
// GNU's meaning exactly (sizes round up to the unit; ages count whole days), so a command that
// works on the host works here.
import type { FindOptions, Stat } from '../../api/types.js';
import type { Command, CommandModule, Context } from '../context.js';
import { vfsError } from '../../errors.js';
import { usageError } from '../args.js';
import { joinDisplay, relativeTo } from './common.js';
import { AT_FLAG, readOps } from './point.js';

const UNITS: Record<string, number> = { c: 1, w: 2, b: 512, k: 1024, M: 1024 ** 2, G: 1024 ** 3 };
const DAY = 24 * 60 * 60 * 1000;
const TYPES: Record<string, Stat['type']> = { f: 'file', d: 'directory', l: 'symlink' };

/** `-size [+-]N[cwbkMG]`: GNU rounds the size up to whole units, then compares. */
export function sizeBounds(spec: string): Pick<FindOptions, 'minSize' | 'maxSize'> {
  const m = /^([+-]?)(\d+)([cwbkMG]?)$/.exec(spec);
  if (!m) throw usageError(`find: -size: expected [+-]N[c|k|M|G], got "${spec}"`);
  const n = Number(m[2]);
  const unit = UNITS[m[3] || 'b'];
  if (m[1] === '+') return { minSize: n * unit + 1 };
  if (m[1] === '-') return { maxSize: n === 0 ? -1 : (n - 1) * unit };
  return n === 0 ? { minSize: 0, maxSize: 0 } : { minSize: (n - 1) * unit + 1, maxSize: n * unit };
}

/** `-mtime [+-]N`: age in whole days (fraction dropped), more than / less than / exactly N. */
export function mtimeBounds(spec: string, now: number): Pick<FindOptions, 'newerThanMs' | 'olderThanMs'> {
  const m = /^([+-]?)(\d+)$/.exec(spec);
  if (!m) throw usageError(`find: -mtime: expected [+-]N (days), got "${spec}"`);
  const n = Number(m[2]);
  if (m[1] === '+') return { olderThanMs: now - (n + 1) * DAY + 1 };
  if (m[1] === '-') return { newerThanMs: now - n * DAY + 1 };
  return { newerThanMs: now - (n + 1) * DAY + 1, olderThanMs: now - n * DAY + 1 };
}

const find: Command = {
  usage: 'find [PATH] [-name GLOB] [-type f|d|l] [-size [+-]N[ckMG]] [-mtime [+-]N] [-tag TAG]... [-maxdepth N] [--at POINT]',
  notes: [
    'Prints matching paths one per line, written from PATH as given (default ".").',
    '-size: + more than, - less than, else exactly; units c (bytes), k, M, G, b (512, the default),',
    'rounded up as GNU find does. -mtime: age in whole days. -tag: has the tag (repeat it: has every one;',
    'not with --at: tags are not kept in history). --json: an array of Stat objects with their tags and meta.',
  ],
  flags: [
    { key: 'name', single: 'name', value: 'GLOB', help: 'name matches the glob (* ? [abc])' },
    { key: 'type', single: 'type', value: 'f|d|l', choices: ['f', 'd', 'l'], help: 'file, directory or symlink' },
    { key: 'size', single: 'size', value: '[+-]N', help: 'size in units (see above)' },
    { key: 'mtime', single: 'mtime', value: '[+-]N', help: 'modified N days ago (+N: more, -N: less)' },
    { key: 'maxdepth', single: 'maxdepth', value: 'N', int: true, help: 'descend at most N levels' },
    { key: 'tag', single: 'tag', value: 'TAG', multi: true, help: 'has this tag (files or folders; repeat for several)' },
    AT_FLAG,
  ],
  min: 0,
  max: 1,
  async run(ctx: Context) {
    const f = ctx.flags;
    const opts: FindOptions = {};
    const name = f.str('name');
    if (name !== undefined) opts.name = name;
    const type = f.str('type');
    if (type !== undefined) opts.type = TYPES[type];
    const size = f.str('size');
    if (size !== undefined) Object.assign(opts, sizeBounds(size));
    const mtime = f.str('mtime');
    if (mtime !== undefined) Object.assign(opts, mtimeBounds(mtime, Date.now()));
    const depth = f.int('maxdepth');
    if (depth !== undefined) opts.maxDepth = depth;
    const tags = f.list('tag');
    if (tags.length > 0) opts.tag = tags;
    if (tags.length > 0 && f.has('at')) throw vfsError('ENOTSUP', undefined, 'find -tag: tags are not kept in history (no -tag with --at)');
    if (ctx.json) opts.attrs = true;

    const vault = await readOps(ctx);
    const operand = ctx.args[0] ?? '.';
    // Paths are shown from the operand as typed; the walk reports canonical ones (its start is
    // followed if it is a symlink to a folder, as here).
    const root = (await vault.stat(operand).catch(() => vault.lstat(operand))).path;
    const found: Stat[] = [];
    let lines: string[] = [];
    for await (const e of vault.find(operand, opts)) {
      if (ctx.json) {
        found.push(e.stat);
        continue;
      }
      const rel = relativeTo(e.path, root);
      lines.push((rel === '' ? operand : joinDisplay(operand, rel)) + '\n');
      if (lines.length >= 1024) {
        await ctx.print(lines.join(''));
        lines = [];
        if (ctx.out.closed) return;
      }
    }
    if (ctx.json) await ctx.printJson(found);
    else await ctx.print(lines.join(''));
  },
};

export const commands: CommandModule = { find };
