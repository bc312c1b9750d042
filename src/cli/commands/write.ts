// write: a file's content from the argument, or from stdin (bytes, binary-safe).
import type { Command, CommandModule, Context } from '../context.js';
import { usageError } from '../args.js';

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

const write: Command = {
  usage: 'write [-a] [--stdin] PATH [CONTENT]',
  notes: [
    'CONTENT comes from the argument; with --stdin, or when no CONTENT is given and stdin is not a',
    'terminal, stdin is read to the end. Missing parent folders are created. Prints nothing',
    '(--json: the file\'s stat).',
  ],
  flags: [
    { key: 'append', short: 'a', long: 'append', help: 'add to the end instead of replacing' },
    { key: 'stdin', long: 'stdin', help: 'read the content from stdin' },
  ],
  min: 1,
  max: 2,
  async run(ctx: Context) {
    const [path, content] = ctx.args;
    const fromStdin = ctx.flags.bool('stdin');
    if (fromStdin && content !== undefined) throw usageError('write: give CONTENT or --stdin, not both');
    if (!fromStdin && content === undefined && ctx.stdinIsTTY) {
      throw usageError('write: no CONTENT given and stdin is a terminal (pass CONTENT, or pipe the data in)');
    }
    const append = ctx.flags.bool('append');
    const vault = await ctx.vault();
    // Replacing from stdin streams: chunks are stored as they arrive, so a big input never sits
    // in memory whole, and the file changes in one step at the end. Appends are read first.
    const st =
      content === undefined && !append
        ? await vault.writeStream(path, ctx.stdin as AsyncIterable<Uint8Array>)
        : await vault.writeFile(path, content !== undefined ? Buffer.from(content) : await readAll(ctx.stdin), { append });
    if (ctx.json) await ctx.printJson(st);
  },
};

export const commands: CommandModule = { write };
