// Snapshots: a name for a sequence number, one meta row each (`snapshot/NAME`), so saving one
// costs the same whatever the vault's size.
import { vfsError } from '../errors.js';
import type { ReadTx, WriteTx } from '../storage/contract.js';
import { scan } from '../storage/contract.js';
import { decodeJson, encodeJson } from '../core/records.js';
import type { MemoryRef } from '../memory/dump.js';

export interface Snapshot {
  name: string;
  seq: number;
  timeMs: number;
  actor: string;
  /** Saved by `snapshot restore` before it changed the tree. */
  auto: boolean;
  /** The agent memory saved with it (`snapshot save --with-memory`), as content. */
  memory?: MemoryRef;
}

const PREFIX = 'snapshot/';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const snapshotKey = (name: string): Buffer => Buffer.from(PREFIX + name);

export function checkSnapshotName(name: string): void {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw vfsError('EINVAL', undefined, `bad snapshot name "${String(name)}": use 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit`);
  }
  if (/^\d+$/.test(name)) throw vfsError('EINVAL', undefined, `snapshot name "${name}" would read as an operation number`);
}

export async function getSnapshot(tx: ReadTx, name: string): Promise<Snapshot | undefined> {
  const raw = await tx.get('meta', snapshotKey(name));
  return raw === undefined ? undefined : decodeJson<Snapshot>(raw);
}

export async function listSnapshots(tx: ReadTx): Promise<Snapshot[]> {
  const out: Snapshot[] = [];
  for await (const e of scan(tx, 'meta', { prefix: Buffer.from(PREFIX) })) out.push(decodeJson<Snapshot>(e.value));
  return out.sort((a, b) => a.seq - b.seq || a.timeMs - b.timeMs);
}

export async function putSnapshot(tx: WriteTx, snap: Snapshot): Promise<void> {
  await tx.put('meta', snapshotKey(snap.name), encodeJson(snap));
}

export async function deleteSnapshotRow(tx: WriteTx, name: string): Promise<void> {
  await tx.del('meta', snapshotKey(name));
}
