// cat: raw bytes to stdout, streamed (a big file never sits in memory whole), -n like GNU.
import type { Command, CommandModule, Context } from '../context.js';
import type { FileOps } from '../../api/fileops.js';
import { usageError } from '../args.js';
import { AT_FLAG, readOps } from './point.js';

/** GNU `cat -n`: `%6d\t` before every line, the count running on across files. */
class LineNumberer {
  private line = 1;
  private atStart = true;
  apply(chunk: Buffer): Buffer {
    const parts: Buffer[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.atStart) {
        parts.push(Buffer.from(`${String(this.line++).padStart(6)}\t`));
        this.atStart = false;
      }
      const nl = chunk.indexOf(10, pos);
      if (nl < 0) {
        parts.push(chunk.subarray(pos));
        break;
      }
      parts.push(chunk.subarray(pos, nl + 1));
      pos = nl + 1;
      this.atStart = true;
    }
    return Buffer.concat(parts);
  }
}

function utf8OrUndefined(buf: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf);
  } catch {
    return undefined;
  }
}

/** The bytes of one operand: version N of it (-v), else its content now (or at --at). */
async function* contentOf(vault: FileOps, ctx: Context, p: string, version: number | undefined): AsyncGenerator<Buffer> {
  if (version === undefined) {
    yield* vault.readStream(p);
    return;
  }
  yield (await (await ctx.vault()).readVersion(p, version)).data;
}

const cat: Command = {
  usage: 'cat [-n] [-v N | --at POINT] PATH...',
  notes: [
    '-v N prints the file\'s content version N (the numbers avfs log shows), also for a deleted file.',
    '--json prints {path, content, size} (contentBase64 instead of content when the bytes are not UTF-8;',
    'with -v also version); one object for one PATH, an array for several.',
  ],
  flags: [
    { key: 'number', short: 'n', long: 'number', help: 'number the lines (GNU cat -n)' },
    { key: 'fileVersion', short: 'v', long: 'version', value: 'N', int: true, help: 'print content version N (see avfs log)' },
    AT_FLAG,
  ],
  min: 1,
  max: Infinity,
  async run(ctx: Context) {
    const version = ctx.flags.int('fileVersion');
    if (version !== undefined && ctx.flags.has('at')) throw usageError('cat: -v and --at cannot be combined (a version already names a point in the file\'s history)');
    if (version === 0) throw usageError('cat: -v: versions count from 1');
    const vault = await readOps(ctx);
    if (ctx.json) {
      const docs = [];
      for (const p of ctx.args) {
        const buf = version === undefined ? await vault.readFile(p) : (await (await ctx.vault()).readVersion(p, version)).data;
        const text = utf8OrUndefined(buf);
        const head = version === undefined ? { path: vault.abs(p) } : { path: vault.abs(p), version };
        docs.push(text === undefined ? { ...head, contentBase64: buf.toString('base64'), size: buf.length } : { ...head, content: text, size: buf.length });
      }
      await ctx.printJson(docs.length === 1 ? docs[0] : docs);
      return;
    }
    const numberer = ctx.flags.bool('number') ? new LineNumberer() : undefined;
    for (const p of ctx.args) {
      try {
        for await (const chunk of contentOf(vault, ctx, p, version)) {
          await ctx.out.write(numberer ? numberer.apply(chunk) : chunk);
          if (ctx.out.closed) return;
        }
      } catch (e) {
        await ctx.fail(e);
      }
    }
  },
};

export const commands: CommandModule = { cat };
