// The log engine's torn-tail check, shared by its tests: copy the store, cut its newest log at
// every byte offset of the last record, and hold each cut to the log's promise. It opens; it
// holds exactly the state before that record (or after it, uncut); check() is clean; the next
// write goes after the last good record and survives a reopen.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Engine, WriteTx } from '../../src/storage/contract.js';

export const logFile = (store: string): string => path.join(store, fs.readdirSync(store).filter((f) => f.startsWith('log-')).sort().pop()!);

export interface Cuts {
  dir: string;
  store: string;
  /** The log's size before and after the last record. */
  start: number;
  end: number;
  /** dump() of the store before and after the last record. */
  before: string[];
  after: string[];
  open(p: string, create: boolean, settings?: Record<string, unknown>): Promise<Engine>;
  dump(e: Engine): Promise<string[]>;
  /** The write made after each cut (one new key). */
  next(tx: WriteTx): Promise<void>;
  /** More to check of the reopened store's dump. */
  reopened?(d: string[], cut: number): void;
}

export async function cutAtEveryByte(c: Cuts): Promise<void> {
  for (let cut = c.start; cut <= c.end; cut++) {
    const copy = path.join(c.dir, `cut-${cut}.log`);
    fs.cpSync(c.store, copy, { recursive: true });
    fs.truncateSync(logFile(copy), cut);
    const want = cut === c.end ? c.after : c.before;
    // no_sync: nothing here crashes, and hundreds of cuts with fsyncs each were most of the time.
    const e = await c.open(copy, false, { no_sync: true });
    try {
      assert.deepEqual(await c.dump(e), want, `log cut at byte ${cut} of ${c.start}..${c.end}`);
      assert.deepEqual(await e.check(), [], `check after a cut at ${cut}`);
      // The next writer cuts the torn tail off and appends after the last good record.
      await e.write((tx) => c.next(tx));
    } finally {
      await e.close();
    }
    const again = await c.open(copy, false);
    try {
      const d = await c.dump(again);
      assert.equal(d.length, want.length + 1, `a write after the cut at ${cut} survives reopening`);
      c.reopened?.(d, cut);
    } finally {
      await again.close();
    }
    fs.rmSync(copy, { recursive: true });
  }
}
