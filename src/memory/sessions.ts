// Sessions: an agent's unit of work, numbered 1, 2, 3... in the order they start (so "newest
// first" is a reverse walk), with an optional intent id and a JSON payload.
//
//   sessions         id(u64)               -> {"id","intent"?,"payload"?,"startedMs","endedMs"?,"actor"}
//   session_intents  intent 0x00 id(u64)   -> empty
//   meta             'session/next_id'     -> u64
import { vfsError } from '../errors.js';
import type { ReadTx } from '../storage/contract.js';
import { scan } from '../storage/contract.js';
import type { WriteScope } from '../core/scope.js';
import { decodeJson, encodeJson } from '../core/records.js';
import { joinKey, namePrefix, readU64, u64 } from './common.js';

export interface Session {
  id: number;
  intent?: string;
  payload?: unknown;
  startedMs: number;
  endedMs?: number;
  actor: string;
}

const NEXT_ID = Buffer.from('session/next_id');

export function noSuchSession(id: number): Error {
  return vfsError('ENOENT', undefined, `session ${id}: no such session`);
}

export async function startSession(s: WriteScope, o: { intent?: string; payload?: unknown }): Promise<Session> {
  const raw = await s.tx.get('meta', NEXT_ID);
  const id = raw === undefined ? 1 : readU64(raw);
  await s.begin('session.start', [], { target: `session ${id}`, id, ...(o.intent !== undefined ? { intent: o.intent } : {}) });
  const rec: Session = { id, startedMs: Date.now(), actor: s.settings.actor };
  if (o.intent !== undefined) rec.intent = o.intent;
  if (o.payload !== undefined) rec.payload = o.payload;
  await s.tx.put('sessions', u64(id), encodeJson(rec));
  if (o.intent !== undefined) await s.tx.put('session_intents', joinKey(o.intent, u64(id)), Buffer.alloc(0));
  await s.tx.put('meta', NEXT_ID, u64(id + 1));
  return rec;
}

export async function getSession(tx: ReadTx, id: number): Promise<Session | undefined> {
  const raw = await tx.get('sessions', u64(id));
  return raw === undefined ? undefined : decodeJson<Session>(raw);
}

export async function endSession(s: WriteScope, id: number): Promise<Session> {
  const rec = await getSession(s.tx, id);
  if (!rec) throw noSuchSession(id);
  if (rec.endedMs !== undefined) throw vfsError('EINVAL', undefined, `session ${id}: already ended at ${new Date(rec.endedMs).toISOString()}`);
  await s.begin('session.end', [], { target: `session ${id}`, id });
  rec.endedMs = Date.now();
  await s.tx.put('sessions', u64(id), encodeJson(rec));
  return rec;
}

/** Newest first. */
export async function* listSessions(tx: ReadTx, o: { intent?: string; limit: number }): AsyncGenerator<Session> {
  if (o.limit <= 0) return;
  let n = 0;
  if (o.intent !== undefined) {
    for await (const e of scan(tx, 'session_intents', { prefix: namePrefix(o.intent), reverse: true }, 500)) {
      const rec = await getSession(tx, readU64(e.key, e.key.length - 8));
      if (!rec) continue;
      yield rec;
      if (++n >= o.limit) return;
    }
    return;
  }
  for await (const e of scan(tx, 'sessions', { reverse: true }, 500)) {
    yield decodeJson<Session>(e.value);
    if (++n >= o.limit) return;
  }
}
