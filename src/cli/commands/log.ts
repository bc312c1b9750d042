// log, checkout, revert, audit: a file's versions, bringing one back, and the operation log.
// Everything is read from the library (vault.history, changesBelow, audit); this file only
// chooses what to show and lays it out, one record per line.
import type { Stat } from '../../api/types.js';
import type { HistoryEntry, Removal, Version } from '../../history/versions.js';
import type { OpRecord } from '../../core/records.js';
import type { AuditFilter } from '../../api/history.js';
import type { Command, CommandModule, Context } from '../context.js';
import { isVfsError } from '../../errors.js';
import { usageError } from '../args.js';
import { humanBytes, oneLine } from '../output.js';
import { isoSeconds, secondsTime, withTime } from './point.js';

const isRemoval = (e: HistoryEntry): e is Removal => 'removed' in e;

/** An operation's paths for a record line: `a -> b` for a move or copy, else space-separated. */
function pathsText(rec: { op: string; paths: string[]; info?: Record<string, unknown> }): string {
  // Agent-memory operations touch no path; they name what they touched in info.target.
  if (rec.paths.length === 0 && typeof rec.info?.target === 'string') return rec.info.target;
  return rec.paths.length === 2 && (rec.op === 'rename' || rec.op === 'copy') ? `${rec.paths[0]} -> ${rec.paths[1]}` : rec.paths.join(' ');
}

/** Rows of columns, each column padded to its widest cell (the last one is not padded). */
function table(rows: string[][], rightAligned: ReadonlySet<number> = new Set()): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : rightAligned.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ') + '\n')
    .join('');
}

/** `seq  time  actor  op  paths  [refused: CODE]`, one line per record (control characters escaped). */
export function recordLines(recs: readonly OpRecord[], oneline: boolean): string {
  if (oneline) {
    return recs.map((r) => oneLine(`${r.seq} ${r.op} ${pathsText(r)}${r.outcome ? ` refused:${r.outcome}` : ''} ${isoSeconds(r.timeMs)}`) + '\n').join('');
  }
  return table(
    recs.map((r) => [String(r.seq), secondsTime(r.timeMs), oneLine(r.actor), r.op, oneLine(pathsText(r)) + (r.outcome ? `  [refused: ${r.outcome}]` : '')]),
    new Set([0]),
  );
}

function versionCells(v: Version, path: string): { label: string; size: string; id: string; actor: string; op: string } {
  const id = v.hash?.slice(0, 8) ?? (v.type === 'symlink' ? 'symlink' : 'folder');
  // Where the version was made, when that was another path (the file was renamed since).
  const covers = (p: string): boolean => p === path || p === '/' || path.startsWith(p + '/');
  const where = v.paths.some(covers) ? '' : ` ${pathsText(v)}`;
  return { label: `v${v.version}`, size: v.type === 'file' ? humanBytes(v.size) : '-', id, actor: oneLine(v.actor), op: oneLine(v.op + where) };
}

function historyLines(entries: readonly HistoryEntry[], path: string, oneline: boolean): string {
  if (oneline) {
    return entries
      .map((e) => {
        if (isRemoval(e)) return `deleted ${e.op} ${isoSeconds(e.timeMs)}\n`;
        const c = versionCells(e, path);
        return `${c.label} ${c.id} ${c.op} ${isoSeconds(e.timeMs)}\n`;
      })
      .join('');
  }
  const cells = entries.map((e) => (isRemoval(e) ? undefined : versionCells(e, path)));
  const w = (f: (c: NonNullable<(typeof cells)[number]>) => string, min = 0): number => Math.max(min, ...cells.map((c) => (c ? f(c).length : 0)));
  const wl = Math.max(w((c) => c.label), entries.some(isRemoval) ? 'deleted'.length : 0);
  const ws = w((c) => c.size);
  const wi = w((c) => c.id);
  const wa = w((c) => c.actor);
  return entries
    .map((e, i) => {
      const time = secondsTime(e.timeMs);
      if (isRemoval(e)) return `${'deleted'.padEnd(wl)}  ${time}  ${oneLine(e.actor)}  ${oneLine(e.op)}\n`;
      const c = cells[i]!;
      return `${c.label.padEnd(wl)}  ${time}  ${c.size.padStart(ws)}  ${c.id.padEnd(wi)}  ${c.actor.padEnd(wa)}  ${c.op}\n`;
    })
    .join('');
}

function positive(n: number | undefined, flag: string, what: string): number | undefined {
  if (n === 0) throw usageError(`${what}: ${flag} must be at least 1`);
  return n;
}

const log: Command = {
  usage: 'log [-n N] [--oneline] [PATH]',
  notes: [
    'A file (also one deleted since): its content versions and removals, newest first:',
    '  v3  2026-11-21 23:36:01  1.2 KiB  3f2a9c1e  alice  write',
    '  deleted  2026-11-21 23:40:12  alice  unlink',
    'A folder (default "."): the operations that touched it or anything below it, newest first',
    '(the last 100 unless -n): seq, time, actor, operation, paths.',
    'The version numbers are the ones cat -v, diff -v and checkout take.',
    '--json: the library\'s entries (times as timeMs and ISO 8601 time), newest first.',
  ],
  flags: [
    { key: 'count', short: 'n', long: 'max-count', value: 'N', int: true, help: 'show at most N entries' },
    { key: 'oneline', long: 'oneline', help: 'one compact line per entry: v3 3f2a9c1e write 2026-11-21T23:36:01Z' },
  ],
  min: 0,
  max: 1,
  async run(ctx: Context) {
    const n = positive(ctx.flags.int('count'), '-n', 'log');
    const oneline = ctx.flags.bool('oneline');
    const vault = await ctx.vault();
    const path = ctx.args[0] ?? '.';
    // A path that is gone now is looked up in its history; only a folder that exists lists operations.
    const st = await vault.lstat(path).catch((e: unknown) => {
      if (isVfsError(e, 'ENOENT')) return undefined;
      throw e;
    });
    if (st?.type === 'directory') {
      const recs = await vault.changesBelow(path, { limit: n ?? 100 });
      if (ctx.json) await ctx.printJson(recs.map(withTime));
      else await ctx.print(recordLines(recs, oneline));
      return;
    }
    const entries = await vault.history(path, n === undefined ? {} : { limit: n });
    if (ctx.json) await ctx.printJson(entries.map(withTime));
    else await ctx.print(historyLines(entries, vault.abs(path), oneline));
  },
};

/** `3`, or `v3` as log prints it. */
function versionArg(raw: string, what: string): number {
  const m = /^v?(\d+)$/.exec(raw);
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw usageError(`${what}: bad version "${raw}" (a number from 1, as avfs log shows them)`);
  return n;
}

async function reportRestored(ctx: Context, verb: string, st: Stat, from: number): Promise<void> {
  if (ctx.json) await ctx.printJson(st);
  else await ctx.note(`${verb} ${st.path} to version ${from} as version ${st.version}`);
}

const checkout: Command = {
  usage: 'checkout PATH N',
  summary: 'make version N of a file its content again (as a new version)',
  notes: [
    'Works for a deleted file too (it comes back, with its folders). Nothing is lost: the content',
    'it had stays in its history. --json prints the file\'s new Stat.',
  ],
  flags: [],
  min: 2,
  max: 2,
  async run(ctx: Context) {
    const [path, raw] = ctx.args;
    const version = versionArg(raw, 'checkout');
    const vault = await ctx.vault();
    const st = await vault.checkout(path, version);
    await reportRestored(ctx, 'restored', st, version);
  },
};

const revert: Command = {
  usage: 'revert PATH',
  summary: 'go back to the content a file had before its last change (as a new version)',
  notes: ['--json prints the file\'s new Stat.'],
  flags: [],
  min: 1,
  max: 1,
  async run(ctx: Context) {
    const vault = await ctx.vault();
    const st = await vault.revert(ctx.args[0]);
    // The version it went back to: the newest earlier one holding the content it has now.
    const earlier = (await vault.history(st.path)).find((e): e is Version => !isRemoval(e) && e.version < st.version && e.hash === st.hash);
    await reportRestored(ctx, 'reverted', st, earlier?.version ?? st.version - 1);
  },
};

const audit: Command = {
  usage: 'audit [--limit N] [--op OP]... [--path PREFIX] [--since TIME] [--actor NAME] [--oneline]',
  notes: [
    'The operation log, newest first, one operation per line:',
    '  seq  time  actor  op  paths  [refused: CODE]',
    'Every change is recorded, from every interface, and so are refused changes (with their error).',
    '--op may be repeated (any of them matches). --since takes a time as --at does: ISO 8601',
    '(2026-01-31T12:00) or 10m / 2h / 3d / 1w ago. --actor here filters by who did it; to record',
    'a name for your own changes, put --actor before the command. --json: the records, with times.',
  ],
  flags: [
    { key: 'limit', long: 'limit', value: 'N', int: true, help: 'at most N records (default 100)' },
    { key: 'op', long: 'op', value: 'OP', multi: true, help: 'only this operation (write, unlink, rename, snapshot.save, ...)' },
    { key: 'path', long: 'path', value: 'PREFIX', help: 'only operations on this path or below it' },
    { key: 'since', long: 'since', value: 'TIME', help: 'only operations at or after this time' },
    { key: 'byActor', long: 'actor', value: 'NAME', help: 'only operations by this actor' },
    { key: 'oneline', long: 'oneline', help: 'compact lines: seq op paths time' },
  ],
  min: 0,
  max: 0,
  async run(ctx: Context) {
    const f = ctx.flags;
    const filter: AuditFilter = {};
    const limit = positive(f.int('limit'), '--limit', 'audit');
    if (limit !== undefined) filter.limit = limit;
    const ops = f.list('op');
    if (ops.length > 0) filter.ops = ops;
    const path = f.str('path');
    if (path !== undefined) filter.path = path;
    const actor = f.str('byActor');
    if (actor !== undefined) filter.actor = actor;
    const since = f.str('since');
    if (since !== undefined) {
      const { parseTime } = await import('../../history/at.js');
      const t = parseTime(since);
      if (t === undefined) throw usageError(`audit: --since: "${since}" is not a time (ISO 8601 like 2026-01-31T12:00, or 10m / 2h / 3d / 1w ago)`);
      filter.sinceMs = t;
    }
    const vault = await ctx.vault();
    const recs = await vault.audit(filter);
    if (ctx.json) await ctx.printJson(recs.map(withTime));
    else await ctx.print(recordLines(recs, f.bool('oneline')));
  },
};

export const commands: CommandModule = { log, checkout, revert, audit };
