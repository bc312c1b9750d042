// ls: GNU ls, one name per line (never columns: the output is for agents and pipes).
import type { Stat } from '../../api/types.js';
import type { FileOps } from '../../api/fileops.js';
import type { Command, CommandModule, Context } from '../context.js';
import { modeString, oneLine, shortTime } from '../output.js';
import { joinDisplay, parentOf } from './common.js';
import { AT_FLAG, readOps } from './point.js';

interface Opts {
  long: boolean;
  all: boolean;
  recursive: boolean;
  byTime: boolean;
  bySize: boolean;
  reverse: boolean;
  tty: boolean;
}

interface Row {
  name: string;
  type: Stat['type'];
  path: string;
  /** Absent in a plain listing, which needs names and types only (-l, -t, -S and --json have it). */
  st?: Stat;
}

const rowOf = (name: string, st: Stat): Row => ({ name, type: st.type, path: st.path, st });

function sortRows(rows: Row[], o: Opts): Row[] {
  // The listing comes in name order (bytewise); a stable sort keeps it for ties.
  if (o.byTime) rows.sort((a, b) => b.st!.mtimeMs - a.st!.mtimeMs);
  else if (o.bySize) rows.sort((a, b) => b.st!.size - a.st!.size);
  if (o.reverse) rows.reverse();
  return rows;
}

function render(rows: Row[], o: Opts): string {
  const show = (s: string): string => (o.tty ? oneLine(s) : s);
  if (!o.long) return rows.map((r) => show(r.name) + '\n').join('');
  const wl = Math.max(2, ...rows.map((r) => String(r.st!.nlink).length));
  const ws = Math.max(8, ...rows.map((r) => String(r.st!.size).length));
  return rows
    .map(({ name, st: stat }) => {
      const st = stat!;
      const link = st.type === 'symlink' ? ` -> ${show(st.target ?? '')}` : '';
      const tags = st.tags && st.tags.length > 0 ? `  [${st.tags.join(',')}]` : '';
      return `${modeString(st.type, st.mode)} ${String(st.nlink).padStart(wl)} ${String(st.size).padStart(ws)} ${shortTime(st.mtimeMs)} ${show(name)}${link}${tags}\n`;
    })
    .join('');
}

async function dirRows(vault: FileOps, abs: string, o: Opts, dots: boolean, full: boolean): Promise<{ rows: Row[]; subdirs: Row[] }> {
  let rows: Row[];
  if (!full && !o.long && !o.byTime && !o.bySize) {
    // A plain listing needs names and types only: the folder's entries, no inode per entry.
    const base = abs === '/' ? '' : abs;
    rows = (await vault.readdir(abs)).filter((e) => o.all || !e.name.startsWith('.')).map((e) => ({ name: e.name, type: e.type, path: `${base}/${e.name}` }));
    if (o.reverse) rows.reverse();
  } else {
    // Tags and metadata only for a long listing.
    const so = { attrs: o.long };
    const entries = (await vault.list(abs, so)).filter((st) => o.all || !st.name.startsWith('.'));
    rows = sortRows(
      entries.map((st) => rowOf(st.name, st)),
      o,
    );
  }
  const subdirs = rows.filter((r) => r.type === 'directory');
  if (dots) {
    const so = { attrs: o.long };
    const self = await vault.stat(abs, so);
    const parent = await vault.stat(parentOf(abs), so);
    rows.unshift(rowOf('.', self), rowOf('..', parent));
  }
  return { rows, subdirs };
}

const ls: Command = {
  usage: 'ls [-l] [-a] [-R] [-t] [-S] [-r] [-d] [--at POINT] [PATH...]',
  notes: [
    'One name per line. A file operand lists itself; a folder lists its entries.',
    '--json prints one array of entry objects (with -R: every entry below, each with its path); with -l',
    'each has its tags and meta too. -l shows a file\'s tags after its name: `notes.md  [draft,urgent]`.',
  ],
  flags: [
    { key: 'long', short: 'l', help: 'long listing: mode, links, size, modification time, name, [tags]' },
    { key: 'all', short: 'a', long: 'all', help: 'also names starting with "." (and . and ..)' },
    { key: 'recursive', short: 'R', long: 'recursive', help: 'list the folders below too, each under a "path:" header' },
    { key: 'time', short: 't', help: 'newest first' },
    { key: 'size', short: 'S', help: 'largest first' },
    { key: 'reverse', short: 'r', long: 'reverse', help: 'reverse the order' },
    { key: 'directory', short: 'd', long: 'directory', help: 'list folders themselves, not their contents' },
    AT_FLAG,
  ],
  min: 0,
  max: Infinity,
  async run(ctx: Context) {
    const vault = await readOps(ctx);
    const f = ctx.flags;
    const o: Opts = {
      long: f.bool('long'),
      all: f.bool('all'),
      recursive: f.bool('recursive'),
      byTime: f.bool('time'),
      bySize: f.bool('size'),
      reverse: f.bool('reverse'),
      tty: ctx.out.isTTY,
    };
    const operands = ctx.args.length > 0 ? ctx.args : ['.'];
    const files: Row[] = [];
    const dirs: { display: string; abs: string }[] = [];
    for (const op of operands) {
      try {
        let st = await vault.lstat(op, { attrs: o.long });
        // A symlink operand is followed unless -l or -d asks about the link itself (GNU).
        if (st.type === 'symlink' && !o.long && !f.bool('directory')) st = await vault.stat(op).catch(() => st);
        if (st.type === 'directory' && !f.bool('directory')) dirs.push({ display: op, abs: st.path });
        else files.push(rowOf(op, st));
      } catch (e) {
        if (ctx.json) throw e; // one JSON document: the error alone
        await ctx.fail(e);
      }
    }
    sortRows(files, o);

    if (ctx.json) {
      const out: Stat[] = files.map((r) => r.st!);
      const visit = async (abs: string): Promise<void> => {
        const { rows, subdirs } = await dirRows(vault, abs, o, false, true);
        for (const r of rows) out.push(r.st!);
        if (o.recursive) for (const d of subdirs) await visit(d.path);
      };
      for (const d of dirs) await visit(d.abs);
      await ctx.printJson(out);
      return;
    }

    const sections: string[] = [];
    if (files.length > 0) sections.push(render(files, o));
    const headers = o.recursive || operands.length > 1;
    const visit = async (display: string, abs: string): Promise<void> => {
      const { rows, subdirs } = await dirRows(vault, abs, o, o.all, false);
      sections.push((headers ? `${o.tty ? oneLine(display) : display}:\n` : '') + render(rows, o));
      // Write as we go, so a big recursive listing streams instead of piling up.
      if (sections.length > 64) await flush();
      if (o.recursive) for (const d of subdirs) await visit(joinDisplay(display, d.name), d.path);
    };
    let first = true;
    const flush = async (): Promise<void> => {
      if (sections.length === 0) return;
      const text = sections.join('\n');
      await ctx.print((first ? '' : '\n') + text);
      first = false;
      sections.length = 0;
    };
    for (const d of dirs) {
      try {
        await visit(d.display, d.abs);
      } catch (e) {
        await flush();
        await ctx.fail(e);
      }
    }
    await flush();
  },
};

export const commands: CommandModule = { ls };
