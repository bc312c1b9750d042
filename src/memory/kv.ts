// Key/value: byte values under string keys, with an optional time to live and a version for
// compare-and-set.
//
//   kv         key                 -> version(u64) updatedMs(u64) expiresMs(u64, 0 = never) value
//   kv_expiry  expiresMs(u64) key  -> empty: the clean-up queue, in expiry order
//
// A key's version is the number of the operation that last wrote it (the vault's operation log
// numbers every mutation), so versions only grow, also across a delete and a re-create: a
// compare-and-set can never be fooled by a key that was deleted and set again (ABA). Version 0
// means "no such key". An expired key is absent for every read; the rows are deleted by the
// next kv write (up to SWEEP_MAX per write, in the same transaction) or by kvSweep().
import { vfsError } from '../errors.js';
import type { ReadTx } from '../storage/contract.js';
import { prefixEnd, scan } from '../storage/contract.js';
import type { WriteScope } from '../core/scope.js';
import { readU64, show, u64 } from './common.js';

export interface KvInfo {
  key: string;
  version: number;
  size: number;
  updatedMs: number;
  /** When the key expires (ms since the epoch); absent when it does not. */
  expiresMs?: number;
}

export interface KvEntry extends KvInfo {
  value: Buffer;
}

const HEADER = 24;
export const SWEEP_MAX = 100;

function decode(key: string, raw: Buffer, withValue: true): KvEntry;
function decode(key: string, raw: Buffer, withValue: false): KvInfo;
function decode(key: string, raw: Buffer, withValue: boolean): KvInfo | KvEntry {
  const expires = readU64(raw, 16);
  const info: KvInfo = { key, version: readU64(raw, 0), size: raw.length - HEADER, updatedMs: readU64(raw, 8) };
  if (expires !== 0) info.expiresMs = expires;
  return withValue ? { ...info, value: raw.subarray(HEADER) } : info;
}

const live = (e: KvInfo, nowMs: number): boolean => e.expiresMs === undefined || e.expiresMs > nowMs;
const expiryKey = (expiresMs: number, key: string): Buffer => Buffer.concat([u64(expiresMs), Buffer.from(key)]);

export async function kvGet(tx: ReadTx, key: string, nowMs: number): Promise<KvEntry | undefined> {
  const raw = await tx.get('kv', Buffer.from(key));
  if (raw === undefined) return undefined;
  const e = decode(key, raw, true);
  return live(e, nowMs) ? e : undefined;
}

export function conflict(key: string, expected: number, found: number): Error {
  const now = found === 0 ? 'the key does not exist' : `its version is ${found}`;
  return vfsError('ECONFLICT', undefined, `kv ${show(key)}: version conflict: expected version ${expected}, but ${now} (nothing changed)`);
}

/** Delete expired keys, oldest expiry first, at most `max`. Returns how many went. */
export async function sweepExpired(s: WriteScope, nowMs: number, max = SWEEP_MAX): Promise<number> {
  const due = await s.tx.range('kv_expiry', { lte: u64(nowMs), limit: max });
  for (const e of due) {
    const key = e.key.subarray(8);
    const raw = await s.tx.get('kv', key);
    // The queue row may be stale (the key was set again with another expiry): delete only what it names.
    if (raw !== undefined && readU64(raw, 16) === readU64(e.key, 0)) await s.tx.del('kv', key);
    await s.tx.del('kv_expiry', e.key);
  }
  return due.length;
}

export interface SetOptions {
  ttlMs?: number;
  ifVersion?: number;
}

export async function kvSet(s: WriteScope, key: string, value: Buffer, o: SetOptions, nowMs: number): Promise<KvInfo> {
  const k = Buffer.from(key);
  const oldRaw = await s.tx.get('kv', k);
  const old = oldRaw === undefined ? undefined : decode(key, oldRaw, false);
  const current = old && live(old, nowMs) ? old.version : 0;
  if (o.ifVersion !== undefined && o.ifVersion !== current) throw conflict(key, o.ifVersion, current);
  const expiresMs = o.ttlMs === undefined ? 0 : nowMs + o.ttlMs;
  const seq = await s.begin('kv.set', [], {
    target: `kv ${key}`,
    key,
    bytes: value.length,
    ...(expiresMs ? { expiresMs } : {}),
    ...(o.ifVersion !== undefined ? { ifVersion: o.ifVersion } : {}),
  });
  if (old?.expiresMs !== undefined) await s.tx.del('kv_expiry', expiryKey(old.expiresMs, key));
  // In a vault forked from an earlier point, operation numbers restart below versions the
  // copied keys already carry: a version must still only grow.
  const version = Math.max(seq, (old?.version ?? 0) + 1);
  const head = Buffer.alloc(HEADER);
  u64(version).copy(head, 0);
  u64(nowMs).copy(head, 8);
  u64(expiresMs).copy(head, 16);
  await s.tx.put('kv', k, Buffer.concat([head, value]));
  if (expiresMs) await s.tx.put('kv_expiry', expiryKey(expiresMs, key), Buffer.alloc(0));
  const swept = await sweepExpired(s, nowMs);
  if (swept > 0) s.note({ expired: swept });
  const info: KvInfo = { key, version, size: value.length, updatedMs: nowMs };
  if (expiresMs) info.expiresMs = expiresMs;
  return info;
}

export async function kvDelete(s: WriteScope, key: string, o: { ifVersion?: number }, nowMs: number): Promise<KvInfo> {
  const k = Buffer.from(key);
  const raw = await s.tx.get('kv', k);
  const old = raw === undefined ? undefined : decode(key, raw, false);
  const current = old && live(old, nowMs) ? old.version : 0;
  if (o.ifVersion !== undefined && o.ifVersion !== current) throw conflict(key, o.ifVersion, current);
  if (!old || current === 0) throw vfsError('ENOENT', undefined, `kv ${show(key)}: no such key`);
  await s.begin('kv.del', [], { target: `kv ${key}`, key, ...(o.ifVersion !== undefined ? { ifVersion: o.ifVersion } : {}) });
  await s.tx.del('kv', k);
  if (old.expiresMs !== undefined) await s.tx.del('kv_expiry', expiryKey(old.expiresMs, key));
  const swept = await sweepExpired(s, nowMs);
  if (swept > 0) s.note({ expired: swept });
  return old;
}

/** Live keys in key order (bytewise), with `prefix` if given. */
export async function* kvList(tx: ReadTx, prefix: string | undefined, nowMs: number): AsyncGenerator<KvInfo> {
  const p = prefix ? Buffer.from(prefix) : undefined;
  const range = p ? { gte: p, ...(prefixEnd(p) ? { lt: prefixEnd(p) } : {}) } : {};
  for await (const e of scan(tx, 'kv', range, 1000)) {
    const info = decode(e.key.toString(), e.value, false);
    if (live(info, nowMs)) yield info;
  }
}
