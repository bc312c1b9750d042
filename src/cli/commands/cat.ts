// cat: raw bytes to stdout, streamed (a big file never sits in memory whole), -n like GNU.
import type { Command, CommandModule, Context } from '../context.js';

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

const cat: Command = {
  usage: 'cat [-n] PATH...',
  notes: [
    '--json prints {path, content, size} (contentBase64 instead of content when the bytes are not UTF-8);',
    'one object for one PATH, an array for several.',
  ],
  flags: [{ key: 'number', short: 'n', long: 'number', help: 'number the lines (GNU cat -n)' }],
  min: 1,
  max: Infinity,
  async run(ctx: Context) {
    const vault = await ctx.vault();
    if (ctx.json) {
      const docs = [];
      for (const p of ctx.args) {
        const buf = await vault.readFile(p);
        const text = utf8OrUndefined(buf);
        docs.push(text === undefined ? { path: vault.abs(p), contentBase64: buf.toString('base64'), size: buf.length } : { path: vault.abs(p), content: text, size: buf.length });
      }
      await ctx.printJson(docs.length === 1 ? docs[0] : docs);
      return;
    }
    const numberer = ctx.flags.bool('number') ? new LineNumberer() : undefined;
    for (const p of ctx.args) {
      try {
        for await (const chunk of vault.readStream(p)) {
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
