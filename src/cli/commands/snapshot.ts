// snapshot save | list | restore | delete | diff. A snapshot names a point in the operation log
// (saving copies nothing); restore saves the current state as an automatic snapshot first.
import type { Command, CommandGroup, CommandModule, Context } from '../context.js';
import { oneLine, plural } from '../output.js';
import type { MemoryRef } from '../../memory/dump.js';
import { pointError, secondsTime, withTime } from './point.js';

/**
 * What `snapshot restore` takes: a snapshot name (an unknown one is "no snapshot named ..."),
 * or a point spelled with its prefix (`seq:42`, `time:2h`).
 */
function snapshotSpec(arg: string): string {
  return /^(snap|seq|time):/.test(arg) ? arg : `snap:${arg}`;
}

function memorySummary(m: MemoryRef): string {
  return `${plural(m.memories, 'memory', 'memories')}, ${plural(m.keys, 'key', 'keys')}, ${plural(m.sessions, 'session', 'sessions')}, ${plural(m.streams, 'stream', 'streams')}`;
}

const save: Command = {
  usage: 'snapshot save [--with-memory] [NAME]',
  summary: 'name the current state (copies nothing); NAME defaults to snap-YYYYMMDD-HHMMSS',
  notes: [
    'NAME: 1-128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit. --json: the snapshot.',
    'Agent memory (memories, kv, sessions, streams, state) has no history; --with-memory copies it into',
    'the snapshot (stored once however many snapshots hold the same state), and restore brings it back.',
  ],
  flags: [{ key: 'withMemory', long: 'with-memory', help: 'also save the agent memory with the snapshot' }],
  min: 0,
  max: 1,
  async run(ctx: Context) {
    const vault = await ctx.vault();
    const snap = await vault.saveSnapshot(ctx.args[0], { withMemory: ctx.flags.bool('withMemory') });
    if (ctx.json) await ctx.printJson(withTime(snap));
    else await ctx.note(`saved snapshot ${snap.name} (operation ${snap.seq}${snap.memory ? `, with agent memory: ${memorySummary(snap.memory)}` : ''})`);
  },
};

const list: Command = {
  usage: 'snapshot list',
  summary: 'list the snapshots, oldest first: name, operation, time, actor, auto (saved by restore), memory (saved with memory)',
  notes: ['--json: [{name, seq, timeMs, time, actor, auto, memory?: {hash, size, memories, keys, sessions, streams}}].'],
  flags: [],
  min: 0,
  max: 0,
  async run(ctx: Context) {
    const vault = await ctx.vault();
    const snaps = await vault.listSnapshots();
    if (ctx.json) {
      await ctx.printJson(snaps.map(withTime));
      return;
    }
    const rows = snaps.map((s) => [s.name, String(s.seq), secondsTime(s.timeMs), oneLine(s.actor), [s.auto ? 'auto' : '', s.memory ? 'memory' : ''].filter(Boolean).join(',')]);
    const w = [0, 1, 2, 3].map((i) => Math.max(0, ...rows.map((r) => r[i].length)));
    const line = (r: string[]): string =>
      `${r[0].padEnd(w[0])}  ${r[1].padStart(w[1])}  ${r[2]}  ${r[4] ? `${r[3].padEnd(w[3])}  ${r[4]}` : r[3]}\n`;
    await ctx.print(rows.map(line).join(''));
  },
};

const restore: Command = {
  usage: 'snapshot restore NAME [--keep-memory]',
  summary: 'make the tree what it was at a snapshot (the current state is saved first)',
  notes: [
    'Saves the current state as an automatic snapshot (auto-YYYYMMDD-HHMMSS), then changes the tree',
    'in one step: files added since are removed, removed ones come back, changed ones get their old',
    'content as a new version. Nothing is lost. NAME may also be seq:N or time:T (any point).',
    'A snapshot saved with --with-memory brings the agent memory back too (the automatic snapshot then',
    'holds the memory as it was); --keep-memory leaves memory alone. --json: {saved, to, memory, added, removed, changed}.',
  ],
  flags: [{ key: 'keepMemory', long: 'keep-memory', help: 'leave the agent memory as it is (restore files only)' }],
  min: 1,
  max: 1,
  async run(ctx: Context) {
    const vault = await ctx.vault();
    let r;
    try {
      r = await vault.restoreSnapshot(snapshotSpec(ctx.args[0]), { keepMemory: ctx.flags.bool('keepMemory') });
    } catch (e) {
      throw pointError('snapshot restore', e);
    }
    if (ctx.json) {
      await ctx.printJson({ ...r, saved: withTime(r.saved) });
      return;
    }
    await ctx.note(`saved the current state as snapshot ${r.saved.name}`);
    await ctx.note(`restored ${r.to.label}${r.memory ? ' and its agent memory' : ''}: ${r.added} added, ${r.removed} removed, ${r.changed} changed`);
  },
};

const del: Command = {
  usage: 'snapshot delete NAME',
  summary: 'forget a snapshot (history itself is kept; prune decides what goes)',
  flags: [],
  min: 1,
  max: 1,
  async run(ctx: Context) {
    const vault = await ctx.vault();
    await vault.deleteSnapshot(ctx.args[0]);
    if (ctx.json) await ctx.printJson({ ok: true, deleted: ctx.args[0] });
    else await ctx.note(`deleted snapshot ${ctx.args[0]}`);
  },
};

const diff: Command = {
  usage: 'snapshot diff A [B]',
  summary: 'paths added (A), removed (D) and changed (M) between two points (B defaults to now)',
  notes: [
    'A and B: snapshot names, operation numbers or times, as --at takes them. One path per line,',
    'sorted: "A /new", "D /gone", "M /changed". --json: {from, to, added, removed, changed}.',
  ],
  flags: [],
  min: 1,
  max: 2,
  async run(ctx: Context) {
    const vault = await ctx.vault();
    let d;
    try {
      d = await vault.diffPoints(ctx.args[0], ctx.args[1]);
    } catch (e) {
      throw pointError('snapshot diff', e);
    }
    if (ctx.json) {
      await ctx.printJson(d);
      return;
    }
    const show = (s: string): string => (ctx.out.isTTY ? oneLine(s) : s);
    const rows = [...d.added.map((p) => ['A', p]), ...d.removed.map((p) => ['D', p]), ...d.changed.map((p) => ['M', p])];
    // Bytewise (UTF-8) order, as ls sorts.
    rows.sort((x, y) => Buffer.compare(Buffer.from(x[1]), Buffer.from(y[1])));
    await ctx.print(rows.map(([k, p]) => `${k} ${show(p)}\n`).join(''));
  },
};

export const snapshot: CommandGroup = {
  usage: 'snapshot save|list|restore|delete|diff',
  notes: ['A snapshot is a name for a point in the operation log: use it with --at (ls, cat, tree, find, stat, export).'],
  sub: { save, list, restore, delete: del, diff },
};

export const commands: CommandModule = { snapshot };
