// Agent memory across processes, with no daemon, on each engine other processes can open
// (sqlite, lmdb, log, rocksdb, and postgres when a test cluster runs):
//   - one process appends to a stream 10,000 times (each append its own durable transaction)
//     while another follows it: the follower sees every append exactly once, in order;
//   - state watch: a watcher in another process sees each new state promptly and in order,
//     ends on the last value (never a stale one), and a watcher started after the last set
//     sees that value first;
//   - two processes incrementing one kv counter with compare-and-set lose no update.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createVault, openVault } from '../src/index.js';
import { ENGINES, storeRef } from './helpers/vaults.js';

const CHILDREN = join(dirname(fileURLToPath(import.meta.url)), 'children');
const APPENDS = 10_000;

interface Child {
  proc: ChildProcess;
  /** Resolves once the child said "ready" on stderr. */
  ready: Promise<void>;
  /** Resolves when it exits: code, stdout, stderr (without the "ready" line). */
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function child(script: string, args: string[]): Child {
  const proc = spawn(process.execPath, [join(CHILDREN, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  proc.stdout!.on('data', (d) => (stdout += d));
  proc.stderr!.on('data', (d) => {
    stderr += d;
    if (stderr.includes('ready\n')) {
      stderr = stderr.replace('ready\n', '');
      markReady();
    }
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code) => {
      markReady();
      resolve({ code, stdout, stderr });
    });
  });
  return { proc, ready, done };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function withTimeout<T>(p: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout?.();
        reject(new Error(`${what}: timed out after ${ms} ms`));
      }, ms);
    }),
  ]);
}

// The median lag a watcher may show. rocksdb: one process holds the database at a time, and a
// writer with someone waiting keeps it hold_ms (150) before handing it over, so a watcher sees
// states in bursts (docs/engines.md, rocksdb Limits: a median of 120-160 ms measured here).
const LAG_MS: Record<string, number> = { sqlite: 100, lmdb: 100, log: 100, postgres: 100, rocksdb: 250 };

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const kind of ENGINES.filter((k) => k !== 'memory')) {
  describe(`agent memory across processes on ${kind}`, () => {
    let dir: string;
    let path: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `avfs-memproc-${kind}-`));
      path = storeRef(kind, dir);
      await (await createVault(path, { backend: kind, home: join(dir, 'home') })).close();
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it(`a follower sees each of ${APPENDS} appends from another process exactly once, in order`, async () => {
      const follower = child('stream-follower.js', [path, 'events', String(APPENDS)]);
      await follower.ready;
      const appender = child('stream-appender.js', [path, 'events', String(APPENDS)]);
      const a = await withTimeout(appender.done, 120_000, 'appender', () => appender.proc.kill());
      assert.equal(a.stderr, '');
      assert.equal(a.code, 0);
      const f = await withTimeout(follower.done, 30_000, 'follower', () => follower.proc.kill());
      assert.equal(f.stderr, '');
      assert.equal(f.code, 0);
      const lines = f.stdout.split('\n').filter((l) => l.length > 0);
      assert.equal(lines.length, APPENDS, 'every append seen, none twice');
      let offset = 0;
      for (let i = 0; i < APPENDS; i++) {
        const want = `${offset} ${i}`;
        if (lines[i] !== want) assert.fail(`line ${i}: expected "${want}", got "${lines[i]}"`);
        offset += String(i).length + 1;
      }
      const v = await openVault(path);
      try {
        const head = await v.streamInfo('events');
        assert.deepEqual([head.count, head.next], [APPENDS, offset]);
      } finally {
        await v.close();
      }
    });

    it('a watcher in another process sees each new state promptly, in order, and ends on the last', async () => {
      const v = await openVault(path, { actor: 'setter' });
      try {
        await v.stateSet({ i: 0, t: Date.now() });
        const STATES = 30;
        const watcher = child('state-watcher.js', [path, String(STATES + 1)]);
        await watcher.ready;
        await sleep(100); // it has read the current state and is waiting
        for (let i = 1; i <= STATES; i++) {
          await v.stateSet({ i, t: Date.now() });
          await sleep(15);
        }
        const w = await withTimeout(watcher.done, 10_000, 'watcher', () => watcher.proc.kill());
        assert.equal(w.stderr, '');
        assert.equal(w.code, 0);
        const seen = w.stdout.trim().split('\n').map((l) => JSON.parse(l) as { value: { i: number }; lagMs: number });
        assert.deepEqual(seen.map((s) => s.value.i), Array.from({ length: STATES + 1 }, (_, i) => i), 'the current state first, then each one in order');
        const lags = seen.slice(1).map((s) => s.lagMs);
        assert.ok(median(lags) < LAG_MS[kind], `median lag ${median(lags)} ms, over ${LAG_MS[kind]} (all: ${lags.join(' ')})`);

        // Sets as fast as they commit: the watcher may lag, but it catches up on every one and
        // ends on the last value, never a stale one.
        const burst = child('state-watcher.js', [path, '1000']);
        await burst.ready;
        await sleep(100);
        for (let i = 1; i <= 50; i++) await v.stateSet({ burst: i });
        await v.stateSet('stop');
        const b = await withTimeout(burst.done, 10_000, 'burst watcher', () => burst.proc.kill());
        assert.equal(b.code, 0);
        const values = b.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { value: unknown }).value);
        assert.deepEqual(values.at(-1), 'stop');
        assert.deepEqual(values.slice(1, -1), Array.from({ length: 50 }, (_, i) => ({ burst: i + 1 })), 'every state, in order');

        // A watcher started after the last set sees that value first.
        await v.stateSet({ final: true });
        const late = child('state-watcher.js', [path, '1']);
        const l = await withTimeout(late.done, 10_000, 'late watcher', () => late.proc.kill());
        assert.equal(l.code, 0);
        assert.deepEqual((JSON.parse(l.stdout.trim()) as { value: unknown }).value, { final: true });

        // Polling alone (no file-system events) still delivers, within the poll interval.
        const poller = child('state-watcher.js', [path, '2', 'poll-only']);
        await poller.ready;
        await sleep(100);
        await v.stateSet({ polled: true, t: Date.now() });
        const p = await withTimeout(poller.done, 10_000, 'poll-only watcher', () => poller.proc.kill());
        const got = p.stdout.trim().split('\n').map((x) => JSON.parse(x) as { value: unknown; lagMs?: number });
        assert.deepEqual(got.map((g) => g.value), [{ final: true }, { polled: true, t: (got[1].value as { t: number }).t }]);
      } finally {
        await v.close();
      }
    });

    it('two processes incrementing one counter with compare-and-set lose no update', async () => {
      const N = 150;
      const [a, b] = [child('kv-counter.js', [path, String(N)]), child('kv-counter.js', [path, String(N)])];
      const ra = await withTimeout(a.done, 60_000, 'counter a', () => a.proc.kill());
      const rb = await withTimeout(b.done, 60_000, 'counter b', () => b.proc.kill());
      for (const r of [ra, rb]) {
        assert.equal(r.stderr, '');
        assert.equal(r.code, 0);
        assert.match(r.stdout, /^conflicts \d+\n$/);
      }
      const v = await openVault(path);
      try {
        assert.equal((await v.kvGet('counter')).value.toString(), String(2 * N));
      } finally {
        await v.close();
      }
    });
  });
}
