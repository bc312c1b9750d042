// Streams: named, append-only byte logs. Each append is one row, committed whole or not at all,
// at the byte offset where it starts (the stream's length before it), like a file being
// appended to; offsets are never reused, also after a trim.
//
//   streams       name 0x00 offset(u64)   -> timeMs(u64) + the appended bytes
//   stream_heads  name                    -> {"first","next","count","createdMs","updatedMs"}
//
// Offsets come from the head row, read and written in the append's write transaction, which
// writers in every process take one at a time: appends are totally ordered, and an append that
// committed has a higher offset than every append that committed before it. So a reader that
// remembers the offset after the last append it saw, and reads from there, sees every append
// exactly once, in order, and only whole ones.
import { vfsError } from '../errors.js';
import type { ReadTx } from '../storage/contract.js';
import { prefixEnd, scan } from '../storage/contract.js';
import type { WriteScope } from '../core/scope.js';
import { decodeJson, encodeJson } from '../core/records.js';
import { joinKey, namePrefix, readU64, show, u64 } from './common.js';

export interface StreamHead {
  name: string;
  /** Offset of the first append still kept (== next when the stream is empty). */
  first: number;
  /** Offset the next append will get: the stream's length in bytes, counting trimmed ones. */
  next: number;
  /** Appends kept. */
  count: number;
  createdMs: number;
  updatedMs: number;
}

export interface StreamEntry {
  offset: number;
  timeMs: number;
  data: Buffer;
}

export interface AppendResult {
  name: string;
  offset: number;
  size: number;
  /** Offset after this append. */
  next: number;
}

const entryKey = (name: string, offset: number): Buffer => joinKey(name, u64(offset));

export function noSuchStream(name: string): Error {
  return vfsError('ENOENT', undefined, `stream ${show(name)}: no such stream`);
}

export async function getHead(tx: ReadTx, name: string): Promise<StreamHead | undefined> {
  const raw = await tx.get('stream_heads', Buffer.from(name));
  return raw === undefined ? undefined : { name, ...decodeJson<Omit<StreamHead, 'name'>>(raw) };
}

async function putHead(s: WriteScope, h: StreamHead): Promise<void> {
  const { name, ...rest } = h;
  await s.tx.put('stream_heads', Buffer.from(name), encodeJson(rest));
}

/** Append each of `parts` as its own append, in one transaction (one operation-log record each). */
export async function appendStream(s: WriteScope, name: string, parts: Buffer[], nowMs: number): Promise<AppendResult[]> {
  const head = (await getHead(s.tx, name)) ?? { name, first: 0, next: 0, count: 0, createdMs: nowMs, updatedMs: nowMs };
  const out: AppendResult[] = [];
  const time = u64(nowMs);
  for (const data of parts) {
    const offset = head.next;
    await s.begin('stream.append', [], { target: `stream ${name}`, name, offset, bytes: data.length });
    await s.tx.put('streams', entryKey(name, offset), Buffer.concat([time, data]));
    head.next += data.length;
    head.count++;
    out.push({ name, offset, size: data.length, next: head.next });
  }
  head.updatedMs = nowMs;
  await putHead(s, head);
  return out;
}

/** Up to `limit` appends starting at or after `from`, in order. */
export async function readEntries(tx: ReadTx, name: string, from: number, limit: number): Promise<StreamEntry[]> {
  const end = prefixEnd(namePrefix(name));
  const rows = await tx.range('streams', { gte: entryKey(name, from), ...(end ? { lt: end } : {}), limit });
  return rows.map((e) => ({ offset: readU64(e.key, e.key.length - 8), timeMs: readU64(e.value, 0), data: e.value.subarray(8) }));
}

export async function* listStreams(tx: ReadTx): AsyncGenerator<StreamHead> {
  for await (const e of scan(tx, 'stream_heads', {}, 1000)) yield { name: e.key.toString(), ...decodeJson<Omit<StreamHead, 'name'>>(e.value) };
}

export interface TrimResult {
  name: string;
  removed: number;
  bytes: number;
  /** Offset of the first append kept now. */
  first: number;
}

/** Remove the appends that start before `before`. */
export async function trimStream(s: WriteScope, name: string, before: number, nowMs: number): Promise<TrimResult> {
  const head = await getHead(s.tx, name);
  if (!head) throw noSuchStream(name);
  const doomed = await s.tx.range('streams', { gte: namePrefix(name), lt: entryKey(name, before) });
  let bytes = 0;
  await s.begin('stream.trim', [], { target: `stream ${name}`, name, before, removed: doomed.length });
  for (const e of doomed) {
    bytes += e.value.length - 8;
    await s.tx.del('streams', e.key);
  }
  const [firstKept] = await readEntries(s.tx, name, 0, 1);
  head.first = firstKept ? firstKept.offset : head.next;
  head.count -= doomed.length;
  head.updatedMs = nowMs;
  await putHead(s, head);
  return { name, removed: doomed.length, bytes, first: head.first };
}
