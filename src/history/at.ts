// The tree as it was after operation S. HistoricalScope answers the three questions the
// filesystem model asks (an inode, one entry, a folder's entries) from the history rows
// instead of the current tables, so every read operation (stat, ls, cat, find, export...)
// works on the past unchanged. See docs/history.md.
import { vfsError } from '../errors.js';
import type { ReadTx } from '../storage/contract.js';
import { scan } from '../storage/contract.js';
import { ReadScope, type Child, type VaultSettings } from '../core/scope.js';
import { META_SEQ, decodeJson, inodeLogKey, parseDirent, readU64, u64, type FileType, type Inode, type OpRecord } from '../core/records.js';
import { getSnapshot } from './snapshots.js';

export class HistoricalScope extends ReadScope {
  constructor(
    tx: ReadTx,
    settings: VaultSettings,
    readonly seq: number,
  ) {
    super(tx, settings);
  }

  override async inode(ino: number): Promise<Inode | undefined> {
    const cached = this.inodes.get(ino);
    if (cached) return cached;
    const r = await this.tx.range('inode_log', { gte: inodeLogKey(ino, 0), lte: inodeLogKey(ino, this.seq), reverse: true, limit: 1 });
    if (r.length === 0) return undefined;
    const node = decodeJson<Inode>(r[0].value);
    this.inodes.set(ino, node);
    return node;
  }

  /** A past folder's inode may be pruned: every walk reads it, to say so. */
  override readonly entriesOnly = false;

  override missingInode(path: string): Error {
    return vfsError('ENOENT', path, 'this version was pruned from the history');
  }

  override async child(parent: number, name: string): Promise<{ ino: number; type: FileType } | undefined> {
    const base = Buffer.concat([u64(parent), Buffer.from(name), Buffer.from([0])]);
    const r = await this.tx.range('dirent_log', { gte: base, lte: Buffer.concat([base, u64(this.seq)]), reverse: true, limit: 1 });
    return r.length === 0 || r[0].value.length === 0 ? undefined : parseDirent(r[0].value);
  }

  override async children(dirIno: number): Promise<Child[]> {
    // Rows come grouped by name (names hold no NUL, so name+0x00 keeps each name's rows together),
    // oldest first within a name: the last row at or before S says whether the name was there.
    const out: Child[] = [];
    let name: string | undefined;
    let best: Buffer | undefined;
    const emit = (): void => {
      if (name !== undefined && best !== undefined && best.length > 0) out.push({ name, ...parseDirent(best) });
    };
    for await (const e of scan(this.tx, 'dirent_log', { prefix: u64(dirIno) }, 4096)) {
      const n = e.key.subarray(8, e.key.length - 9).toString();
      const seq = readU64(e.key, e.key.length - 8);
      if (n !== name) {
        emit();
        name = n;
        best = undefined;
      }
      if (seq <= this.seq) best = e.value;
    }
    emit();
    return out;
  }
}

export async function currentSeq(tx: ReadTx): Promise<number> {
  const raw = await tx.get('meta', META_SEQ);
  return raw === undefined ? 0 : readU64(raw);
}

export interface Point {
  seq: number;
  /** How the point was named, for messages: "snapshot before-refactor", "operation 42", a time. */
  label: string;
  /** The snapshot's name when the point was given as one. */
  snapshot?: string;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Turn `--at` input into an operation number: a snapshot name, an operation number
 * (`42`, `seq:42`), or a time (ISO 8601; `10m`, `2h`, `3d`, `1w` ago; `now`). Prefixes
 * `snap:`, `seq:` and `time:` force one reading.
 */
export async function resolvePoint(tx: ReadTx, spec: string, nowMs = Date.now()): Promise<Point> {
  if (typeof spec !== 'string' || spec.trim() === '') throw vfsError('EINVAL', undefined, 'empty point in time (give a snapshot, an operation number or a time)');
  const last = await currentSeq(tx);
  const m = /^(snap|seq|time):(.*)$/.exec(spec);
  const kind = m?.[1];
  const body = m ? m[2] : spec;
  if (kind === 'snap' || (kind === undefined && !/^\d+$/.test(body))) {
    const snap = await getSnapshot(tx, body).catch(() => undefined);
    if (snap) return { seq: snap.seq, label: `snapshot ${snap.name}`, snapshot: snap.name };
    if (kind === 'snap') throw vfsError('ENOENT', undefined, `no snapshot named "${body}" (see avfs snapshot list)`);
  }
  if (kind === 'seq' || (kind === undefined && /^\d+$/.test(body))) {
    const n = Number(body);
    if (!/^\d+$/.test(body) || !Number.isSafeInteger(n) || n < 1 || n > last) {
      throw vfsError('EINVAL', undefined, `no operation ${body} (this vault has operations 1 to ${last})`);
    }
    return { seq: n, label: `operation ${n}` };
  }
  const t = parseTime(body, nowMs);
  if (t === undefined) {
    throw vfsError('EINVAL', undefined, `"${spec}" is not a snapshot, an operation number or a time (ISO 8601 like 2026-01-31T12:00, or 10m / 2h / 3d ago)`);
  }
  const seq = await seqAtTime(tx, t, last);
  if (seq === 0) throw vfsError('EINVAL', undefined, `the vault did not exist yet at ${new Date(t).toISOString()}`);
  return { seq, label: new Date(t).toISOString() };
}

/** A time as `--at` and `audit --since` take it (ISO 8601, `10m`/`2h`/`3d`/`1w` ago, `now`), or undefined. */
export function parseTime(s: string, nowMs = Date.now()): number | undefined {
  if (s === 'now') return nowMs;
  const rel = /^(\d+(?:\.\d+)?)\s*([smhdw])(?:\s*ago)?$/.exec(s.trim());
  if (rel) return nowMs - Number(rel[1]) * UNITS[rel[2]];
  // Only strings that look like dates: Date.parse accepts far too much ("1", "x 2").
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s.trim())) return undefined;
  const t = Date.parse(s.trim().replace(' ', 'T'));
  return Number.isFinite(t) ? t : undefined;
}

/** The last operation at or before time t (0 if none): a binary search over the operation log. */
async function seqAtTime(tx: ReadTx, t: number, last: number): Promise<number> {
  let lo = 0;
  let hi = last;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const raw = await tx.get('oplog', u64(mid));
    const time = raw ? decodeJson<OpRecord>(raw).timeMs : Infinity;
    if (time <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
