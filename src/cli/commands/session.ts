// session start | get | list | end: an agent's units of work, with an intent and a payload.
import type { Command, CommandGroup, CommandModule, Context } from '../context.js';
import type { Session } from '../../api/memory.js';
import { oneLine } from '../output.js';
import { iso, limitFlag, NO_AT } from './memory-common.js';

function withTimes(s: Session): Session & { started: string; ended?: string } {
  return { ...s, started: iso(s.startedMs), ...(s.endedMs !== undefined ? { ended: iso(s.endedMs) } : {}) };
}

const start: Command = {
  usage: 'session start [--intent ID] [--payload JSON]',
  summary: 'start a session; prints its id (--json: {"id": N, ...})',
  flags: [
    { key: 'intent', long: 'intent', value: 'ID', help: 'what the session is for (list --intent finds them)' },
    { key: 'payload', long: 'payload', value: 'JSON', help: 'any JSON value to keep with it' },
  ],
  min: 0,
  max: 0,
  async run(ctx: Context) {
    const payloadText = ctx.flags.str('payload');
    let payload: unknown;
    if (payloadText !== undefined) {
      const { parseJson } = await import('../../memory/common.js');
      payload = parseJson('--payload', payloadText);
    }
    const intent = ctx.flags.str('intent');
    const vault = await ctx.vault();
    const s = await vault.sessionStart({ ...(intent !== undefined ? { intent } : {}), ...(payloadText !== undefined ? { payload } : {}) });
    if (ctx.json) await ctx.printJson(withTimes(s));
    else await ctx.print(`${s.id}\n`);
  },
};

const get: Command = {
  usage: 'session get ID',
  summary: 'show a session',
  notes: ['--json: {id, intent?, payload?, startedMs, started, endedMs?, ended?, actor}.'],
  flags: [],
  min: 1,
  max: 1,
  async run(ctx: Context) {
    const vault = await ctx.vault();
    const s = await vault.sessionGet(ctx.args[0]);
    if (ctx.json) {
      await ctx.printJson(withTimes(s));
      return;
    }
    const lines = [
      `id:      ${s.id}`,
      `intent:  ${s.intent !== undefined ? oneLine(s.intent) : '-'}`,
      `started: ${iso(s.startedMs)}`,
      `ended:   ${s.endedMs !== undefined ? iso(s.endedMs) : '- (active)'}`,
      `actor:   ${oneLine(s.actor)}`,
      `payload: ${s.payload !== undefined ? JSON.stringify(s.payload) : '-'}`,
    ];
    await ctx.print(lines.join('\n') + '\n');
  },
};

const list: Command = {
  usage: 'session list [--intent ID] [--limit N]',
  summary: 'sessions, newest first: ID  STARTED  ENDED  INTENT',
  notes: ['--json: [{id, intent?, payload?, startedMs, started, endedMs?, ended?, actor}].'],
  flags: [
    { key: 'intent', long: 'intent', value: 'ID', help: 'only sessions with this intent' },
    { key: 'limit', long: 'limit', short: 'n', value: 'N', int: true, help: 'at most N sessions' },
  ],
  min: 0,
  max: 0,
  async run(ctx: Context) {
    const limit = limitFlag(ctx, 'session list');
    const intent = ctx.flags.str('intent');
    const vault = await ctx.vault();
    const ss = await vault.sessionList({ ...(intent !== undefined ? { intent } : {}), ...(limit ? { limit } : {}) });
    if (ctx.json) {
      await ctx.printJson(ss.map(withTimes));
      return;
    }
    const w = Math.max(0, ...ss.map((s) => String(s.id).length));
    const short = (ms: number): string => iso(ms).replace(/\.\d{3}Z$/, 'Z');
    await ctx.print(
      ss
        .map((s) => `${String(s.id).padStart(w)}  ${short(s.startedMs)}  ${s.endedMs !== undefined ? short(s.endedMs) : 'active'.padEnd(20)}  ${s.intent !== undefined ? oneLine(s.intent) : '-'}\n`)
        .join(''),
    );
  },
};

const end: Command = {
  usage: 'session end ID',
  summary: 'mark a session ended',
  flags: [],
  min: 1,
  max: 1,
  async run(ctx: Context) {
    const vault = await ctx.vault();
    const s = await vault.sessionEnd(ctx.args[0]);
    if (ctx.json) await ctx.printJson(withTimes(s));
    else await ctx.note(`ended session ${s.id}`);
  },
};

export const session: CommandGroup = {
  noAt: NO_AT,
  usage: 'session start|get|list|end',
  notes: ['Session ids are 1, 2, 3... in the order sessions start. Every change is in `avfs audit`.'],
  sub: { start, get, list, end },
};

export const commands: CommandModule = { session };
