// meta: string key/value metadata on files and folders (the library's vault.getMeta, setMeta,
// unsetMeta, exportMeta, importMeta, copyMeta). Rules and layout: docs/tags.md.
import { readFile, stat } from 'node:fs/promises';
import type { Command, CommandModule, Context } from '../context.js';
import { usageError } from '../args.js';
import { oneLine } from '../output.js';
import { ERROR_CODES, vfsError, type ErrorCode } from '../../errors.js';

const MODES = ['unset', 'export', 'import', 'copy'] as const;
type Mode = (typeof MODES)[number] | 'plain';

/** Bigger than any value or import the library takes: reading stops here (the library says why). */
const MAX_STDIN_VALUE = 1024 * 1024;
const MAX_IMPORT_BYTES = 64 * 1024 * 1024;

function modeOf(ctx: Context): Mode {
  const given = MODES.filter((m) => ctx.flags.bool(m));
  if (given.length > 1) throw usageError(`meta: choose one of ${given.map((m) => `--${m}`).join(', ')} (see avfs meta --help)`);
  const mode = (given.length > 0 ? given[0] : 'plain') as Mode;
  if (ctx.flags.bool('stdin') && mode !== 'plain') throw usageError(`meta: --stdin goes with meta PATH KEY (the value), not --${mode}`);
  return mode;
}

function argCount(ctx: Context, what: string, min: number, max: number): void {
  const n = ctx.args.length;
  if (n < min) throw usageError(`meta${what}: missing argument (see avfs meta --help)`);
  if (n > max) throw usageError(`meta${what}: too many arguments: ${ctx.args.slice(max).join(' ')} (see avfs meta --help)`);
}

/** A value on a key=value line: as is, or JSON-quoted when it holds a newline or another control character. */
function lineValue(v: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\x00-\x1f\x7f]/.test(v) ? JSON.stringify(v) : v;
}

/** Read stdin up to `max` bytes (one more tells the caller it was bigger). */
async function readBounded(stream: NodeJS.ReadableStream, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    const b = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    chunks.push(b);
    n += b.length;
    if (n > max) break;
  }
  return Buffer.concat(chunks);
}

function utf8(bytes: Buffer, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw vfsError('EINVAL', undefined, `${what} is not UTF-8 text`);
  }
}

/** The import document: a host file, or stdin for '-'. */
async function importText(ctx: Context, file: string): Promise<string> {
  if (file === '-') {
    const b = await readBounded(ctx.stdin, MAX_IMPORT_BYTES);
    if (b.length > MAX_IMPORT_BYTES) throw vfsError('EFBIG', undefined, `meta --import: stdin is over ${MAX_IMPORT_BYTES} bytes`);
    return utf8(b, 'meta --import: stdin');
  }
  try {
    const st = await stat(file);
    if (st.isDirectory()) throw vfsError('EISDIR', undefined, `meta --import: ${oneLine(file)} is a directory`);
    if (st.size > MAX_IMPORT_BYTES) throw vfsError('EFBIG', undefined, `meta --import: ${oneLine(file)} is ${st.size} bytes (at most ${MAX_IMPORT_BYTES})`);
    return utf8(await readFile(file), `meta --import: ${oneLine(file)}`);
  } catch (e) {
    const err = e as { code?: string; message?: string; name?: string };
    if (err.name === 'VfsError') throw e;
    const code = (typeof err.code === 'string' && err.code in ERROR_CODES ? err.code : 'EIO') as ErrorCode;
    throw vfsError(code, undefined, `meta --import: cannot read ${oneLine(file)}: ${code === 'EIO' ? String(err.message).split('\n')[0] : ERROR_CODES[code]}`);
  }
}

const meta: Command = {
  usage: 'meta PATH [KEY [VALUE]] | meta --stdin PATH KEY | meta --unset PATH KEY... | meta --export PATH | meta --import FILE|- | meta --copy SRC DST',
  notes: [
    'PATH: every key=value (a value with a newline or control character is JSON-quoted); PATH KEY: the',
    'value; PATH KEY VALUE (or --stdin): set it. --export: {"/path": {"key": "value"}} for PATH and, for a',
    'folder, every entry below it with metadata; --import takes that shape from a host FILE (or - for',
    'stdin): paths absolute and canonical, values strings; keys given are set, others kept; all or',
    'nothing. --copy gives DST every key SRC has. Keys: 1-255 bytes, no whitespace, control characters',
    'or "="; values: text up to 64 KiB. Metadata follows a file through mv and is copied by cp.',
    '--json: {path, meta} for PATH, {path, key, value} for a key, {ok, ...} for changes.',
  ],
  flags: [
    { key: 'stdin', long: 'stdin', help: 'read VALUE from stdin' },
    { key: 'unset', long: 'unset', help: 'remove the keys from PATH (a key it does not have is no error)' },
    { key: 'export', long: 'export', help: 'print the metadata of PATH (and below) as JSON' },
    { key: 'import', long: 'import', help: 'set metadata from a JSON FILE as --export writes it' },
    { key: 'copy', long: 'copy', help: 'give DST every key SRC has' },
  ],
  min: 0,
  max: Infinity,
  async run(ctx: Context) {
    const mode = modeOf(ctx);
    const a = ctx.args;
    switch (mode) {
      case 'plain': {
        if (ctx.flags.bool('stdin')) argCount(ctx, ' --stdin', 2, 2);
        else argCount(ctx, '', 1, 3);
        const vault = await ctx.vault();
        const path = vault.abs(a[0]);
        if (a.length === 1) {
          const m = await vault.getMeta(a[0]);
          if (ctx.json) await ctx.printJson({ path, meta: m });
          else await ctx.print(Object.entries(m).map(([k, v]) => `${ctx.out.isTTY ? oneLine(k) : k}=${lineValue(v)}\n`).join(''));
          return;
        }
        if (a.length === 2 && !ctx.flags.bool('stdin')) {
          const value = await vault.getMeta(a[0], a[1]);
          if (ctx.json) await ctx.printJson({ path, key: a[1], value });
          else await ctx.print(value + '\n');
          return;
        }
        let value = a[2];
        if (value === undefined) {
          const b = await readBounded(ctx.stdin, MAX_STDIN_VALUE);
          if (b.length > MAX_STDIN_VALUE) throw vfsError('EFBIG', undefined, `the metadata value of ${JSON.stringify(a[1])} is over ${MAX_STDIN_VALUE} bytes`);
          value = utf8(b, 'the value on stdin');
        }
        await vault.setMeta(a[0], a[1], value);
        if (ctx.json) await ctx.printJson({ ok: true, path, key: a[1], value });
        return;
      }
      case 'unset': {
        argCount(ctx, ' --unset', 2, Infinity);
        const vault = await ctx.vault();
        const removed = await vault.unsetMeta(a[0], a.slice(1));
        if (ctx.json) await ctx.printJson({ ok: true, path: vault.abs(a[0]), unset: removed });
        return;
      }
      case 'export': {
        argCount(ctx, ' --export', 1, 1);
        const vault = await ctx.vault();
        const doc = await vault.exportMeta(a[0]);
        if (ctx.json) await ctx.printJson(doc);
        else await ctx.print(JSON.stringify(doc, null, 2) + '\n');
        return;
      }
      case 'import': {
        argCount(ctx, ' --import', 1, 1);
        const text = await importText(ctx, a[0]);
        let doc: unknown;
        try {
          doc = JSON.parse(text);
        } catch (e) {
          throw vfsError('EINVAL', undefined, `meta --import: ${oneLine(a[0] === '-' ? 'stdin' : a[0])} is not valid JSON (${String((e as Error).message).split('\n')[0]})`);
        }
        const vault = await ctx.vault();
        const r = await vault.importMeta(doc as Record<string, Record<string, string>>);
        if (ctx.json) await ctx.printJson({ ok: true, ...r });
        else await ctx.note(`imported ${r.keys} key${r.keys === 1 ? '' : 's'} on ${r.paths} path${r.paths === 1 ? '' : 's'}`);
        return;
      }
      case 'copy': {
        argCount(ctx, ' --copy', 2, 2);
        const vault = await ctx.vault();
        const m = await vault.copyMeta(a[0], a[1]);
        if (ctx.json) await ctx.printJson({ ok: true, path: vault.abs(a[1]), meta: m });
        return;
      }
    }
  },
};

export const commands: CommandModule = { meta };
