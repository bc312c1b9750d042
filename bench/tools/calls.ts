// Where one operation's time goes, by storage call: wraps a vault's engine so that every
// transaction and every tx.get/has/range/put/del is counted and timed, then runs a few
// representative operations and prints, per operation, the calls and the time outside the
// callback (lock + BEGIN + COMMIT, which is where the fsync happens).
//
//   node dist/bench/tools/calls.js [sqlite|lmdb|memory] [--files N] [--big-mib N]
//        [--plain] [--marks FILE]
// --plain skips the wrapping (for a clean CPU profile); --marks writes each operation's time
// window on the profiler's clock, for `cpuprofile.js --marks FILE`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createVault, openVault, type Vault } from '../../src/index.js';
import type { Engine, ReadTx, WriteTx } from '../../src/storage/contract.js';
import { makeBigFile, makeSmallSet } from '../data.js';

interface Tally {
  ops: number;
  total: number;
  txs: number;
  /** Time outside the transaction callbacks: lock wait, BEGIN, COMMIT (fsync). */
  outside: number;
  calls: Map<string, { n: number; t: number; bytes: number }>;
}

const newTally = (): Tally => ({ ops: 0, total: 0, txs: 0, outside: 0, calls: new Map() });
let cur: Tally = newTally();

function wrapTx<T extends ReadTx>(tx: T): T {
  return new Proxy(tx, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv);
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        const t0 = performance.now();
        const r = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        const dt = performance.now() - t0;
        const key = `${String(prop)} ${String(args[0])}`;
        const c = cur.calls.get(key) ?? { n: 0, t: 0, bytes: 0 };
        c.n++;
        c.t += dt;
        if (prop === 'put') c.bytes += (args[2] as Uint8Array).length;
        if (prop === 'get' && r instanceof Uint8Array) c.bytes += r.length;
        if (prop === 'range' && Array.isArray(r)) c.bytes += r.length;
        cur.calls.set(key, c);
        return r;
      };
    },
  });
}

function instrument(engine: Engine): void {
  const wrap = (kind: 'read' | 'write') => {
    const orig = engine[kind].bind(engine) as <R>(fn: (tx: WriteTx) => Promise<R>) => Promise<R>;
    (engine as unknown as Record<string, unknown>)[kind] = async <R>(fn: (tx: WriteTx) => Promise<R>) => {
      let inside = 0;
      const t0 = performance.now();
      const r = await orig(async (tx) => {
        const t1 = performance.now();
        try {
          return await fn(wrapTx(tx));
        } finally {
          inside += performance.now() - t1;
        }
      });
      cur.txs++;
      cur.outside += performance.now() - t0 - inside;
      return r;
    };
  };
  wrap('read');
  wrap('write');
}

const marks: { name: string; ops: number; fromUs: number; toUs: number }[] = [];
const clockUs = () => Number(process.hrtime.bigint() / 1000n);

async function measure(name: string, ops: number, fn: () => Promise<void>): Promise<void> {
  cur = newTally();
  cur.ops = ops;
  const fromUs = clockUs();
  const t0 = performance.now();
  await fn();
  cur.total = performance.now() - t0;
  marks.push({ name, ops, fromUs, toUs: clockUs() });
  const per = (x: number) => ((x / ops) * 1000).toFixed(1);
  const inCalls = [...cur.calls.values()].reduce((a, c) => a + c.t, 0);
  console.log(`\n${name}: ${ops} ops, ${per(cur.total)} µs/op; ${(cur.txs / ops).toFixed(2)} tx/op`);
  console.log(`  outside callback (lock, BEGIN, COMMIT/fsync): ${per(cur.outside)} µs/op`);
  console.log(`  inside storage calls:                         ${per(inCalls)} µs/op`);
  console.log(`  rest (agentvfs JS: paths, JSON, hashing...):  ${per(cur.total - cur.outside - inCalls)} µs/op`);
  const rows = [...cur.calls.entries()].sort((a, b) => b[1].t - a[1].t);
  for (const [k, c] of rows) {
    console.log(`    ${k.padEnd(20)} ${(c.n / ops).toFixed(2).padStart(8)} calls/op ${per(c.t).padStart(9)} µs/op${c.bytes ? `  ${Math.round(c.bytes / ops)} ${k.startsWith('range') ? 'rows' : 'B'}/op` : ''}`);
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { files: { type: 'string' }, 'big-mib': { type: 'string' }, plain: { type: 'boolean' }, marks: { type: 'string' } } });
  const engineName = positionals[0] ?? 'sqlite';
  const files = Number(values.files ?? 2000);
  const bigMiB = Number(values['big-mib'] ?? 100);
  const dir = mkdtempSync(join(tmpdir(), 'avfs-calls-'));
  try {
    const v: Vault =
      engineName === 'memory'
        ? await openVault(':memory:', { home: join(dir, 'home') })
        : await createVault(join(dir, engineName === 'lmdb' ? 'v.lmdb' : 'v.avfs'), { backend: engineName, home: join(dir, 'home') });
    if (!values.plain) instrument(v.engine);
    const set = makeSmallSet(files, 1024);
    console.log(`engine ${engineName}, ${files} files of 1 KiB (${set.folders.length} folders), big file ${bigMiB} MiB`);
    await measure('durable writeFile (1 KiB, new file)', files, async () => {
      for (const f of set.tree) await v.writeFile(f.path, f.data);
    });
    await measure('readFile (1 KiB)', files, async () => {
      for (const f of set.tree) await v.readFile(f.path);
    });
    await measure('readdir (one folder)', set.folders.length, async () => {
      for (const d of set.folders) await v.readdir(d);
    });
    await measure('list with stats (one folder)', set.folders.length, async () => {
      for (const d of set.folders) await v.list(d);
    });
    const big = makeBigFile(bigMiB);
    await measure(`writeFile (${bigMiB} MiB)`, 1, () => v.writeFile('/big', big).then(() => {}));
    await measure(`readFile (${bigMiB} MiB)`, 1, () => v.readFile('/big').then(() => {}));
    await measure('appendFile (1 KiB to the big file)', 5, async () => {
      for (let i = 0; i < 5; i++) await v.appendFile('/big', big.subarray(0, 1024));
    });
    await measure('writeAt (1 byte, middle of the big file)', 5, async () => {
      for (let i = 0; i < 5; i++) await v.writeAt('/big', big.length / 2 + i * 65537, Buffer.from([i]));
    });
    await v.close();
    if (values.marks) writeFileSync(values.marks, JSON.stringify(marks, null, 1));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
