// The log engine's inline values: a transaction whose chunk-file values are small in total
// (inline_tx_max) writes them in its log record, so its commit flushes one file. These tests
// hold it to the log's promises: a torn record with such values is dropped whole at every byte,
// a checkpoint keeps every value reachable before the log holding it goes (the log becomes a
// chunk file, or the values are copied), reopening after checkpoints and after compaction reads
// them all, and an encrypted store has none of them in clear in any file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openEngine } from '../src/storage/engines.js';
import { cutAtEveryByte, logFile } from './helpers/log-cuts.js';
import type { Engine } from '../src/storage/contract.js';

const k = (s: string) => Buffer.from(s);
/** inline_max 256: values of a few hundred bytes count as large, so a record with some stays small. */
const SMALL = { inline_max: '256' };
const open = (p: string, create = false, settings?: Record<string, unknown>, passphrase?: string) =>
  openEngine('log', { path: p, create, settings: { ...SMALL, ...settings }, ...(passphrase ? { passphrase } : {}) });

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'avfs-loginline-'));
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Every key and value of the collections the tests use, as text (whole values, hex). */
async function dump(e: Engine): Promise<string[]> {
  return e.read(async (tx) => {
    const out: string[] = [];
    for (const c of ['meta', 'chunks', 'manifests'] as const) {
      for (const en of await tx.range(c)) out.push(`${c}:${en.key.toString()}=${en.value.toString('hex')}`);
    }
    return out;
  });
}

const chunkFiles = (store: string) => fs.readdirSync(store).filter((f) => f.startsWith('chunks-')).sort();
const chunkBytes = (store: string) => chunkFiles(store).reduce((n, f) => n + fs.statSync(path.join(store, f)).size, 0);
/** A value of `n` bytes that says what it is, so a scan of the files can find it. */
const marked = (tag: string, n: number) => Buffer.from(`MARKER-${tag}-`.repeat(Math.ceil(n / 10))).subarray(0, n);

/** Does any file under `dir` hold `needle`? */
function anyFileHolds(dir: string, needle: Buffer): string | undefined {
  for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isFile() && fs.readFileSync(p).includes(needle)) return f;
  }
  return undefined;
}

describe('log engine: values inline in log records', () => {
  it('writes a small transaction\'s large values in its record only, and drops a torn one whole at every byte', () =>
    withDir(async (dir) => {
      const store = path.join(dir, 'v.log');
      const e = await open(store, true);
      await e.write(async (tx) => {
        await tx.put('meta', k('a'), k('first'));
        await tx.put('chunks', k('big1'), marked('big1', 5000));
      });
      const before = await dump(e);
      const start = fs.statSync(logFile(store)).size;
      await e.write(async (tx) => {
        await tx.put('chunks', k('big2'), marked('big2', 400));
        await tx.put('manifests', k('m'), marked('m', 300));
        await tx.put('meta', k('a'), k('second'));
      });
      const after = await dump(e);
      await e.close();
      assert.equal(chunkBytes(store), 0, 'no chunk file was written: the values are in the log');
      const end = fs.statSync(logFile(store)).size;
      assert.ok(end - start > 700, 'the last record holds both values');
      await cutAtEveryByte({ dir, store, start, end, before, after, open, dump, next: (tx) => tx.put('chunks', k('next'), marked('next', 300)) });
      // The store itself: a checkpoint keeps both records' values, and a reopen reads them from there.
      const re = await open(store);
      await re.compact();
      assert.ok(chunkBytes(store) > 0, 'the checkpoint put the values in a chunk file');
      await re.close();
      const last = await open(store);
      try {
        assert.deepEqual(await dump(last), after);
        assert.deepEqual(await last.check(), []);
      } finally {
        await last.close();
      }
    }));

  it('keeps every value across checkpoints (the log becomes a chunk file), for every handle, and after compaction', () =>
    withDir(async (dir) => {
      const store = path.join(dir, 'v.log');
      const settings = { checkpoint_bytes: '8KiB' };
      const e = await open(store, true, settings);
      // Reads once in the middle and once at the end: it follows several seals in one catch-up.
      const other = await open(store, false, settings);
      const want = new Map<string, string>();
      for (let i = 0; i < 120; i++) {
        await e.write(async (tx) => {
          const v = marked(`c${i}`, 6000);
          await tx.put('chunks', k(`c${i}`), v);
          want.set(`chunks:c${i}`, v.toString('hex'));
          // Overwritten every time: over 1 MiB of dead bytes in the end, so compaction rewrites.
          const hot = marked(`hot${i}`, 20_000);
          await tx.put('manifests', k('hot'), hot);
          want.set('manifests:hot', hot.toString('hex'));
          if (i % 9 === 8) {
            await tx.del('chunks', k(`c${i - 4}`));
            want.delete(`chunks:c${i - 4}`);
          }
        });
        if (i === 60) assert.equal((await dump(other)).length, 56);
      }
      const expected = [...want].map(([key, v]) => `${key}=${v}`).sort();
      const sorted = async (x: Engine) => (await dump(x)).sort();
      const d = (await e.stats()).details;
      assert.ok(Number(d.generation) > 5, `several checkpoints were written (generation ${d.generation})`);
      assert.equal(fs.readdirSync(store).filter((f) => f.startsWith('log-')).length, 1, 'only the newest log is kept');
      assert.ok(chunkFiles(store).length >= 4, `sealed logs were kept as chunk files: ${chunkFiles(store).join(' ')}`);
      assert.ok(!fs.existsSync(path.join(store, 'chunks-000001')), 'no value went to a chunk file at commit');
      assert.deepEqual(await sorted(e), expected);
      assert.deepEqual(await sorted(other), expected, 'a handle left generations behind catches up');
      assert.deepEqual(await e.check(), []);
      await e.close();
      await other.close();
      const re = await open(store);
      try {
        assert.deepEqual(await sorted(re), expected, 'reopened from the newest checkpoint and its log');
        assert.deepEqual(await re.check(), []);
        const c = await re.compact();
        assert.equal(c.note, undefined, c.note);
        assert.equal(chunkFiles(store).length, 1, 'compaction moved the live values into one file');
        assert.deepEqual(await sorted(re), expected);
      } finally {
        await re.close();
      }
      const last = await open(store);
      try {
        assert.deepEqual(await sorted(last), expected, 'reopened after compaction');
        assert.deepEqual(await last.check(), []);
        assert.equal((await last.stats()).details.held_inline_bytes, 0, 'a fresh checkpoint holds no value inline');
      } finally {
        await last.close();
      }
    }));

  it('a writer holding values from a log another process already checkpointed copies them at its own checkpoint', () =>
    withDir(async (dir) => {
      const store = path.join(dir, 'v.log');
      const a = await open(store, true, { checkpoint_bytes: '8KiB' });
      // b reloads only past 64 KiB held, and checkpoints after 64 KiB of log.
      const b = await open(store, false, { checkpoint_bytes: '64KiB' });
      await a.write(async (tx) => {
        for (let i = 0; i < 3; i++) await tx.put('chunks', k(`early${i}`), marked(`early${i}`, 600));
      });
      // b reads them from log 1 and keeps them in memory, inline.
      assert.equal((await dump(b)).length, 3);
      // a fills log 1 and checkpoints: log 1 becomes a chunk file under a new name.
      for (let i = 0; i < 12; i++) await a.write((tx) => tx.put('chunks', k(`a${i}`), marked(`a${i}`, 900)));
      assert.ok(Number((await a.stats()).details.generation) >= 2);
      // b follows the seal (holding little, it does not reload) and checkpoints the next log itself.
      const genBefore = Number((await a.stats()).details.generation);
      for (let i = 0; i < 80; i++) await b.write((tx) => tx.put('chunks', k(`b${i}`), marked(`b${i}`, 900)));
      assert.ok(Number((await b.stats()).details.generation) > genBefore, 'b wrote a checkpoint');
      const want = (await dump(a)).sort();
      assert.equal(want.length, 95);
      assert.deepEqual((await dump(b)).sort(), want);
      await a.close();
      await b.close();
      const re = await open(store);
      try {
        assert.deepEqual((await dump(re)).sort(), want);
        assert.deepEqual(await re.check(), []);
      } finally {
        await re.close();
      }
    }));

  it('an encrypted store has no inline value in clear in any file, before and after checkpoints and compaction', () =>
    withDir(async (dir) => {
      const write = async (e: Engine) => {
        for (let i = 0; i < 40; i++) await e.write((tx) => tx.put('chunks', k(`s${i}`), marked('secret', 500 + i)));
      };
      const needle = Buffer.from('MARKER-secret-MARKER');
      // The scan finds the values in a store in clear: it would find a leak.
      const clear = path.join(dir, 'clear.log');
      const c = await open(clear, true, { checkpoint_bytes: '8KiB' });
      await write(c);
      await c.close();
      assert.ok(anyFileHolds(clear, needle), 'a store in clear holds the values as they are');

      const store = path.join(dir, 'sealed.log');
      const e = await open(store, true, { checkpoint_bytes: '8KiB' }, 'correct horse');
      await write(e);
      assert.ok(Number((await e.stats()).details.generation) > 2, 'checkpoints copied inline values out');
      const want = await dump(e);
      assert.equal(anyFileHolds(store, needle), undefined, 'after checkpoints');
      await e.compact();
      assert.equal(anyFileHolds(store, needle), undefined, 'after compaction');
      await e.write((tx) => tx.put('chunks', k('late'), marked('secret', 800)));
      assert.equal(anyFileHolds(store, needle), undefined, 'with a value inline in the log');
      await e.close();
      const re = await open(store, false, undefined, 'correct horse');
      try {
        const d = await dump(re);
        assert.deepEqual(d.filter((x) => !x.startsWith('chunks:late=')), want);
        assert.equal(d.length, want.length + 1);
        assert.deepEqual(await re.check(), []);
      } finally {
        await re.close();
      }
    }));
});
