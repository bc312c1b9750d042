// diff: two vault files, or versions of one file, as a unified diff; exit status as diff(1):
// 0 the same, 1 different, 2 trouble (any error, usage included).
import type { Command, CommandModule, Context } from '../context.js';
import { usageError } from '../args.js';
import { splitLines, diffLines, toHunks, formatHunks } from '../../util/diff.js';

interface Side {
  /** For `Binary files A and B differ`. */
  name: string;
  /** After `---` / `+++` (a tab before the version note, as diff -u puts one before a time). */
  header: string;
  data: Buffer;
}

/** The text, or undefined for binary content (a NUL byte, or bytes that are not UTF-8). */
function textOf(buf: Buffer): string | undefined {
  if (buf.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf);
  } catch {
    return undefined;
  }
}

async function sides(ctx: Context): Promise<[Side, Side]> {
  const versions = ctx.flags.ints('fileVersion');
  const vault = await ctx.vault();
  if (versions.length === 0) {
    if (ctx.args.length !== 2) throw usageError('diff: give two paths, or -v N PATH (see avfs diff --help)');
    const [a, b] = ctx.args;
    return [
      { name: a, header: a, data: await vault.readFile(a) },
      { name: b, header: b, data: await vault.readFile(b) },
    ];
  }
  if (versions.length > 2) throw usageError('diff: -v at most twice (-v N compares with the current content, -v N -v M two versions)');
  if (ctx.args.length !== 1) throw usageError('diff: with -v, give one PATH');
  if (versions.includes(0)) throw usageError('diff: -v: versions count from 1');
  const path = ctx.args[0];
  const version = async (n: number): Promise<Side> => {
    const { data } = await vault.readVersion(path, n);
    return { name: `${path} (version ${n})`, header: `${path}\tversion ${n}`, data };
  };
  const old = await version(versions[0]);
  if (versions.length === 2) return [old, await version(versions[1])];
  const st = await vault.stat(path);
  return [old, { name: path, header: `${path}\tversion ${st.version} (current)`, data: await vault.readFile(path) }];
}

const diff: Command = {
  usage: 'diff [-u] [-U N] [--color] (A B | -v N [-v M] PATH)',
  notes: [
    'A unified diff (--- A, +++ B, @@ hunks with 3 lines of context) of two vault files; with',
    '-v N, version N of PATH against its current content; with -v N -v M, two versions.',
    'Identical files print nothing. Binary content (a NUL byte or bytes that are not UTF-8):',
    '"Binary files A and B differ". Exit status as diff(1): 0 same, 1 different, 2 trouble.',
    '--json: {from, to, identical, binary, added, removed, patch} (patch: the text diff -u prints).',
  ],
  flags: [
    { key: 'unified', short: 'u', long: 'unified', help: 'unified format (the only one; accepted as habit)' },
    { key: 'context', short: 'U', value: 'N', int: true, help: 'N lines of context instead of 3' },
    { key: 'color', long: 'color', help: 'colour removed lines red and added lines green (ANSI)' },
    { key: 'fileVersion', short: 'v', long: 'version', value: 'N', int: true, multi: true, help: 'compare version N of PATH (twice: two versions)' },
  ],
  min: 1,
  max: 2,
  async run(ctx: Context) {
    let a: Side;
    let b: Side;
    try {
      [a, b] = await sides(ctx);
    } catch (e) {
      // diff(1) says 2 for any trouble, whatever its kind.
      await ctx.fail(e);
      ctx.setExitCode(2);
      return;
    }
    const identical = a.data.equals(b.data);
    const ta = identical ? '' : textOf(a.data);
    const tb = identical ? '' : textOf(b.data);
    const binary = ta === undefined || tb === undefined;
    let patch = '';
    let added = 0;
    let removed = 0;
    if (!identical && !binary) {
      const al = splitLines(ta);
      const bl = splitLines(tb);
      const changes = diffLines(al, bl);
      for (const c of changes) {
        removed += c.aEnd - c.aStart;
        added += c.bEnd - c.bStart;
      }
      const hunks = toHunks(al, bl, changes, ctx.flags.int('context') ?? 3);
      const color = ctx.flags.bool('color') && !ctx.json;
      patch = `--- ${a.header}\n+++ ${b.header}\n` + formatHunks(hunks, { color });
    }
    if (ctx.json) {
      await ctx.printJson({ from: a.name, to: b.name, identical, binary, added, removed, patch });
    } else if (binary && !identical) {
      await ctx.print(`Binary files ${a.name} and ${b.name} differ\n`);
    } else {
      await ctx.print(patch);
    }
    if (!identical) ctx.setExitCode(1);
  },
};

export const commands: CommandModule = { diff };
