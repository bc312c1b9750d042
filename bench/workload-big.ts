// Workload B, one big file: write it, read it back whole, append 1 KiB, overwrite one byte in
// the middle. A single append or overwrite takes about a millisecond, which is mostly noise, so
// each is done EDIT_REPS times (appends one after another; overwrites one chunk apart from the
// middle on) and the median kept. For agentvfs, also what the first append and the first
// overwrite stored: chunking should make each cost about one chunk plus a new manifest (a
// small root and one leaf for a file of more than 256 chunks).
import { randomBytes } from 'node:crypto';
import type { StorageSample, Subject } from './subjects/subject.js';
import { collectGarbage, median, timed } from './timing.js';

export const BIG_PHASES = ['write', 'read', 'append', 'overwrite'] as const;
export type BigPhase = (typeof BIG_PHASES)[number];

export const APPEND_BYTES = 1024;
/**
 * Not 5: a median of five ~1 ms edits moved with the host's fsync (0.2-2 ms here) and caught
 * the first edits of a process, which run before V8 has optimised them (a sqlite overwrite:
 * 1.5 ms in the bench's five, 0.65-0.94 ms over 300 in bench/tools/edit-probe.js).
 */
export const EDIT_REPS = 15;
export const READ_REPS = 3;
export const BIG_PATH = '/big.bin';

export interface Growth {
  /** Change of the engine's bytesOnDisk. */
  diskBytes: number;
  /** Change of the bytes the engine has in use, where it reports them (SQLite pages). */
  usedBytes?: number;
  /** Chunks of the file's new content that the old content did not have. */
  newChunks: number;
  newChunkBytes: number;
  /** Manifests of the new content that the old content did not have (a flat one, or a root and its changed leaves). */
  manifestBytes: number;
}

export interface BigResult {
  bytes: number;
  seconds: Record<BigPhase, number>;
  /** Read-back after the write matched. */
  readOk: boolean;
  /** After the append and overwrite the whole file matched what was expected. */
  finalOk: boolean;
  growth?: { append: Growth; overwrite: Growth };
}

function growth(before: StorageSample, after: StorageSample): Growth {
  let newChunks = 0;
  let newChunkBytes = 0;
  for (const [h, len] of after.chunks) {
    if (!before.chunks.has(h)) {
      newChunks++;
      newChunkBytes += len;
    }
  }
  let manifestBytes = 0;
  for (const [id, len] of after.manifests) if (!before.manifests.has(id)) manifestBytes += len;
  const g: Growth = { diskBytes: after.bytesOnDisk - before.bytesOnDisk, newChunks, newChunkBytes, manifestBytes };
  if (before.usedBytes !== undefined && after.usedBytes !== undefined) g.usedBytes = after.usedBytes - before.usedBytes;
  return g;
}

export async function runBig(s: Subject, big: Buffer, log: (m: string) => void): Promise<BigResult> {
  const seconds = {} as Record<BigPhase, number>;
  const phase = async (name: BigPhase, fn: () => Promise<unknown>) => {
    collectGarbage();
    seconds[name] = await timed(fn);
    log(`${name} ${seconds[name].toFixed(3)}s`);
  };

  await phase('write', () => s.writeFile(BIG_PATH, big));
  // Reading 100 MiB in one go is at the mercy of page faults and GC, so: median of READ_REPS,
  // each compared with what was written.
  const reads: number[] = [];
  let readOk = true;
  for (let k = 0; k < READ_REPS; k++) {
    collectGarbage();
    let back: Uint8Array | undefined;
    reads.push(
      await timed(async () => {
        back = await s.readFile(BIG_PATH);
      }),
    );
    readOk &&= back !== undefined && Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(big);
  }
  seconds.read = median(reads);
  log(`read ${seconds.read.toFixed(3)}s (median of ${READ_REPS})`);

  const tails = Array.from({ length: EDIT_REPS }, () => randomBytes(APPEND_BYTES));
  const mid = Math.floor(big.length / 2);
  const offsets = Array.from({ length: EDIT_REPS }, (_, k) => Math.min(big.length - 1, mid + k * 65_537));
  const expected = Buffer.concat([big, ...tails]);
  const flips = offsets.map((o) => Buffer.from([expected[o] ^ 0xff]));
  offsets.forEach((o, k) => (expected[o] = flips[k][0]));

  // The first of each edit is sampled before and after (untimed) to see what it stored.
  const edits = async (name: BigPhase, op: (k: number) => Promise<void>) => {
    collectGarbage();
    const before = await s.sample?.(BIG_PATH);
    const times = [await timed(() => op(0))];
    const after = await s.sample?.(BIG_PATH);
    for (let k = 1; k < EDIT_REPS; k++) times.push(await timed(() => op(k)));
    seconds[name] = median(times);
    log(`${name} ${seconds[name].toFixed(4)}s (median of ${EDIT_REPS})`);
    return before && after ? growth(before, after) : undefined;
  };
  const gAppend = await edits('append', (k) => s.appendFile(BIG_PATH, tails[k]));
  const gOverwrite = await edits('overwrite', (k) => s.writeAt(BIG_PATH, offsets[k], flips[k]));

  // Untimed: the whole file must now be the original plus the tails, with the bytes flipped.
  collectGarbage();
  const final = await s.readFile(BIG_PATH);
  const finalOk = Buffer.from(final.buffer, final.byteOffset, final.byteLength).equals(expected);

  const result: BigResult = { bytes: big.length, seconds, readOk, finalOk };
  if (gAppend && gOverwrite) result.growth = { append: gAppend, overwrite: gOverwrite };
  return result;
}
