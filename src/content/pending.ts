// Markers for content stored ahead of the file that will name it. A streamed write stores its
// chunks in transactions of their own as input arrives, and only its last transaction makes a
// file point at them; until then nothing references those chunks, and `gc` would take them.
// So the write first leaves a marker (meta `pending/ID` -> {timeMs}), removes it in its last
// transaction (or when it fails), and gc does not sweep chunks while a recent marker exists.
// A marker older than PENDING_TTL_MS belongs to a writer that died; gc removes it.
import type { ReadTx, WriteTx } from '../storage/contract.js';
import { scan } from '../storage/contract.js';
import { decodeJson, encodeJson } from '../core/records.js';

export const PENDING_PREFIX = 'pending/';
export const PENDING_TTL_MS = 60 * 60 * 1000;

export interface PendingMarker {
  key: Buffer;
  timeMs: number;
}

/** Leave a marker; returns its key, for removePendingMarker. */
export async function putPendingMarker(tx: WriteTx, nowMs = Date.now()): Promise<Buffer> {
  const key = Buffer.from(PENDING_PREFIX + globalThis.crypto.randomUUID());
  await tx.put('meta', key, encodeJson({ timeMs: nowMs }));
  return key;
}

export async function removePendingMarker(tx: WriteTx, key: Buffer): Promise<void> {
  await tx.del('meta', key);
}

export async function listPendingMarkers(tx: ReadTx): Promise<PendingMarker[]> {
  const out: PendingMarker[] = [];
  for await (const e of scan(tx, 'meta', { prefix: Buffer.from(PENDING_PREFIX) })) {
    let timeMs = 0; // unreadable: treated as stale
    try {
      timeMs = decodeJson<{ timeMs: number }>(e.value).timeMs;
    } catch {
      // keep 0
    }
    out.push({ key: e.key, timeMs: typeof timeMs === 'number' && Number.isFinite(timeMs) ? timeMs : 0 });
  }
  return out;
}
