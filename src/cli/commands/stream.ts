// stream append | cat | list | trim: named append-only byte logs; `cat --follow` is tail -f
// across processes.
import type { Command, CommandGroup, CommandModule, Context } from '../context.js';
import { usageError } from '../args.js';
import { oneLine } from '../output.js';
import { STDIN_FLAG, inputBytes, iso, untilStopped, NO_AT } from './memory-common.js';

const append: Command = {
  usage: 'stream append [--stdin] [-l] KEY [DATA]',
  summary: 'append DATA (bytes, as given) to stream KEY, creating it',
  notes: [
    'DATA comes from the argument, or from stdin (--stdin, or no DATA and stdin not a terminal).',
    'Each append is stored whole, durably, at the byte offset where it starts; readers never see a',
    'part of one. --json: {name, offset, size, next}.',
  ],
  flags: [{ ...STDIN_FLAG, help: 'read DATA from stdin' }, { key: 'line', short: 'l', long: 'line', help: 'append DATA as a line (a newline after it)' }],
  min: 1,
  max: 2,
  async run(ctx: Context) {
    const [key, arg] = ctx.args;
    let data = await inputBytes(ctx, arg, 'stream append', 'DATA');
    if (ctx.flags.bool('line')) data = Buffer.concat([data, Buffer.from('\n')]);
    const vault = await ctx.vault();
    const r = await vault.streamAppend(key, data);
    if (ctx.json) await ctx.printJson(r);
    else await ctx.note(`appended ${r.size} bytes to ${oneLine(r.name)} at offset ${r.offset}`);
  },
};

const cat: Command = {
  usage: 'stream cat [--from OFFSET] [-f] KEY',
  summary: 'print a stream\'s bytes; -f keeps waiting for appends from any process (like tail -f)',
  notes: [
    'Starts at the first append at or after byte OFFSET (default 0). With -f it runs until',
    'interrupted (Ctrl-C), also waiting for a stream that does not exist yet. --json: one line per',
    'append: {offset, size, timeMs, time, value, encoding (utf8 or base64)}.',
  ],
  flags: [
    { key: 'from', long: 'from', value: 'OFFSET', int: true, help: 'start at the append at or after this byte offset' },
    { key: 'follow', short: 'f', long: 'follow', help: 'wait for new appends instead of stopping at the end' },
  ],
  min: 1,
  max: 1,
  async run(ctx: Context) {
    const follow = ctx.flags.bool('follow');
    const from = ctx.flags.int('from') ?? 0;
    const vault = await ctx.vault();
    const stop = follow ? untilStopped(ctx) : undefined;
    const encode = ctx.json ? (await import('../../memory/common.js')).encodeValue : undefined;
    try {
      for await (const e of vault.streamEntries(ctx.args[0], { from, follow, ...(stop ? { signal: stop.signal } : {}) })) {
        if (encode) await ctx.printJson({ offset: e.offset, size: e.data.length, timeMs: e.timeMs, time: iso(e.timeMs), ...encode(e.data) });
        else await ctx.out.write(e.data);
        if (ctx.out.closed || stop?.stopped()) break;
      }
    } finally {
      stop?.dispose();
    }
  },
};

const list: Command = {
  usage: 'stream list',
  summary: 'streams: NAME  APPENDS  BYTES  FIRST  NEXT  UPDATED',
  notes: ['BYTES: kept (NEXT - FIRST). --json: [{name, first, next, count, createdMs, updatedMs}].'],
  flags: [],
  min: 0,
  max: 0,
  async run(ctx: Context) {
    const vault = await ctx.vault();
    const heads = await vault.streamList();
    if (ctx.json) {
      await ctx.printJson(heads);
      return;
    }
    const rows = heads.map((h) => [oneLine(h.name), String(h.count), String(h.next - h.first), String(h.first), String(h.next), iso(h.updatedMs).replace(/\.\d{3}Z$/, 'Z')]);
    const w = [0, 1, 2, 3, 4].map((i) => Math.max(0, ...rows.map((r) => r[i].length)));
    await ctx.print(rows.map((r) => `${r[0].padEnd(w[0])}  ${[1, 2, 3, 4].map((i) => r[i].padStart(w[i])).join('  ')}  ${r[5]}\n`).join(''));
  },
};

const trim: Command = {
  usage: 'stream trim --before OFFSET KEY',
  summary: 'remove the appends that start before byte OFFSET',
  notes: ['Offsets are not reused: the stream keeps counting from where it was. --json: {name, removed, bytes, first}.'],
  flags: [{ key: 'before', long: 'before', value: 'OFFSET', int: true, help: 'remove appends starting before this byte offset' }],
  min: 1,
  max: 1,
  async run(ctx: Context) {
    const before = ctx.flags.int('before');
    if (before === undefined) throw usageError('stream trim: --before OFFSET is required');
    const vault = await ctx.vault();
    const r = await vault.streamTrim(ctx.args[0], before);
    if (ctx.json) await ctx.printJson(r);
    else await ctx.note(`removed ${r.removed} appends (${r.bytes} bytes) from ${oneLine(r.name)}; it now starts at offset ${r.first}`);
  },
};

export const stream: CommandGroup = {
  noAt: NO_AT,
  usage: 'stream append|cat|list|trim',
  notes: ['Appends are limited by the vault setting memory_max_value_kb (default 1024 KiB). Every change is in `avfs audit`.'],
  sub: { append, cat, list, trim },
};

export const commands: CommandModule = { stream };
