// tag and untag: tags on files and folders (the library's vault.tag, untag, tags, listTags,
// createTag, deleteTag, renameTag, copyTags). Rules and layout: docs/tags.md.
import type { Command, CommandModule, Context } from '../context.js';
import { usageError } from '../args.js';
import { oneLine } from '../output.js';

const MODES = ['list', 'create', 'delete', 'rename', 'copy'] as const;
type Mode = (typeof MODES)[number] | 'tag';

function modeOf(ctx: Context): Mode {
  const given = MODES.filter((m) => ctx.flags.bool(m));
  if (given.length > 1) throw usageError(`tag: choose one of ${given.map((m) => `--${m}`).join(', ')} (see avfs tag --help)`);
  const mode = (given.length > 0 ? given[0] : 'tag') as Mode;
  if (ctx.flags.has('color') && mode !== 'create') throw usageError('tag: --color goes with --create NAME');
  if (ctx.flags.bool('recursive') && mode !== 'tag') throw usageError(`tag: -r goes with tagging (tag -r DIR TAG...), not --${mode}`);
  return mode;
}

function argCount(ctx: Context, what: string, min: number, max: number): void {
  const n = ctx.args.length;
  if (n < min) throw usageError(`tag ${what}: missing argument (see avfs tag --help)`);
  if (n > max) throw usageError(`tag ${what}: too many arguments: ${ctx.args.slice(max).join(' ')} (see avfs tag --help)`);
}

const iso = (ms: number): string => new Date(ms).toISOString();

const tag: Command = {
  usage: 'tag [-r] PATH TAG... | tag --list [PATH] | tag --create NAME [--color HEX] | tag --delete NAME | tag --rename OLD NEW | tag --copy SRC DST',
  notes: [
    'PATH TAG...: tag a file or folder (a new tag is defined on the way); -r DIR: every file below DIR.',
    '--list: every tag with how many files have it (and its colour); --list PATH: the tags of PATH.',
    '--delete removes a tag from every file; --rename renames it everywhere; --copy gives DST the tags',
    'SRC has (DST keeps its own). Tags are case-insensitive (stored in lower case), 1-128 bytes, with no',
    'whitespace, control characters or commas, not starting with "-". They follow a file through mv,',
    'are copied by cp, and go when it is removed. `ls -l`, `stat` and `find -tag TAG` show them.',
    '--json: {ok, path, files, tags} for tagging; [{name, count, color?, created}] for --list.',
  ],
  flags: [
    { key: 'recursive', short: 'r', long: 'recursive', help: 'tag every file below the folder DIR' },
    { key: 'list', long: 'list', help: 'list every tag with its count, or the tags of PATH' },
    { key: 'create', long: 'create', help: 'define the tag NAME (EEXIST if it exists)' },
    { key: 'color', long: 'color', value: 'HEX', help: 'with --create: its colour, #rgb or #rrggbb' },
    { key: 'delete', long: 'delete', help: 'delete the tag NAME from every file, and its definition' },
    { key: 'rename', long: 'rename', help: 'rename the tag OLD to NEW on every file' },
    { key: 'copy', long: 'copy', help: 'give file DST every tag file SRC has' },
  ],
  min: 0,
  max: Infinity,
  async run(ctx: Context) {
    const mode = modeOf(ctx);
    const show = (s: string): string => (ctx.out.isTTY ? oneLine(s) : s);
    const a = ctx.args;
    switch (mode) {
      case 'tag': {
        if (a.length === 0) throw usageError('tag: missing PATH and TAG (see avfs tag --help)');
        if (a.length === 1) throw usageError('tag: missing TAG (to see the tags of PATH: tag --list PATH)');
        const vault = await ctx.vault();
        const recursive = ctx.flags.bool('recursive');
        const r = await vault.tag(a[0], a.slice(1), { recursive });
        if (ctx.json) await ctx.printJson({ ok: true, ...r });
        else if (recursive) await ctx.note(`tagged ${r.files} file${r.files === 1 ? '' : 's'} below ${oneLine(r.path)}`);
        else await ctx.note(`${oneLine(r.path)}: ${r.tags.join(', ')}`);
        return;
      }
      case 'list': {
        argCount(ctx, '--list', 0, 1);
        const vault = await ctx.vault();
        if (a.length === 1) {
          const tags = await vault.tags(a[0]);
          if (ctx.json) await ctx.printJson({ path: vault.abs(a[0]), tags });
          else await ctx.print(tags.map((t) => show(t) + '\n').join(''));
          return;
        }
        const all = await vault.listTags();
        if (ctx.json) {
          await ctx.printJson(all.map((t) => ({ ...t, created: iso(t.createdMs) })));
          return;
        }
        const w = Math.max(0, ...all.map((t) => show(t.name).length));
        const cw = Math.max(0, ...all.map((t) => String(t.count).length));
        await ctx.print(all.map((t) => `${show(t.name).padEnd(w)}  ${String(t.count).padStart(cw)}${t.color ? `  ${t.color}` : ''}\n`).join(''));
        return;
      }
      case 'create': {
        argCount(ctx, '--create', 1, 1);
        const vault = await ctx.vault();
        const color = ctx.flags.str('color');
        const t = await vault.createTag(a[0], color === undefined ? {} : { color });
        if (ctx.json) await ctx.printJson({ ok: true, ...t, created: iso(t.createdMs) });
        else await ctx.note(`created tag ${oneLine(t.name)}${t.color ? ` (${t.color})` : ''}`);
        return;
      }
      case 'delete': {
        argCount(ctx, '--delete', 1, 1);
        const vault = await ctx.vault();
        const r = await vault.deleteTag(a[0]);
        if (ctx.json) await ctx.printJson({ ok: true, deleted: r.name, files: r.files });
        else await ctx.note(`deleted tag ${oneLine(r.name)} (it was on ${r.files} file${r.files === 1 ? '' : 's'})`);
        return;
      }
      case 'rename': {
        argCount(ctx, '--rename', 2, 2);
        const vault = await ctx.vault();
        const t = await vault.renameTag(a[0], a[1]);
        if (ctx.json) await ctx.printJson({ ok: true, ...t, created: iso(t.createdMs) });
        else await ctx.note(`renamed tag to ${oneLine(t.name)} (on ${t.count} file${t.count === 1 ? '' : 's'})`);
        return;
      }
      case 'copy': {
        argCount(ctx, '--copy', 2, 2);
        const vault = await ctx.vault();
        const tags = await vault.copyTags(a[0], a[1]);
        if (ctx.json) await ctx.printJson({ ok: true, path: vault.abs(a[1]), tags });
        else await ctx.note(`${oneLine(vault.abs(a[1]))}: ${tags.join(', ')}`);
        return;
      }
    }
  },
};

const untag: Command = {
  usage: 'untag [-r] PATH TAG...',
  notes: [
    'Removes the tags from PATH (with -r and a folder: from every file below it). Each TAG must exist',
    '(see tag --list); a file that does not have it is left as it is. --json: {ok, path, files, tags}.',
  ],
  flags: [{ key: 'recursive', short: 'r', long: 'recursive', help: 'untag every file below the folder' }],
  min: 2,
  max: Infinity,
  async run(ctx: Context) {
    const vault = await ctx.vault();
    const recursive = ctx.flags.bool('recursive');
    const r = await vault.untag(ctx.args[0], ctx.args.slice(1), { recursive });
    if (ctx.json) await ctx.printJson({ ok: true, ...r });
    else if (recursive) await ctx.note(`untagged ${r.files} file${r.files === 1 ? '' : 's'} below ${oneLine(r.path)}`);
    else await ctx.note(`${oneLine(r.path)}: ${r.tags.length > 0 ? r.tags.join(', ') : '(no tags)'}`);
  },
};

export const commands: CommandModule = { tag, untag };
