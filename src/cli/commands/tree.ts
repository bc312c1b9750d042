// tree: like the `tree` program (├── └── │), ending with "N directories, M files".
import type { Stat } from '../../api/types.js';
import type { FileOps } from '../../api/fileops.js';
import type { Command, CommandModule, Context } from '../context.js';
import { vfsError } from '../../errors.js';
import { oneLine, plural } from '../output.js';
import { AT_FLAG, readOps } from './point.js';

interface Opts {
  maxDepth: number;
  dirsOnly: boolean;
  size: boolean;
  all: boolean;
  tty: boolean;
}

interface JsonNode {
  name: string;
  path: string;
  type: Stat['type'];
  size: number;
  target?: string;
  children?: JsonNode[];
}

async function entriesOf(vault: FileOps, abs: string, o: Opts): Promise<Stat[]> {
  return (await vault.list(abs)).filter((st) => (o.all || !st.name.startsWith('.')) && (!o.dirsOnly || st.type === 'directory'));
}

const tree: Command = {
  usage: 'tree [PATH] [-L N] [-d] [-a] [--size] [--at POINT]',
  notes: ['--json prints the tree as nested objects (children arrays), with the directory and file counts.'],
  flags: [
    { key: 'level', short: 'L', long: 'level', value: 'N', int: true, help: 'descend at most N levels' },
    { key: 'dirs', short: 'd', help: 'folders only' },
    { key: 'all', short: 'a', long: 'all', help: 'also names starting with "."' },
    { key: 'size', short: 's', long: 'size', help: 'show each file\'s size in bytes' },
    AT_FLAG,
  ],
  min: 0,
  max: 1,
  async run(ctx: Context) {
    const vault = await readOps(ctx);
    const level = ctx.flags.int('level');
    if (level === 0) throw vfsError('EUSAGE', undefined, 'tree: -L must be at least 1');
    const o: Opts = {
      maxDepth: level ?? Infinity,
      dirsOnly: ctx.flags.bool('dirs'),
      size: ctx.flags.bool('size'),
      all: ctx.flags.bool('all'),
      tty: ctx.out.isTTY,
    };
    const operand = ctx.args[0] ?? '.';
    const root = await vault.stat(operand);
    if (root.type !== 'directory') throw vfsError('ENOTDIR', root.path);
    const counts = { directories: 0, files: 0 };
    const count = (st: Stat): void => {
      if (st.type === 'directory') counts.directories++;
      else counts.files++;
    };

    if (ctx.json) {
      const build = async (st: Stat, depth: number): Promise<JsonNode> => {
        const node: JsonNode = { name: st.name, path: st.path, type: st.type, size: st.size };
        if (st.target !== undefined) node.target = st.target;
        if (st.type === 'directory') {
          node.children = [];
          if (depth < o.maxDepth) {
            for (const c of await entriesOf(vault, st.path, o)) {
              count(c);
              node.children.push(await build(c, depth + 1));
            }
          }
        }
        return node;
      };
      const top = await build(root, 0);
      await ctx.printJson({ ...top, name: operand, ...counts });
      return;
    }

    const show = (s: string): string => (o.tty ? oneLine(s) : s);
    const lines: string[] = [show(operand) + '\n'];
    const walk = async (abs: string, prefix: string, depth: number): Promise<void> => {
      const entries = await entriesOf(vault, abs, o);
      for (let i = 0; i < entries.length; i++) {
        const st = entries[i];
        const last = i === entries.length - 1;
        count(st);
        const size = o.size ? `[${String(st.size).padStart(11)}]  ` : '';
        const link = st.type === 'symlink' ? ` -> ${show(st.target ?? '')}` : '';
        lines.push(`${prefix}${last ? '└── ' : '├── '}${size}${show(st.name)}${link}\n`);
        if (lines.length >= 1024) await ctx.print(lines.splice(0).join(''));
        if (st.type === 'directory' && depth + 1 < o.maxDepth) await walk(st.path, prefix + (last ? '    ' : '│   '), depth + 1);
      }
    };
    await walk(root.path, '', 0);
    lines.push(
      `\n${plural(counts.directories, 'directory', 'directories')}` + (o.dirsOnly ? '\n' : `, ${plural(counts.files, 'file', 'files')}\n`),
    );
    await ctx.print(lines.join(''));
  },
};

export const commands: CommandModule = { tree };
