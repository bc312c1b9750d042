// One history operation, repeated, on a vault built like bench/history.ts builds it: for a CPU
// profile (node --cpu-prof) and a count of storage calls per operation.
//
//   node [--cpu-prof --cpu-prof-dir=DIR] dist/bench/tools/history-probe.js OP [--engine sqlite]
//        [--size N] [--reps N] [--count] [--marks FILE]
//   OP: save | lsat | listat | log | log10 | catv1 | restore | rewrite | build
// --size is files (save, lsat, listat, restore, rewrite, build) or versions (log, log10, catv1).
// --count wraps the engine and prints the storage calls made by one run of OP.
// --marks writes the timed window on the profiler's clock, for `cpuprofile.js --marks FILE`
// (the stacks lose probe_OP after its first await, so --focus sees little of an async OP).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createVault, openVault, type Vault } from '../../src/index.js';
import type { Engine, ReadTx } from '../../src/storage/contract.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { engine: { type: 'string' }, size: { type: 'string' }, reps: { type: 'string' }, count: { type: 'boolean' }, marks: { type: 'string' } },
});
const op = positionals[0] ?? 'log';
const engine = values.engine ?? 'sqlite';
const size = Number(values.size ?? 10_000);
const reps = Number(values.reps ?? 5);

const POOL = randomBytes(1 << 16);
const content = (i: number, k: number, bytes: number) => {
  const head = Buffer.from(`${i}:${k}\n`);
  const off = (i * 131 + k * 17) % (POOL.length - bytes);
  return Buffer.concat([head, POOL.subarray(off, off + bytes - head.length)]);
};
const pad = (n: number, w: number) => String(n).padStart(w, '0');
const pathOf = (i: number) => `/tree/d${pad(Math.floor(i / 100), 4)}/f${pad(i % 100, 2)}.txt`;

async function writeBatched(v: Vault, n: number, item: (j: number) => [string, Buffer]): Promise<void> {
  for (let j0 = 0; j0 < n; j0 += 1000) {
    await v.batch(async (ops) => {
      for (let j = j0; j < Math.min(n, j0 + 1000); j++) await ops.writeFile(...item(j));
    });
  }
}

// Storage calls per collection, when --count.
const calls = new Map<string, number>();
let counting = false;
function instrument(e: Engine): void {
  const wrap = <T extends ReadTx>(tx: T): T =>
    new Proxy(tx, {
      get(t, prop, recv) {
        const f = Reflect.get(t, prop, recv);
        if (typeof f !== 'function') return f;
        return (...args: unknown[]) => {
          if (counting) {
            const opts = args[1] as { limit?: number } | undefined;
            const k = `${String(prop)} ${String(args[0])}${prop === 'range' && opts?.limit === 1 ? ' (limit 1)' : ''}`;
            calls.set(k, (calls.get(k) ?? 0) + 1);
          }
          return (f as (...a: unknown[]) => unknown).apply(t, args);
        };
      },
    });
  const r = e.read.bind(e);
  const w = e.write.bind(e);
  (e as { read: Engine['read'] }).read = (fn) => r((tx) => fn(wrap(tx)));
  (e as { write: Engine['write'] }).write = (fn) => w((tx) => fn(wrap(tx)));
}

const fns: Record<string, (v: Vault) => Promise<unknown>> = {
  probe_save: (v) => v.saveSnapshot(),
  probe_lsat: async (v) => (await v.at('mid')).readdir(`/tree/d${pad(Math.floor(size / 200), 4)}`),
  probe_listat: async (v) => (await v.at('mid')).list(`/tree/d${pad(Math.floor(size / 200), 4)}`),
  probe_log: (v) => v.history('/log/notes.txt'),
  probe_log10: (v) => v.history('/log/notes.txt', { limit: 10 }),
  probe_catv1: (v) => v.readVersion('/log/notes.txt', 1),
  probe_restore: (v) => v.restoreSnapshot('base'),
  probe_rewrite: (v) => writeBatched(v, 1000, (j) => [pathOf((j * 7919) % size), content(j, 2 + Math.random() * 1e9, 320)]),
  probe_build: (v) => writeBatched(v, 1000, (j) => [`/new/d${pad(Math.floor(j / 100), 4)}/${Math.random()}.txt`, content(j, 1, 300)]),
};

/** Untimed, before each run of OP. */
const before: Record<string, (v: Vault) => Promise<unknown>> = {
  // Every file changes after `base`, so the restore changes them all back.
  restore: (v) => writeBatched(v, size, (i) => [pathOf(i), content(i, 3 + Math.random() * 1e9, 320)]),
};

async function main(): Promise<void> {
  const fn = fns[`probe_${op}`];
  if (!fn) throw new Error(`unknown OP ${op} (${Object.keys(fns).map((k) => k.slice(6)).join(', ')})`);
  const dir = mkdtempSync(join(tmpdir(), 'avfs-history-probe-'));
  const opts = { home: join(dir, 'home'), actor: 'bench' };
  const v = engine === 'memory' ? await openVault(':memory:', opts) : await createVault(join(dir, engine === 'sqlite' ? 'p.avfs' : 'p.lmdb'), { ...opts, backend: engine });
  try {
    const t0 = performance.now();
    if (['log', 'log10', 'catv1'].includes(op)) await writeBatched(v, size, (k) => ['/log/notes.txt', content(0, k + 1, 300)]);
    else {
      await writeBatched(v, size, (i) => [pathOf(i), content(i, 1, 300)]);
      await v.saveSnapshot('base');
      if (['lsat', 'listat'].includes(op)) {
        await writeBatched(v, size / 2, (j) => [pathOf((j * 7919) % size), content(j, 2, 320)]);
        await v.saveSnapshot('mid');
        await writeBatched(v, size / 2, (j) => [pathOf(((j + size / 2) * 7919) % size), content(j, 2, 320)]);
      }
    }
    console.error(`set-up ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    if (values.count) instrument(v.engine);
    await before[op]?.(v);
    await fn(v);
    const times: number[] = [];
    const clockUs = () => Number(process.hrtime.bigint() / 1000n);
    const fromUs = clockUs();
    let spent = 0;
    for (let i = 0; i < reps; i++) {
      if (before[op]) {
        const b = clockUs();
        await before[op](v);
        spent += clockUs() - b;
      }
      counting = values.count === true && i === 0;
      const t = performance.now();
      await fn(v);
      times.push(performance.now() - t);
      counting = false;
    }
    if (values.marks) writeFileSync(values.marks, JSON.stringify([{ name: `${op} ${engine} ${size}${spent ? ' (window includes the untimed set-up of each run)' : ''}`, ops: reps, fromUs, toUs: clockUs() }]));
    console.log(`${op} ${engine} size ${size}: ${times.map((t) => t.toFixed(2)).join(', ')} ms`);
    if (values.count) for (const [k, n] of [...calls].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(8)}  ${k}`);
  } finally {
    await v.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
