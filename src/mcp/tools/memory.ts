// Agent-memory tools: memories (memory_*), key/value (kv_*), sessions (session_*), streams
// (stream_*) and the agent state (state_*). Front ends over the Vault's memory API
// (docs/memory.md), one library call each; the library checks arguments, logs every mutation
// under this client's name, and refuses with its codes (ECONFLICT for a compare-and-set).
// Agent memory is vault-wide and names no path, so --root does not narrow it (docs/mcp.md).
import { z } from 'zod';
import { vfsError } from '../../errors.js';
import type { Memory, MemoryHit, KvInfo, Session as MemSession, StreamEntry } from '../../api/memory.js';
import { tool, utf8OrUndefined, humanBytes, oneLine, type ToolDef, READ_ONLY } from '../common.js';

const int = (min: number, max = Number.MAX_SAFE_INTEGER): z.ZodNumber => z.number().int().min(min).max(max);
const iso = (ms: number): string => new Date(ms).toISOString();
const short = (s: string, n = 200): string => {
  const l = oneLine(s);
  return l.length > n ? l.slice(0, n - 3) + '...' : l;
};

/** Values handed in as text (UTF-8) or base64, as write_file takes content. */
const encodingArg = z.enum(['utf8', 'base64']).optional();

function bytesIn(value: string, encoding: 'utf8' | 'base64' | undefined, what: string): Buffer {
  if (encoding !== 'base64') return Buffer.from(value, 'utf8');
  if (!/^[A-Za-z0-9+/=\s_-]*$/.test(value)) throw vfsError('EINVAL', undefined, `${what} is not base64 (encoding: "base64")`);
  return Buffer.from(value, 'base64');
}

/** Bytes out: UTF-8 text when they are text and base64 was not asked for, else base64. */
function bytesOut(buf: Buffer, want: 'utf8' | 'base64' | undefined): { value: string; encoding: 'utf8' | 'base64' } {
  const text = want === 'base64' ? undefined : utf8OrUndefined(buf);
  return text === undefined ? { value: buf.toString('base64'), encoding: 'base64' } : { value: text, encoding: 'utf8' };
}

// ---- memories -------------------------------------------------------------------------------

const memoryShape = {
  id: z.number().describe('the memory id (for memory_get, memory_forget)'),
  text: z.string(),
  tags: z.array(z.string()),
  time: z.string().describe('when it was added, ISO 8601'),
  actor: z.string().describe('who added it'),
};
const memorySchema = z.object(memoryShape);
const hitSchema = z.object({ ...memoryShape, score: z.number().describe('BM25 relevance, higher is better') });

function memOut(m: Memory): z.infer<typeof memorySchema> {
  return { id: m.id, text: m.text, tags: m.tags, time: iso(m.timeMs), actor: m.actor };
}
const memLine = (m: { id: number; tags: string[]; time: string; text: string }): string =>
  `#${m.id} ${m.time}${m.tags.length ? ` [${m.tags.join(', ')}]` : ''}  ${short(m.text)}`;

const tagsArg = z.array(z.string()).max(100);
const memoryId = int(1).describe('the memory id, as memory_add, memory_search or memory_list return it');

const memoryAdd = tool({
  name: 'memory_add',
  title: 'Remember',
  description:
    'Store a memory: a piece of text (a fact, a decision, a lesson) with optional tags, kept in the vault for later sessions and other agents. Returns its id. ' +
    'Find it again with memory_search (full-text) or memory_list (by tag and time). Memories are not files: they are not in any folder.',
  input: {
    text: z.string().describe('what to remember (not empty)'),
    tags: tagsArg.optional().describe("labels to filter by later, e.g. ['project-x', 'decision']"),
  },
  output: memoryShape,
  mutates: true,
  destructiveHint: false,
  idempotentHint: false,
  async run(a, s) {
    const m = memOut(await s.vault.memoryAdd(a.text, { tags: a.tags }));
    return { text: `remembered as memory ${m.id}`, data: m };
  },
});

const memorySearch = tool({
  name: 'memory_search',
  title: 'Search memories',
  description:
    'Full-text search of the memories, best match first (BM25). The query language is SQLite FTS5\'s: words (all must occur: implicit AND), "exact phrases", prefix* , ' +
    'AND, OR, NOT (upper case), parentheses. Case and accents are ignored; there is no stemming (use prefix*). ' +
    "E.g. 'deploy* AND (staging OR prod)' or '\"rate limit\" NOT redis'. Give `tags` to search only memories carrying all of them.",
  input: {
    query: z.string().describe('the search, in the FTS5 query language'),
    tags: tagsArg.optional().describe('only memories with every one of these tags'),
    limit: int(1, 1000).optional().describe('most hits to return (default 10)'),
  },
  output: { hits: z.array(hitSchema) },
  ...READ_ONLY,
  async run(a, s) {
    const hits = (await s.vault.memorySearch(a.query, { tags: a.tags, limit: a.limit })).map((h: MemoryHit) => ({ ...memOut(h), score: h.score }));
    const text = hits.length === 0 ? 'no memories match' : hits.map((h) => `${memLine(h)}  (score ${h.score.toFixed(3)})`).join('\n');
    return { text, data: { hits } };
  },
});

const memoryGet = tool({
  name: 'memory_get',
  title: 'Get a memory',
  description: 'One memory by id, with its whole text, tags, time and who added it. ENOENT if there is no such memory (never added, or forgotten).',
  input: { id: memoryId },
  output: memoryShape,
  ...READ_ONLY,
  async run(a, s) {
    const m = memOut(await s.vault.memoryGet(a.id));
    return { text: `${memLine(m)}\n\n${m.text}`, data: m };
  },
});

const memoryList = tool({
  name: 'memory_list',
  title: 'List memories',
  description:
    'Memories newest first, optionally only those carrying all the given `tags` and those added since a time. Returns at most `limit` (default 50). ' +
    'To find memories by what they say, use memory_search.',
  input: {
    tags: tagsArg.optional().describe('only memories with every one of these tags'),
    since: z.string().optional().describe("only memories added at or after this time: ISO 8601, or an age like '10m', '2h', '3d', '1w'"),
    limit: int(1, 10_000).optional().describe('most memories to return (default 50)'),
  },
  output: { memories: z.array(memorySchema) },
  ...READ_ONLY,
  async run(a, s) {
    const memories = (await s.vault.memoryList({ tags: a.tags, since: a.since, limit: a.limit ?? 50 })).map(memOut);
    return { text: memories.length === 0 ? 'no memories' : memories.map(memLine).join('\n'), data: { memories } };
  },
});

const memoryForget = tool({
  name: 'memory_forget',
  title: 'Forget a memory',
  description: 'Delete a memory by id: gone from memory_get, memory_list and memory_search at once; its id is never reused. Returns what was deleted. ENOENT if there is no such memory.',
  input: { id: memoryId },
  output: memoryShape,
  mutates: true,
  destructiveHint: true,
  idempotentHint: false,
  async run(a, s) {
    const m = memOut(await s.vault.memoryForget(a.id));
    return { text: `forgot memory ${m.id}: ${short(m.text)}`, data: m };
  },
});

// ---- key/value ------------------------------------------------------------------------------

const kvInfoShape = {
  key: z.string(),
  version: z.number().describe('changes on every write; give it as if_version to kv_set or kv_delete for compare-and-set'),
  size: z.number().describe('bytes'),
  updated: z.string().describe('ISO 8601'),
  expires: z.string().optional().describe('when the key expires (ISO 8601), if it has a TTL'),
};
const kvInfoSchema = z.object(kvInfoShape);

function kvOut(k: KvInfo): z.infer<typeof kvInfoSchema> {
  return { key: k.key, version: k.version, size: k.size, updated: iso(k.updatedMs), ...(k.expiresMs !== undefined ? { expires: iso(k.expiresMs) } : {}) };
}

const keyArg = z.string().describe('the key (1-400 bytes, no NUL)');
const ifVersion = int(0).optional().describe('compare-and-set: act only if the key\'s current version is this (0: only if the key does not exist); otherwise ECONFLICT and nothing changes');

const kvGet = tool({
  name: 'kv_get',
  title: 'Get a key',
  description:
    "A key's value, version and expiry. The value comes back as UTF-8 text when it is text (encoding 'utf8'), else base64 (encoding 'base64'); ask for `encoding: 'base64'` to always get base64. " +
    'ENOENT if the key does not exist or has expired.',
  input: { key: keyArg, encoding: encodingArg.describe("'base64' to get the value as base64 even when it is text") },
  output: { ...kvInfoShape, value: z.string(), encoding: z.enum(['utf8', 'base64']) },
  ...READ_ONLY,
  async run(a, s) {
    const e = await s.vault.kvGet(a.key);
    const v = bytesOut(e.value, a.encoding);
    const data = { ...kvOut(e), ...v };
    const head = `${short(e.key, 100)} (version ${e.version}, ${humanBytes(e.size)}${data.expires ? `, expires ${data.expires}` : ''}${v.encoding === 'base64' ? ', base64' : ''}):`;
    return { text: `${head}\n${v.value}`, data };
  },
});

const kvSet = tool({
  name: 'kv_set',
  title: 'Set a key',
  description:
    "Set a key to a value (UTF-8 text, or bytes as base64 with `encoding: 'base64'`), replacing any value it had. Optional `ttl_seconds` makes it expire. " +
    'For safe concurrent updates, read the key with kv_get, then set with `if_version` = the version you read (0 = create only): if someone changed it meanwhile you get ECONFLICT and nothing is written. Returns the new version.',
  input: {
    key: keyArg,
    value: z.string().describe('the value'),
    encoding: encodingArg.describe("how `value` is written: 'utf8' (default) or 'base64'"),
    ttl_seconds: z.number().positive().max(1e10).optional().describe('expire the key this many seconds from now'),
    if_version: ifVersion,
  },
  output: kvInfoShape,
  mutates: true,
  destructiveHint: true,
  idempotentHint: false,
  async run(a, s) {
    const info = kvOut(await s.vault.kvSet(a.key, bytesIn(a.value, a.encoding, 'value'), { ttlSeconds: a.ttl_seconds, ifVersion: a.if_version }));
    return { text: `${short(info.key, 100)} set (version ${info.version}, ${humanBytes(info.size)}${info.expires ? `, expires ${info.expires}` : ''})`, data: info };
  },
});

const kvDelete = tool({
  name: 'kv_delete',
  title: 'Delete a key',
  description: 'Delete a key. With `if_version`, only if its version is still that one (else ECONFLICT, nothing changes). ENOENT if the key does not exist. Returns what the key was.',
  input: { key: keyArg, if_version: ifVersion },
  output: kvInfoShape,
  mutates: true,
  destructiveHint: true,
  idempotentHint: false,
  async run(a, s) {
    const info = kvOut(await s.vault.kvDelete(a.key, { ifVersion: a.if_version }));
    return { text: `${short(info.key, 100)} deleted (was version ${info.version})`, data: info };
  },
});

const kvList = tool({
  name: 'kv_list',
  title: 'List keys',
  description: 'Live keys (not expired) in key order, with version, size and expiry, those starting with `prefix` if given; at most `limit` (default 1000). Values are not included: read them with kv_get.',
  input: {
    prefix: z.string().optional().describe("only keys starting with this, e.g. 'config/'"),
    limit: int(1, 100_000).optional().describe('most keys to return (default 1000)'),
  },
  output: { keys: z.array(kvInfoSchema), truncated: z.boolean() },
  ...READ_ONLY,
  async run(a, s) {
    const limit = a.limit ?? 1000;
    const all = await s.vault.kvList(a.prefix);
    const keys = all.slice(0, limit).map(kvOut);
    const truncated = all.length > limit;
    const lines = keys.map((k) => `${short(k.key, 100)}  v${k.version}  ${humanBytes(k.size)}${k.expires ? `  expires ${k.expires}` : ''}`);
    const text = keys.length === 0 ? 'no keys' : lines.join('\n') + (truncated ? `\n[${all.length - limit} more: narrow with prefix or raise limit]` : '');
    return { text, data: { keys, truncated } };
  },
});

const kvSweep = tool({
  name: 'kv_sweep',
  title: 'Delete expired keys',
  description: 'Delete every expired key now and return how many went. Expired keys are already invisible to kv_get and kv_list; this frees their space at once.',
  input: {},
  output: { removed: z.number().describe('expired keys deleted') },
  mutates: true,
  destructiveHint: false,
  idempotentHint: true,
  async run(_a, s) {
    const removed = await s.vault.kvSweep();
    return { text: `removed ${removed} expired ${removed === 1 ? 'key' : 'keys'}`, data: { removed } };
  },
});

// ---- sessions -------------------------------------------------------------------------------

const sessionShape = {
  id: z.number(),
  intent: z.string().optional(),
  payload: z.unknown().optional().describe('the JSON given when it started'),
  started: z.string().describe('ISO 8601'),
  ended: z.string().optional().describe('ISO 8601; absent while the session is open'),
  actor: z.string().describe('who started it'),
};
const sessionSchema = z.object(sessionShape);

function sessOut(x: MemSession): z.infer<typeof sessionSchema> {
  return {
    id: x.id,
    ...(x.intent !== undefined ? { intent: x.intent } : {}),
    ...(x.payload !== undefined ? { payload: x.payload } : {}),
    started: iso(x.startedMs),
    ...(x.endedMs !== undefined ? { ended: iso(x.endedMs) } : {}),
    actor: x.actor,
  };
}
const sessLine = (x: z.infer<typeof sessionSchema>): string =>
  `session ${x.id}${x.intent !== undefined ? ` (${short(x.intent, 100)})` : ''} started ${x.started} by ${short(x.actor, 100)}${x.ended ? `, ended ${x.ended}` : ', open'}`;
const sessionId = int(1).describe('the session id, as session_start or session_list return it');

const sessionStart = tool({
  name: 'session_start',
  title: 'Start a session',
  description:
    'Record the start of a work session: an optional `intent` (a short name to group sessions by, e.g. "fix-bug-123") and an optional `payload` (any JSON: goal, inputs, context). ' +
    'Returns its id; end it with session_end. Sessions let later agents see what was attempted, by whom and when.',
  input: {
    intent: z.string().optional().describe('what the session is for (1-400 bytes)'),
    payload: z.unknown().optional().describe('any JSON value to keep with the session'),
  },
  output: sessionShape,
  mutates: true,
  destructiveHint: false,
  idempotentHint: false,
  async run(a, s) {
    const x = sessOut(await s.vault.sessionStart({ intent: a.intent, payload: a.payload }));
    return { text: `started ${sessLine(x)}`, data: x };
  },
});

const sessionGet = tool({
  name: 'session_get',
  title: 'Get a session',
  description: 'One session by id: intent, payload, start and end times, who started it. ENOENT if there is no such session.',
  input: { id: sessionId },
  output: sessionShape,
  ...READ_ONLY,
  async run(a, s) {
    const x = sessOut(await s.vault.sessionGet(a.id));
    return { text: sessLine(x) + (x.payload !== undefined ? `\npayload: ${JSON.stringify(x.payload)}` : ''), data: x };
  },
});

const sessionList = tool({
  name: 'session_list',
  title: 'List sessions',
  description: 'Sessions newest first, only those of one `intent` if given; at most `limit` (default 50). Open sessions have no `ended`.',
  input: {
    intent: z.string().optional().describe('only sessions started with this intent'),
    limit: int(1, 10_000).optional().describe('most sessions to return (default 50)'),
  },
  output: { sessions: z.array(sessionSchema) },
  ...READ_ONLY,
  async run(a, s) {
    const sessions = (await s.vault.sessionList({ intent: a.intent, limit: a.limit ?? 50 })).map(sessOut);
    return { text: sessions.length === 0 ? 'no sessions' : sessions.map(sessLine).join('\n'), data: { sessions } };
  },
});

const sessionEnd = tool({
  name: 'session_end',
  title: 'End a session',
  description: 'Mark a session as ended (now). EINVAL if it has already ended, ENOENT if there is no such session.',
  input: { id: sessionId },
  output: sessionShape,
  mutates: true,
  destructiveHint: false,
  idempotentHint: false,
  async run(a, s) {
    const x = sessOut(await s.vault.sessionEnd(a.id));
    return { text: `ended ${sessLine(x)}`, data: x };
  },
});

// ---- streams --------------------------------------------------------------------------------

const streamKey = z.string().describe('the stream name (1-400 bytes, no NUL)');
/** stream_read stops after this many bytes of data (at least one append is always returned). */
const MAX_READ_BYTES = 8 * 1024 * 1024;

const streamAppend = tool({
  name: 'stream_append',
  title: 'Append to a stream',
  description:
    "Append data to a named stream (an append-only log, created by the first append): UTF-8 text, or bytes as base64 with `encoding: 'base64'`. " +
    'Appends are durable and totally ordered across all agents; each keeps its byte offset, which stream_read returns. Not empty.',
  input: {
    key: streamKey,
    data: z.string().describe('what to append (not empty)'),
    encoding: encodingArg.describe("how `data` is written: 'utf8' (default) or 'base64'"),
  },
  output: { key: z.string(), offset: z.number().describe('byte offset where this append starts'), size: z.number(), next: z.number().describe('the stream length after it: where the next append will start') },
  mutates: true,
  destructiveHint: false,
  idempotentHint: false,
  async run(a, s) {
    const r = await s.vault.streamAppend(a.key, bytesIn(a.data, a.encoding, 'data'));
    const data = { key: r.name, offset: r.offset, size: r.size, next: r.next };
    return { text: `appended ${humanBytes(r.size)} to ${short(r.name, 100)} at offset ${r.offset}`, data };
  },
});

const entrySchema = z.object({
  offset: z.number(),
  time: z.string(),
  size: z.number(),
  data: z.string(),
  encoding: z.enum(['utf8', 'base64']),
});

const streamRead = tool({
  name: 'stream_read',
  title: 'Read a stream',
  description:
    'Read appends of a stream in order, from byte offset `from` (default 0: the start; it starts at the first append at or after that offset), at most `limit` appends (default 100). ' +
    'Each append comes back whole, as UTF-8 text or base64 (see its `encoding`). To go on later, call again with `from` = the returned `next`: you get each append once. ' +
    'Does not wait for new appends. ENOENT if the stream does not exist.',
  input: {
    key: streamKey,
    from: int(0).optional().describe('byte offset to start at (default 0)'),
    limit: int(1, 10_000).optional().describe('most appends to return (default 100)'),
    encoding: encodingArg.describe("'base64' to get data as base64 even when it is text"),
  },
  output: { key: z.string(), entries: z.array(entrySchema), next: z.number().describe('give this as `from` to read on'), more: z.boolean().describe('true: more appends follow now') },
  ...READ_ONLY,
  async run(a, s) {
    const limit = a.limit ?? 100;
    const entries: z.infer<typeof entrySchema>[] = [];
    let next = a.from ?? 0;
    let bytes = 0;
    let more = false;
    for await (const e of s.vault.streamEntries(a.key, { from: a.from }) as AsyncGenerator<StreamEntry>) {
      if (entries.length >= limit || (entries.length > 0 && bytes + e.data.length > MAX_READ_BYTES)) {
        more = true;
        break;
      }
      const v = bytesOut(e.data, a.encoding);
      entries.push({ offset: e.offset, time: iso(e.timeMs), size: e.data.length, data: v.value, encoding: v.encoding });
      bytes += e.data.length;
      next = e.offset + e.data.length;
    }
    const lines = entries.map((e) => `@${e.offset} ${e.time}${e.encoding === 'base64' ? ' (base64)' : ''}: ${e.data}`);
    const tail = more ? [`[more: call stream_read with from ${next}]`] : [];
    const text = entries.length === 0 ? `${short(a.key, 100)}: nothing at or after offset ${next}` : [...lines, ...tail].join('\n');
    return { text, data: { key: a.key, entries, next, more } };
  },
});

// ---- agent state ----------------------------------------------------------------------------

const stateGet = tool({
  name: 'state_get',
  title: 'Get the agent state',
  description: "The vault's current agent state: one JSON value that agents publish with state_set (status, progress, current task...), with its version, time and who set it. `exists` is false if it was never set.",
  input: {},
  output: { exists: z.boolean(), version: z.number().optional(), time: z.string().optional(), actor: z.string().optional(), value: z.unknown().optional() },
  ...READ_ONLY,
  async run(_a, s) {
    const st = await s.vault.stateGet();
    if (!st) return { text: 'no agent state has been set', data: { exists: false } };
    return {
      text: `state version ${st.version}, set ${iso(st.timeMs)} by ${short(st.actor, 100)}:\n${JSON.stringify(st.value)}`,
      data: { exists: true, version: st.version, time: iso(st.timeMs), actor: st.actor, value: st.value },
    };
  },
});

const stateSet = tool({
  name: 'state_set',
  title: 'Set the agent state',
  description: "Publish the vault's agent state: any JSON value (an object like {\"status\": \"testing\", \"step\": 3} is usual), replacing the previous one. Other processes watching the state see it at once. Returns the new version.",
  input: { value: z.unknown().describe('the new state: any JSON value') },
  output: { version: z.number(), time: z.string(), actor: z.string() },
  mutates: true,
  destructiveHint: true,
  idempotentHint: false,
  async run(a, s) {
    if (a.value === undefined) throw vfsError('EINVAL', undefined, 'value: the new state is required (any JSON value)');
    const st = await s.vault.stateSet(a.value);
    return { text: `state set (version ${st.version})`, data: { version: st.version, time: iso(st.timeMs), actor: st.actor } };
  },
});

export const memoryTools: ToolDef[] = [
  memoryAdd,
  memorySearch,
  memoryGet,
  memoryList,
  memoryForget,
  kvGet,
  kvSet,
  kvDelete,
  kvList,
  kvSweep,
  sessionStart,
  sessionGet,
  sessionList,
  sessionEnd,
  streamAppend,
  streamRead,
  stateGet,
  stateSet,
] as unknown as ToolDef[];
