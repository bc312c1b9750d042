// Agent state: one JSON value per vault that agents publish and others watch. Each set is a
// new row under its version (the number of the operation that set it), the newest row is the
// current state, and the newest KEEP rows stay, so a watcher that wakes after several sets
// catches up on each of them in order instead of only seeing the last.
//
//   agent_state  version(u64) -> {"version","timeMs","actor","value"}
import type { ReadTx } from '../storage/contract.js';
import type { WriteScope } from '../core/scope.js';
import { decodeJson, encodeJson } from '../core/records.js';
import { readU64, u64 } from './common.js';

export interface AgentState {
  version: number;
  timeMs: number;
  actor: string;
  value: unknown;
}

/** States kept for watchers that fall behind. */
export const KEEP = 64;

/** `value` was checked to be storable as JSON; `bytes` is its JSON size. */
export async function setState(s: WriteScope, value: unknown, bytes: number, nowMs: number): Promise<AgentState> {
  const seq = await s.begin('state.set', [], { target: 'state', bytes });
  // Normally the operation number; above the newest row in a vault forked from an earlier
  // point (its operation numbers restart below the copied rows), so the newest row stays current.
  const [newest] = await s.tx.range('agent_state', { reverse: true, limit: 1 });
  const version = Math.max(seq, newest ? readU64(newest.key) + 1 : 0);
  const rec: AgentState = { version, timeMs: nowMs, actor: s.settings.actor, value };
  await s.tx.put('agent_state', u64(version), encodeJson(rec));
  const n = await s.tx.count('agent_state');
  if (n > KEEP) for (const e of await s.tx.range('agent_state', { limit: n - KEEP })) await s.tx.del('agent_state', e.key);
  return rec;
}

export async function currentState(tx: ReadTx): Promise<AgentState | undefined> {
  const [e] = await tx.range('agent_state', { reverse: true, limit: 1 });
  return e === undefined ? undefined : decodeJson<AgentState>(e.value);
}

/** States newer than `version`, oldest first (at most `limit`). */
export async function statesAfter(tx: ReadTx, version: number, limit = KEEP): Promise<AgentState[]> {
  const rows = await tx.range('agent_state', { gt: u64(version), limit });
  return rows.map((e) => decodeJson<AgentState>(e.value));
}
