// state set | get | watch: one JSON value per vault that agents publish and others watch live.
import type { Command, CommandGroup, CommandModule, Context } from '../context.js';
import type { AgentState } from '../../api/memory.js';
import { vfsError } from '../../errors.js';
import { STDIN_FLAG, inputBytes, iso, untilStopped, NO_AT } from './memory-common.js';

const withTime = (s: AgentState): AgentState & { time: string } => ({ ...s, time: iso(s.timeMs) });

const set: Command = {
  usage: 'state set [--stdin] [JSON]',
  summary: 'publish the agent state (any JSON value)',
  notes: ['JSON comes from the argument, or from stdin (--stdin, or no JSON and stdin not a terminal).', '--json: {version, timeMs, time, actor, value}.'],
  flags: [{ ...STDIN_FLAG, help: 'read JSON from stdin' }],
  min: 0,
  max: 1,
  async run(ctx: Context) {
    const text = (await inputBytes(ctx, ctx.args[0], 'state set', 'JSON')).toString('utf8');
    const { parseJson } = await import('../../memory/common.js');
    const value = parseJson('state', text);
    const vault = await ctx.vault();
    const s = await vault.stateSet(value);
    if (ctx.json) await ctx.printJson(withTime(s));
    else await ctx.note(`state version ${s.version}`);
  },
};

const get: Command = {
  usage: 'state get',
  summary: 'print the current agent state (JSON)',
  notes: ['--json: {version, timeMs, time, actor, value}. ENOENT if no state was ever set.'],
  flags: [],
  min: 0,
  max: 0,
  async run(ctx: Context) {
    const vault = await ctx.vault();
    const s = await vault.stateGet();
    if (!s) throw vfsError('ENOENT', undefined, 'no agent state has been set in this vault');
    if (ctx.json) await ctx.printJson(withTime(s));
    else await ctx.print(`${JSON.stringify(s.value)}\n`);
  },
};

const watch: Command = {
  usage: 'state watch [--count N]',
  summary: 'print the current state, then each new one as any process sets it (one JSON per line)',
  notes: [
    'Runs until interrupted (Ctrl-C), or until N states were printed. No daemon: processes that set',
    'the state touch a marker file beside the vault, which wakes watchers (and watchers look every',
    '50 ms anyway). --json: {version, timeMs, time, actor, value} per line.',
  ],
  flags: [{ key: 'count', long: 'count', value: 'N', int: true, help: 'stop after N states' }],
  min: 0,
  max: 0,
  async run(ctx: Context) {
    const count = ctx.flags.int('count');
    if (count === 0) return;
    const vault = await ctx.vault();
    const stop = untilStopped(ctx);
    let n = 0;
    try {
      for await (const s of vault.stateWatch({ signal: stop.signal })) {
        await ctx.print(`${JSON.stringify(ctx.json ? withTime(s) : s.value)}\n`);
        if ((count !== undefined && ++n >= count) || stop.stopped()) break;
      }
    } finally {
      stop.dispose();
    }
  },
};

export const state: CommandGroup = {
  noAt: NO_AT,
  usage: 'state set|get|watch',
  notes: ['The state is limited by the vault setting memory_max_value_kb (default 1024 KiB). Every set is in `avfs audit`.'],
  sub: { set, get, watch },
};

export const commands: CommandModule = { state };
