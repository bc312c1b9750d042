// memory add | search | get | list | forget: an agent's notes, with tags, searched by relevance.
import type { Command, CommandGroup, CommandModule, Context } from '../context.js';
import type { Memory } from '../../api/memory.js';
import { oneLine } from '../output.js';
import { STDIN_FLAG, TAG_FLAG, inputBytes, iso, limitFlag, sinceFlag, NO_AT } from './memory-common.js';

const withTime = (m: Memory): Memory & { time: string } => ({ ...m, time: iso(m.timeMs) });
const tagText = (tags: string[]): string => (tags.length ? `  [${tags.map(oneLine).join(', ')}]` : '');

const add: Command = {
  usage: 'memory add [--tag T]... [--stdin] TEXT',
  summary: 'store a memory; prints its id',
  notes: [
    'TEXT comes from the argument, or from stdin (--stdin, or no TEXT and stdin not a terminal; one',
    'final newline is dropped). --json: the memory {id, text, tags, timeMs, time, actor}.',
  ],
  flags: [{ ...TAG_FLAG, help: 'tag it (repeat for more tags)' }, { ...STDIN_FLAG, help: 'read TEXT from stdin' }],
  min: 0,
  max: 1,
  async run(ctx: Context) {
    let text = (await inputBytes(ctx, ctx.args[0], 'memory add', 'TEXT')).toString('utf8');
    // From stdin, the newline that ends the input is not part of the memory (as with $(...)).
    if (ctx.args[0] === undefined) text = text.replace(/\r?\n$/, '');
    const vault = await ctx.vault();
    const m = await vault.memoryAdd(text, { tags: ctx.flags.list('tag') });
    if (ctx.json) await ctx.printJson(withTime(m));
    else await ctx.print(`${m.id}\n`);
  },
};

const search: Command = {
  usage: 'memory search [--tag T]... [--limit N] QUERY',
  summary: 'memories matching QUERY, most relevant first (BM25)',
  notes: [
    'QUERY: words (all must match), "a phrase", prefix*, a OR b, a NOT b, ( ), as `search` takes them.',
    'Case and accents do not matter. One memory per line: ID  SCORE  TEXT  [tags].',
    '--json: [{id, score, text, tags, timeMs, time, actor}].',
  ],
  flags: [
    { ...TAG_FLAG, help: 'only memories with this tag (repeat: all of them)' },
    { key: 'limit', long: 'limit', short: 'n', value: 'N', int: true, help: 'at most N results (default 10)' },
  ],
  min: 1,
  max: 1,
  async run(ctx: Context) {
    const limit = limitFlag(ctx, 'memory search');
    const vault = await ctx.vault();
    const hits = await vault.memorySearch(ctx.args[0], { tags: ctx.flags.list('tag'), ...(limit ? { limit } : {}) });
    if (ctx.json) {
      await ctx.printJson(hits.map((h) => ({ ...withTime(h), score: Number(h.score.toFixed(6)) })));
      return;
    }
    const w = Math.max(0, ...hits.map((h) => String(h.id).length));
    await ctx.print(hits.map((h) => `${String(h.id).padStart(w)}  ${h.score.toFixed(3)}  ${oneLine(h.text)}${tagText(h.tags)}\n`).join(''));
  },
};

const get: Command = {
  usage: 'memory get ID',
  summary: 'print a memory\'s text',
  notes: ['--json: the memory {id, text, tags, timeMs, time, actor}.'],
  flags: [],
  min: 1,
  max: 1,
  async run(ctx: Context) {
    const vault = await ctx.vault();
    const m = await vault.memoryGet(ctx.args[0]);
    if (ctx.json) await ctx.printJson(withTime(m));
    else await ctx.print(m.text.endsWith('\n') ? m.text : `${m.text}\n`);
  },
};

const list: Command = {
  usage: 'memory list [--tag T]... [--since TIME] [--limit N]',
  summary: 'memories, newest first: ID  TIME  TEXT  [tags]',
  notes: ['TIME: ISO 8601 (2026-01-31T12:00) or 10m / 2h / 3d / 1w ago. --json: [{id, text, tags, timeMs, time, actor}].'],
  flags: [
    { ...TAG_FLAG, help: 'only memories with this tag (repeat: all of them)' },
    { key: 'since', long: 'since', value: 'TIME', help: 'only memories added at or after TIME' },
    { key: 'limit', long: 'limit', short: 'n', value: 'N', int: true, help: 'at most N memories' },
  ],
  min: 0,
  max: 0,
  async run(ctx: Context) {
    const limit = limitFlag(ctx, 'memory list');
    const since = await sinceFlag(ctx, 'memory list');
    const vault = await ctx.vault();
    const ms = await vault.memoryList({ tags: ctx.flags.list('tag'), ...(since !== undefined ? { since } : {}), ...(limit ? { limit } : {}) });
    if (ctx.json) {
      await ctx.printJson(ms.map(withTime));
      return;
    }
    const w = Math.max(0, ...ms.map((m) => String(m.id).length));
    await ctx.print(ms.map((m) => `${String(m.id).padStart(w)}  ${iso(m.timeMs).replace(/\.\d{3}Z$/, 'Z')}  ${oneLine(m.text)}${tagText(m.tags)}\n`).join(''));
  },
};

const forget: Command = {
  usage: 'memory forget ID',
  summary: 'delete a memory',
  notes: ['--json: the memory that was deleted.'],
  flags: [],
  min: 1,
  max: 1,
  async run(ctx: Context) {
    const vault = await ctx.vault();
    const m = await vault.memoryForget(ctx.args[0]);
    if (ctx.json) await ctx.printJson(withTime(m));
    else await ctx.note(`forgot memory ${m.id}`);
  },
};

export const memory: CommandGroup = {
  noAt: NO_AT,
  usage: 'memory add|search|get|list|forget',
  notes: [
    'Memories live in the vault beside its files, on every backend; every change is in `avfs audit`.',
    'Ids are 1, 2, 3... and never reused. Texts are limited by the vault setting memory_max_value_kb',
    '(default 1024 KiB).',
  ],
  sub: { add, search, get, list, forget },
};

export const commands: CommandModule = { memory };
