// Tools over the vault's history: file_history, restore_version, diff, snapshot_save,
// snapshot_list, snapshot_restore, audit. They are front ends over the library's history API
// (docs/history.md). With --root, history reads are checked against the root first, and
// whole-vault results (audit, a diff of two points) are cut down to the root.
import { z } from 'zod';
import { vfsError, isVfsError, VfsError } from '../../errors.js';
import { isWithin } from '../../core/paths.js';
import { unifiedDiff } from '../../util/diff.js';
import type { HistoryEntry } from '../../history/versions.js';
import type { AuditFilter } from '../../api/history.js';
import type { FileOps } from '../../api/fileops.js';
import { tool, pathArg, utf8OrUndefined, humanBytes, oneLine, type ToolDef, READ_ONLY } from '../common.js';
import type { Session } from '../session.js';

const int = (min: number, max = Number.MAX_SAFE_INTEGER): z.ZodNumber => z.number().int().min(min).max(max);
const iso = (ms: number): string => new Date(ms).toISOString();

const historyEntry = z.object({
  version: z.number().optional().describe('content version (absent for a removal)'),
  removed: z.boolean().describe('true: the path was deleted (or moved away) by this operation'),
  time: z.string(),
  actor: z.string(),
  op: z.string(),
  seq: z.number().describe('operation number (usable as `at`)'),
  type: z.enum(['file', 'directory', 'symlink']).optional(),
  size: z.number().optional(),
  hash: z.string().optional(),
  target: z.string().optional(),
});

function entryOut(e: HistoryEntry): z.infer<typeof historyEntry> {
  const base = { time: iso(e.timeMs), actor: e.actor, op: e.op, seq: e.seq };
  if ('removed' in e) return { ...base, removed: true };
  return {
    ...base,
    removed: false,
    version: e.version,
    type: e.type,
    size: e.size,
    ...(e.hash !== undefined ? { hash: e.hash } : {}),
    ...(e.target !== undefined ? { target: e.target } : {}),
  };
}

/** The canonical path of a history subject: checked against the root, not followed at the end. */
function historyPath(s: Session, path: string): Promise<string> {
  return s.read((ops) => s.resolve(ops, path, false));
}

const fileHistory = tool({
  name: 'file_history',
  title: 'File history',
  description:
    'The versions of a file, newest first: version number, time, who made it (actor), the operation, size and hash; deletions are listed too. Works for files deleted since. ' +
    'Read an old version with read_file (`version`), compare with diff, bring one back with restore_version.',
  input: {
    path: pathArg(),
    limit: int(1, 10_000).optional().describe('most entries to return (default 50)'),
  },
  output: { path: z.string(), entries: z.array(historyEntry) },
  ...READ_ONLY,
  async run(a, s) {
    const p = await historyPath(s, a.path);
    const entries = (await s.vault.history(p, { limit: a.limit ?? 50 })).map(entryOut);
    const lines = entries.map((e) =>
      e.removed ? `removed     ${e.time}  ${e.actor}  ${e.op} (#${e.seq})` : `version ${String(e.version).padEnd(3)} ${e.time}  ${e.actor}  ${e.op} (#${e.seq})  ${humanBytes(e.size ?? 0)}`,
    );
    return { text: [`${s.out(p)}:`, ...lines].join('\n'), data: { path: s.out(p), entries } };
  },
});

const restoreVersion = tool({
  name: 'restore_version',
  title: 'Restore a file version',
  description:
    "Make version N of a file (see file_history) its content again. This writes a new version, so nothing is lost and the restore itself can be undone. Also brings back a deleted file (and its folders).",
  input: {
    path: pathArg(),
    version: int(1).describe('the version to bring back'),
  },
  output: { path: z.string(), restoredVersion: z.number(), version: z.number().describe('the new current version'), size: z.number() },
  mutates: true,
  destructiveHint: true,
  idempotentHint: false,
  async run(a, s) {
    // checkout writes through a symlink at the path: where it leads must be inside the root too.
    const p = await s.read(async (ops) => {
      await s.resolve(ops, a.path, true);
      return s.resolve(ops, a.path, false);
    });
    const st = await s.vault.checkout(p, a.version);
    const data = { path: s.out(st.path), restoredVersion: a.version, version: st.version, size: st.size };
    return { text: `${data.path}: version ${a.version} restored as version ${st.version}`, data };
  },
});

/** Each side of a diff is held in memory, with its lines: up to this size. */
const MAX_DIFF = 32 * 1024 * 1024;

/** A file's content for a diff, refused before it is read when it is too big to compare. */
async function readCapped(ops: FileOps, p: string): Promise<Buffer> {
  const st = await ops.stat(p);
  if (st.size > MAX_DIFF) throw vfsError('EFBIG', p, `${humanBytes(st.size)} is more than diff compares (${humanBytes(MAX_DIFF)})`);
  return ops.readFile(p);
}

interface Side {
  label: string;
  data: Buffer;
}

const diff = tool({
  name: 'diff',
  title: 'Compare',
  description:
    'Unified diff (as diff -u) of text. Give `path` and: nothing else (the previous version against the current content), `from_version` (and optionally `to_version`; default the current content), ' +
    '`from` (and optionally `to`: snapshot names, operation numbers or times; default now) to compare the file at two points, or `other_path` to compare two files now. ' +
    'Without `path`, `from` (and `to`) lists the paths added, removed and changed between two points in the whole vault.',
  input: {
    path: pathArg().optional().describe('the file to compare'),
    other_path: z.string().optional().describe('compare `path` with this file (both now)'),
    from_version: int(1).optional().describe('the older version of `path`'),
    to_version: int(1).optional().describe('the newer version (default: the current content)'),
    from: z.string().optional().describe('the older point: a snapshot name, an operation number or a time'),
    to: z.string().optional().describe('the newer point (default: now)'),
    context: int(0, 1000).optional().describe('lines of context around changes (default 3)'),
  },
  output: {
    from: z.string().describe('what the old side is'),
    to: z.string().describe('what the new side is'),
    identical: z.boolean(),
    binary: z.boolean().optional().describe('true when a side is not text (no line diff then)'),
    diff: z.string().optional().describe('the unified diff (file comparisons)'),
    added: z.array(z.string()).optional().describe('paths that appeared (point comparisons)'),
    removed: z.array(z.string()).optional(),
    changed: z.array(z.string()).optional(),
  },
  ...READ_ONLY,
  async run(a, s) {
    const versions = a.from_version !== undefined || a.to_version !== undefined;
    const points = a.from !== undefined || a.to !== undefined;
    const modes = [versions, points, a.other_path !== undefined].filter(Boolean).length;
    if (modes > 1) throw vfsError('EINVAL', undefined, 'diff: give versions, points (from/to) or other_path, not a mix');
    if (a.path === undefined) {
      if (a.from === undefined) throw vfsError('EINVAL', undefined, 'diff: give a path, or `from` (a snapshot, operation number or time) to compare the whole vault');
      const d = await s.vault.diffPoints(a.from, a.to).catch(pointError);
      const keep = (list: string[]): string[] => list.filter((p) => isWithin(p, s.confine.root)).map((p) => s.out(p));
      const out = { from: d.from.label, to: d.to.label, added: keep(d.added), removed: keep(d.removed), changed: keep(d.changed) };
      const identical = out.added.length + out.removed.length + out.changed.length === 0;
      const lines = [...out.added.map((p) => `A ${p}`), ...out.removed.map((p) => `D ${p}`), ...out.changed.map((p) => `M ${p}`)].sort((x, y) => (x.slice(2) < y.slice(2) ? -1 : 1));
      return { text: identical ? `no changes between ${out.from} and ${out.to}` : lines.join('\n'), data: { ...out, identical } };
    }
    const path = a.path;
    let sides: [Side, Side];
    if (a.other_path !== undefined) {
      const other = a.other_path;
      sides = await s.read(async (ops) => {
        const p = await s.resolve(ops, path, true);
        const q = await s.resolve(ops, other, true);
        return [
          { label: s.out(p), data: await readCapped(ops, p) },
          { label: s.out(q), data: await readCapped(ops, q) },
        ];
      });
    } else if (points) {
      const from = a.from ?? 'now';
      const at = async (point: string | undefined): Promise<Side> =>
        s.readAt(point, async (ops, label) => {
          const p = await s.resolve(ops, path, true);
          return { label: `${s.out(p)} (${label ?? 'now'})`, data: await readCapped(ops, p) };
        });
      sides = [await at(from), await at(a.to)];
    } else {
      const p = await historyPath(s, path);
      const shown = s.out(p);
      const version = async (n: number): Promise<Side> => ({ label: `${shown} (version ${n})`, data: (await s.vault.readVersion(p, n)).data });
      const current = async (): Promise<Side> =>
        s.read(async (ops) => {
          // The content now is read through a symlink at the path: where it leads is checked too.
          const q = await s.resolve(ops, path, true);
          const st = await ops.stat(q);
          return { label: `${shown} (version ${st.version}, current)`, data: await readCapped(ops, q) };
        });
      if (a.from_version !== undefined) {
        sides = [await version(a.from_version), a.to_version !== undefined ? await version(a.to_version) : await current()];
      } else if (a.to_version !== undefined) {
        throw vfsError('EINVAL', undefined, 'diff: to_version needs from_version');
      } else {
        // Nothing said: what did the last change do?
        const versions = (await s.vault.history(p, { limit: 50 })).filter((e) => !('removed' in e) && e.type === 'file');
        if (versions.length < 2) throw vfsError('EINVAL', p, 'only one version: nothing to compare with (give other_path, or from/to)');
        const [newest, previous] = versions as { version: number }[];
        sides = [await version(previous.version), await version(newest.version)];
      }
    }
    const [A, B] = sides;
    for (const side of sides) {
      if (side.data.length > MAX_DIFF) throw vfsError('EFBIG', undefined, `${side.label}: ${humanBytes(side.data.length)} is more than diff compares (${humanBytes(MAX_DIFF)})`);
    }
    const identical = A.data.equals(B.data);
    const ta = identical ? '' : utf8OrUndefined(A.data);
    const tb = identical ? '' : utf8OrUndefined(B.data);
    if (ta === undefined || tb === undefined) {
      return { text: `Binary files ${A.label} and ${B.label} differ`, data: { from: A.label, to: B.label, identical: false, binary: true } };
    }
    const patch = identical ? '' : unifiedDiff(ta, tb, A.label, B.label, { context: a.context ?? 3 });
    return { text: identical ? `${A.label} and ${B.label} are identical` : patch, data: { from: A.label, to: B.label, identical, binary: false, diff: patch } };
  },
});

function pointError(e: unknown): never {
  if (isVfsError(e)) throw new VfsError(e.code, `point: ${e.message}`);
  throw e;
}

const snapshotShape = z.object({
  name: z.string(),
  seq: z.number().describe('the operation number it names'),
  time: z.string(),
  actor: z.string(),
  auto: z.boolean().describe('saved automatically by snapshot_restore'),
  memory: z.boolean().describe('the agent memory (memories, kv, sessions, streams, state) was saved with it; snapshot_restore brings it back'),
});

const snapshotSave = tool({
  name: 'snapshot_save',
  title: 'Save a snapshot',
  description:
    'Name the current state of the whole vault so it can be read (`at`), compared (diff `from`) or restored (snapshot_restore) later. Instant whatever the vault size: it copies nothing. ' +
    "Take one before a risky change. Names: letters, digits, '.', '_', ':', '-' (not only digits); omit the name for snap-YYYYMMDD-HHMMSS.",
  input: {
    name: z.string().optional().describe("e.g. 'before-refactor'"),
    with_memory: z.boolean().optional().describe('also save the agent memory (memories, kv, sessions, streams, state), which has no history of its own; snapshot_restore then brings it back'),
  },
  output: snapshotShape.shape,
  mutates: true,
  destructiveHint: false,
  idempotentHint: false,
  async run(a, s) {
    const snap = await s.vault.saveSnapshot(a.name, { withMemory: a.with_memory });
    const data = { name: snap.name, seq: snap.seq, time: iso(snap.timeMs), actor: snap.actor, auto: snap.auto, memory: snap.memory !== undefined };
    return { text: `saved snapshot ${snap.name} (operation ${snap.seq}${data.memory ? ', with agent memory' : ''})`, data };
  },
});

const snapshotList = tool({
  name: 'snapshot_list',
  title: 'List snapshots',
  description: 'The snapshots of the vault, oldest first: name, the operation number it names, time, who saved it, and whether snapshot_restore saved it automatically.',
  input: {},
  output: { snapshots: z.array(snapshotShape) },
  ...READ_ONLY,
  async run(_a, s) {
    const snaps = (await s.vault.listSnapshots()).map((x) => ({ name: x.name, seq: x.seq, time: iso(x.timeMs), actor: x.actor, auto: x.auto, memory: x.memory !== undefined }));
    const text = snaps.length === 0 ? 'no snapshots' : snaps.map((x) => `${x.name}  ${x.time}  #${x.seq}  ${x.actor}${x.auto ? '  (auto)' : ''}${x.memory ? '  (with memory)' : ''}`).join('\n');
    return { text, data: { snapshots: snaps } };
  },
});

const snapshotRestore = tool({
  name: 'snapshot_restore',
  title: 'Restore a snapshot',
  description:
    'Make the whole vault as it was at a snapshot: files added since are removed, removed ones come back, changed ones get their old content (as new versions). ' +
    'The current state is saved first as an automatic snapshot (its name is returned), so the restore can itself be undone. Takes a snapshot name (see snapshot_list).',
  input: {
    name: z.string().describe('the snapshot to restore'),
    keep_memory: z.boolean().optional().describe('leave the agent memory as it is even when the snapshot holds memory'),
  },
  output: {
    restored: z.string(),
    memory: z.boolean().describe('the agent memory was restored too (the snapshot holds memory)'),
    to: z.string().describe('the point restored'),
    saved: z.string().describe('the automatic snapshot of the state before the restore'),
    added: z.number(),
    removed: z.number(),
    changed: z.number(),
  },
  mutates: true,
  wholeVault: true,
  destructiveHint: true,
  idempotentHint: false,
  async run(a, s) {
    // A name is a snapshot name (as `avfs snapshot restore` reads it), unless written seq:N or time:T.
    const r = await s.vault.restoreSnapshot(/^(snap|seq|time):/.test(a.name) ? a.name : `snap:${a.name}`, { keepMemory: a.keep_memory });
    const data = { restored: a.name, memory: r.memory, to: r.to.label, saved: r.saved.name, added: r.added, removed: r.removed, changed: r.changed };
    const mem = r.memory ? ' and the agent memory' : '';
    return { text: `restored ${r.to.label}${mem}: ${r.added} added, ${r.removed} removed, ${r.changed} changed (the state before is snapshot ${r.saved.name})`, data };
  },
});

const auditRecord = z.object({
  seq: z.number(),
  time: z.string(),
  op: z.string(),
  paths: z.array(z.string()),
  actor: z.string(),
  outcome: z.string().optional().describe('the error code when the operation was refused (nothing changed)'),
  info: z.record(z.unknown()).optional(),
});

const audit = tool({
  name: 'audit',
  title: 'Operation log',
  description:
    'The operation log, newest first: every change to the vault (from this server, the CLI or any other client) with its operation number, time, operation, paths and actor (for MCP clients, the client name), ' +
    'and refused changes with their error code. Filter by `path` (that path and everything below it), `op` (e.g. write, rename, rm), `actor`, `since` (a time: ISO 8601, or 10m / 2h / 3d ago).',
  input: {
    limit: int(1, 1000).optional().describe('most records to return (default 50)'),
    path: z.string().optional().describe('only operations on this path or below it'),
    op: z.array(z.string()).optional().describe('only these operations'),
    actor: z.string().optional().describe('only operations by this actor'),
    since: z.string().optional().describe("only operations at or after this time: ISO 8601, or '10m', '2h', '3d' ago"),
  },
  output: { records: z.array(auditRecord) },
  ...READ_ONLY,
  async run(a, s) {
    const filter: AuditFilter = { limit: a.limit ?? 50 };
    if (a.op && a.op.length > 0) filter.ops = a.op;
    if (a.actor !== undefined) filter.actor = a.actor;
    if (a.path !== undefined) filter.path = s.confine.lexical(a.path);
    else if (s.confine.confined) filter.path = s.confine.root;
    if (a.since !== undefined) {
      const { parseTime } = await import('../../history/at.js');
      const t = parseTime(a.since);
      if (t === undefined) throw vfsError('EINVAL', undefined, `since: "${a.since}" is not a time (ISO 8601 like 2026-01-31T12:00, or 10m / 2h / 3d / 1w ago)`);
      filter.sinceMs = t;
    }
    const records = (await s.vault.audit(filter)).map((r) => {
      const paths = s.confine.confined ? r.paths.filter((p) => isWithin(p, s.confine.root)).map((p) => s.out(p)) : r.paths;
      return { seq: r.seq, time: iso(r.timeMs), op: r.op, paths, actor: r.actor, ...(r.outcome !== undefined ? { outcome: r.outcome } : {}), ...(r.info !== undefined ? { info: r.info } : {}) };
    });
    const text =
      records.length === 0
        ? 'no operations'
        : records.map((r) => oneLine(`#${r.seq}  ${r.time}  ${r.actor}  ${r.op}  ${r.paths.join(' ')}${r.outcome ? `  REFUSED ${r.outcome}` : ''}`)).join('\n');
    return { text, data: { records } };
  },
});

export const historyTools: ToolDef[] = [fileHistory, restoreVersion, diff, snapshotSave, snapshotList, snapshotRestore, audit] as unknown as ToolDef[];
