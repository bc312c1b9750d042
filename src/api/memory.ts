// Agent memory for the library: memories, key/value, sessions, streams, agent state. Vault's
// methods (the "memory" block of vault.ts) delegate here, one call each; this module is loaded
// on first use, so commands that never touch memory never load it.
//
// Every call checks its arguments before any transaction (a bad one changes nothing and is
// not logged), then runs one transaction. Every mutation is one operation-log record (op
// memory.add, memory.forget, kv.set, kv.del, kv.expire, session.start, session.end,
// stream.append, stream.trim, state.set; info.target names what it touched); a mutation the
// store refuses (unknown id, version conflict, over the size limit) is logged as refused, as
// file operations are. Layout and design: docs/memory.md.
import { Readable } from 'node:stream';
import { isVfsError, vfsError } from '../errors.js';
import type { Engine } from '../storage/contract.js';
import { withRead, withWrite, type VaultSettings, type WriteScope } from '../core/scope.js';
import { parseTime } from '../history/at.js';
import { checkCount, checkId, checkName, checkSize, checkTags, jsonText, show, toBytes, u64 } from '../memory/common.js';
import { addMemory, forgetMemory, getMemory, listMemories, noSuchMemory, searchMemories, type Memory, type MemoryHit } from '../memory/memories.js';
import { kvDelete, kvGet as readKv, kvList as listKv, kvSet as writeKv, sweepExpired, type KvEntry, type KvInfo } from '../memory/kv.js';
import { endSession, getSession, listSessions, noSuchSession, startSession, type Session } from '../memory/sessions.js';
import {
  appendStream,
  getHead,
  listStreams,
  noSuchStream,
  readEntries,
  trimStream,
  type AppendResult,
  type StreamEntry,
  type StreamHead,
  type TrimResult,
} from '../memory/streams.js';
import { KEEP, currentState, setState, statesAfter, type AgentState } from '../memory/state.js';
import { markerFor, notifyChange, subscribe, type ChangeSource } from '../memory/notify.js';
import { parseQuery } from '../text/query.js';

export type { Memory, MemoryHit, KvEntry, KvInfo, Session, StreamEntry, StreamHead, AppendResult, TrimResult, AgentState };

export interface MemoryCtx {
  engine: Engine;
  settings: VaultSettings;
  /** The store's path and backend: where the change marker lives. */
  path: string;
  backend: string;
}

/** How often a watcher looks at the store when no change event came (a safety net: see notify.ts). */
export const DEFAULT_POLL_MS = 50;
/** Appends per read transaction while reading a stream, at most; and about how many bytes. */
const PAGE = 1024;
const PAGE_BYTES = 4 * 1024 * 1024;

function source(c: MemoryCtx): ChangeSource {
  // An engine with change events of its own (postgres) announces commits to every machine.
  const ch = c.engine.changes;
  if (ch) return { key: ch.key, listen: (onChange) => ch.listen(onChange) };
  const marker = markerFor(c.backend, c.path);
  return { key: marker ?? c.engine, marker };
}

/** A write transaction whose refusal (a VfsError) is still named in the audit log. */
async function logged<T>(c: MemoryCtx, intent: { op: string; target: string }, fn: (s: WriteScope) => Promise<T>): Promise<T> {
  try {
    return await withWrite(c.engine, c.settings, fn);
  } catch (e) {
    if (isVfsError(e)) {
      await withWrite(c.engine, c.settings, async (s) => {
        await s.refused(intent.op, [], e.code);
        s.note({ target: intent.target });
      }).catch(() => {});
    }
    throw e;
  }
}

function optionalInt(what: string, v: unknown, min: number): number | undefined {
  return v === undefined ? undefined : checkCount(what, v, min);
}

function sinceMs(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = parseTime(v);
    if (t !== undefined) return t;
  }
  throw vfsError('EINVAL', undefined, `since: ${show(String(v))} is not a time (a Date, ms since the epoch, ISO 8601, or 10m / 2h / 3d / 1w ago)`);
}

// ---- memories ----------------------------------------------------------------------------

export interface AddMemoryOptions {
  tags?: string[];
}

export async function memoryAdd(c: MemoryCtx, text: string, o: AddMemoryOptions = {}): Promise<Memory> {
  if (typeof text !== 'string') throw vfsError('EINVAL', undefined, 'memory text must be a string');
  if (text.trim() === '') throw vfsError('EINVAL', undefined, 'memory text is empty');
  const tags = checkTags(o.tags);
  return logged(c, { op: 'memory.add', target: 'memory' }, async (s) => {
    await checkSize(s.tx, 'memory text', Buffer.byteLength(text));
    return addMemory(s, text, tags);
  });
}

export interface SearchMemoryOptions {
  /** Only memories with every one of these tags. */
  tags?: string[];
  /** At most this many hits (default 10). */
  limit?: number;
}

export async function memorySearch(c: MemoryCtx, query: string, o: SearchMemoryOptions = {}): Promise<MemoryHit[]> {
  if (typeof query !== 'string') throw vfsError('EINVAL', undefined, 'query must be a string');
  const q = parseQuery(query);
  const tags = checkTags(o.tags);
  const limit = optionalInt('limit', o.limit, 1) ?? 10;
  return withRead(c.engine, c.settings, (s) => searchMemories(s.tx, q, { tags, limit }));
}

export async function memoryGet(c: MemoryCtx, id: number | string): Promise<Memory> {
  const n = checkId('memory', id);
  const m = await withRead(c.engine, c.settings, (s) => getMemory(s.tx, n));
  if (!m) throw noSuchMemory(n);
  return m;
}

export interface ListMemoryOptions {
  tags?: string[];
  /** Only memories added at or after this time: a Date, ms since the epoch, or text as `--since` takes it. */
  since?: Date | number | string;
  limit?: number;
}

/** Newest first. */
export async function memoryList(c: MemoryCtx, o: ListMemoryOptions = {}): Promise<Memory[]> {
  const tags = checkTags(o.tags);
  const since = sinceMs(o.since);
  const limit = optionalInt('limit', o.limit, 1) ?? Infinity;
  return withRead(c.engine, c.settings, async (s) => {
    const out: Memory[] = [];
    for await (const m of listMemories(s.tx, { tags, sinceMs: since, limit })) out.push(m);
    return out;
  });
}

export async function memoryForget(c: MemoryCtx, id: number | string): Promise<Memory> {
  const n = checkId('memory', id);
  return logged(c, { op: 'memory.forget', target: `memory ${n}` }, (s) => forgetMemory(s, n));
}

// ---- key/value ---------------------------------------------------------------------------

export interface KvSetOptions {
  /** Expire the key this many seconds from now (fractions allowed). */
  ttlSeconds?: number;
  /** Compare-and-set: write only if the key's version is this (0: only if the key does not exist). */
  ifVersion?: number;
}

const kvKey = (key: unknown): string => checkName('kv key', key);

export async function kvSet(c: MemoryCtx, key: string, value: string | Uint8Array, o: KvSetOptions = {}): Promise<KvInfo> {
  const k = kvKey(key);
  const bytes = toBytes('kv value', value);
  let ttlMs: number | undefined;
  if (o.ttlSeconds !== undefined) {
    if (typeof o.ttlSeconds !== 'number' || !Number.isFinite(o.ttlSeconds) || o.ttlSeconds <= 0) {
      throw vfsError('EINVAL', undefined, `ttl must be a number of seconds > 0, got ${show(String(o.ttlSeconds))}`);
    }
    ttlMs = Math.max(1, Math.round(o.ttlSeconds * 1000));
  }
  const ifVersion = optionalInt('ifVersion', o.ifVersion, 0);
  return logged(c, { op: 'kv.set', target: `kv ${k}` }, async (s) => {
    await checkSize(s.tx, 'kv value', bytes.length);
    return writeKv(s, k, bytes, { ttlMs, ifVersion }, Date.now());
  });
}

export async function kvGet(c: MemoryCtx, key: string): Promise<KvEntry> {
  const k = kvKey(key);
  const e = await withRead(c.engine, c.settings, (s) => readKv(s.tx, k, Date.now()));
  if (!e) throw vfsError('ENOENT', undefined, `kv ${show(k)}: no such key`);
  return e;
}

export async function kvDel(c: MemoryCtx, key: string, o: { ifVersion?: number } = {}): Promise<KvInfo> {
  const k = kvKey(key);
  const ifVersion = optionalInt('ifVersion', o.ifVersion, 0);
  return logged(c, { op: 'kv.del', target: `kv ${k}` }, (s) => kvDelete(s, k, { ifVersion }, Date.now()));
}

/** Live keys, in key order (bytewise), those starting with `prefix` if given. */
export async function kvKeys(c: MemoryCtx, prefix?: string): Promise<KvInfo[]> {
  if (prefix !== undefined && prefix !== '') checkName('kv prefix', prefix);
  return withRead(c.engine, c.settings, async (s) => {
    const out: KvInfo[] = [];
    for await (const e of listKv(s.tx, prefix || undefined, Date.now())) out.push(e);
    return out;
  });
}

/** Delete every expired key now (kv writes also do it, a batch at a time). Returns how many. */
export async function kvSweep(c: MemoryCtx): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await withWrite(c.engine, c.settings, async (s) => {
      const now = Date.now();
      const due = await s.tx.count('kv_expiry', { lte: u64(now), limit: 1 });
      if (due === 0) return 0;
      await s.begin('kv.expire', [], { target: 'kv' });
      const swept = await sweepExpired(s, now, 1000);
      s.note({ expired: swept });
      return swept;
    });
    total += n;
    if (n < 1000) return total;
  }
}

// ---- sessions ----------------------------------------------------------------------------

export interface StartSessionOptions {
  intent?: string;
  /** Any JSON value. */
  payload?: unknown;
}

export async function sessionStart(c: MemoryCtx, o: StartSessionOptions = {}): Promise<Session> {
  const intent = o.intent === undefined ? undefined : checkName('intent', o.intent);
  const payloadText = o.payload === undefined ? undefined : jsonText('payload', o.payload);
  return logged(c, { op: 'session.start', target: 'session' }, async (s) => {
    if (payloadText !== undefined) await checkSize(s.tx, 'session payload', Buffer.byteLength(payloadText));
    return startSession(s, { intent, payload: payloadText === undefined ? undefined : JSON.parse(payloadText) });
  });
}

export async function sessionGet(c: MemoryCtx, id: number | string): Promise<Session> {
  const n = checkId('session', id);
  const rec = await withRead(c.engine, c.settings, (s) => getSession(s.tx, n));
  if (!rec) throw noSuchSession(n);
  return rec;
}

/** Newest first. */
export async function sessionList(c: MemoryCtx, o: { intent?: string; limit?: number } = {}): Promise<Session[]> {
  const intent = o.intent === undefined ? undefined : checkName('intent', o.intent);
  const limit = optionalInt('limit', o.limit, 1) ?? Infinity;
  return withRead(c.engine, c.settings, async (s) => {
    const out: Session[] = [];
    for await (const rec of listSessions(s.tx, { intent, limit })) out.push(rec);
    return out;
  });
}

export async function sessionEnd(c: MemoryCtx, id: number | string): Promise<Session> {
  const n = checkId('session', id);
  return logged(c, { op: 'session.end', target: `session ${n}` }, (s) => endSession(s, n));
}

// ---- streams -----------------------------------------------------------------------------

const streamName = (name: unknown): string => checkName('stream name', name);

/** Append `data` to the stream (created on first append). Durable when it returns. */
export async function streamAppend(c: MemoryCtx, name: string, data: string | Uint8Array): Promise<AppendResult> {
  return (await streamAppendMany(c, name, [data]))[0];
}

/** Several appends in one transaction (one commit): each is still its own append and log record. */
export async function streamAppendMany(c: MemoryCtx, name: string, parts: readonly (string | Uint8Array)[]): Promise<AppendResult[]> {
  const n = streamName(name);
  if (!Array.isArray(parts)) throw vfsError('EINVAL', undefined, 'parts must be an array');
  const bufs = parts.map((p) => toBytes('stream data', p));
  if (bufs.length === 0) return [];
  if (bufs.some((b) => b.length === 0)) throw vfsError('EINVAL', undefined, `stream ${show(n)}: nothing to append (empty data)`);
  const out = await logged(c, { op: 'stream.append', target: `stream ${n}` }, async (s) => {
    for (const b of bufs) await checkSize(s.tx, 'stream append', b.length);
    return appendStream(s, n, bufs, Date.now());
  });
  notifyChange(source(c));
  return out;
}

export interface StreamReadOptions {
  /** Start at the first append that starts at or after this byte offset (default 0). */
  from?: number;
  /** At the end, wait for more appends (from any process) instead of stopping, like tail -f. */
  follow?: boolean;
  /** Stops a follow (the iterator then ends). */
  signal?: AbortSignal;
  /** Look at the store at least this often while following (ms; default 50). */
  pollMs?: number;
  /** Poll only, no file-system watch (for measurements). */
  noWatch?: boolean;
}

/**
 * The stream's appends, in order, each whole and once. Without `follow` it ends at the end of
 * the stream (ENOENT for a stream that does not exist); with `follow` it waits for more, and
 * for the stream to be created, until `signal` aborts or the consumer stops.
 */
export async function* streamEntries(c: MemoryCtx, name: string, o: StreamReadOptions = {}): AsyncGenerator<StreamEntry> {
  const n = streamName(name);
  let pos = optionalInt('from', o.from, 0) ?? 0;
  const pollMs = optionalInt('pollMs', o.pollMs, 1) ?? DEFAULT_POLL_MS;
  // Appends may be small (many per read) or up to the size limit (few per read): the page grows
  // while pages are small in bytes and shrinks when they are big, so a read holds ~PAGE_BYTES.
  let page = 64;
  const read = async (): Promise<{ rows: StreamEntry[]; full: boolean }> => {
    const want = page;
    const rows = await withRead(c.engine, c.settings, (s) => readEntries(s.tx, n, pos, want));
    const bytes = rows.reduce((a, r) => a + r.data.length, 0);
    if (bytes > PAGE_BYTES) page = Math.max(1, page >> 1);
    else if (rows.length === want && bytes < PAGE_BYTES / 4) page = Math.min(PAGE, page * 2);
    return { rows, full: rows.length === want };
  };
  if (!o.follow) {
    const head = await withRead(c.engine, c.settings, (s) => getHead(s.tx, n));
    if (!head) throw noSuchStream(n);
    for (;;) {
      const { rows, full } = await read();
      for (const r of rows) {
        pos = r.offset + r.data.length;
        yield r;
      }
      if (!full) return;
    }
  }
  const sub = subscribe(source(c), { noWatch: o.noWatch });
  try {
    while (!o.signal?.aborted) {
      const seen = sub.gen;
      const { rows, full } = await read();
      for (const r of rows) {
        pos = r.offset + r.data.length;
        yield r;
        if (o.signal?.aborted) return;
      }
      if (!full) await sub.wait(seen, pollMs, o.signal);
    }
  } finally {
    sub.close();
  }
}

/** The stream as a Node Readable of its bytes (appends concatenated); see streamEntries. */
export function streamReadable(c: MemoryCtx, name: string, o: StreamReadOptions = {}): Readable {
  // Destroying the Readable must end a follow that is waiting, not only one that is yielding.
  const stop = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, stop.signal]) : stop.signal;
  async function* bytes(): AsyncGenerator<Buffer> {
    for await (const e of streamEntries(c, name, { ...o, signal })) yield e.data;
  }
  const r = Readable.from(bytes(), { objectMode: false });
  r.once('close', () => stop.abort());
  return r;
}

export async function streamInfo(c: MemoryCtx, name: string): Promise<StreamHead> {
  const n = streamName(name);
  const head = await withRead(c.engine, c.settings, (s) => getHead(s.tx, n));
  if (!head) throw noSuchStream(n);
  return head;
}

export async function streamNames(c: MemoryCtx): Promise<StreamHead[]> {
  return withRead(c.engine, c.settings, async (s) => {
    const out: StreamHead[] = [];
    for await (const h of listStreams(s.tx)) out.push(h);
    return out;
  });
}

/** Remove the appends that start before byte offset `before`. */
export async function streamTrim(c: MemoryCtx, name: string, before: number): Promise<TrimResult> {
  const n = streamName(name);
  const b = checkCount('before', before, 0);
  return logged(c, { op: 'stream.trim', target: `stream ${n}` }, (s) => trimStream(s, n, b, Date.now()));
}

// ---- agent state -------------------------------------------------------------------------

/** Publish a new agent state (any JSON value). Watchers everywhere see it. */
export async function stateSet(c: MemoryCtx, value: unknown): Promise<AgentState> {
  const text = jsonText('state', value);
  const parsed = JSON.parse(text) as unknown;
  const rec = await logged(c, { op: 'state.set', target: 'state' }, async (s) => {
    await checkSize(s.tx, 'state', Buffer.byteLength(text));
    return setState(s, parsed, Buffer.byteLength(text), Date.now());
  });
  notifyChange(source(c));
  return rec;
}

/** The current agent state, or undefined when none was ever set. */
export async function stateGet(c: MemoryCtx): Promise<AgentState | undefined> {
  return withRead(c.engine, c.settings, (s) => currentState(s.tx));
}

export interface WatchOptions {
  signal?: AbortSignal;
  pollMs?: number;
  noWatch?: boolean;
}

/**
 * The current state first (if any), then every new one as it is set, from any process, in
 * order (a watcher more than KEEP=64 states behind skips to the oldest kept). Never ends on a
 * stale value: each wake-up reads the store afresh. Ends when `signal` aborts.
 */
export async function* stateWatch(c: MemoryCtx, o: WatchOptions = {}): AsyncGenerator<AgentState> {
  const pollMs = optionalInt('pollMs', o.pollMs, 1) ?? DEFAULT_POLL_MS;
  const sub = subscribe(source(c), { noWatch: o.noWatch });
  try {
    let seen = sub.gen;
    const first = await withRead(c.engine, c.settings, (s) => currentState(s.tx));
    let last = 0;
    if (first) {
      last = first.version;
      yield first;
    }
    while (!o.signal?.aborted) {
      await sub.wait(seen, pollMs, o.signal);
      if (o.signal?.aborted) return;
      let batch: AgentState[];
      do {
        seen = sub.gen;
        batch = await withRead(c.engine, c.settings, (s) => statesAfter(s.tx, last));
        for (const st of batch) {
          last = st.version;
          yield st;
          if (o.signal?.aborted) return;
        }
      } while (batch.length === KEEP);
    }
  } finally {
    sub.close();
  }
}
