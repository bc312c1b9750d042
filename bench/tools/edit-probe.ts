// The two rows of issue 12 item 2, measured the way bench/run.ts measures them (library calls
// against node:fs/promises in the same process), but with the subjects interleaved: each round
// times host, then every engine, in turn, so a change in the machine's load falls on all of
// them; medians over the rounds, and ratios vault ÷ host.
//
//   node [--cpu-prof --cpu-prof-dir=DIR] dist/bench/tools/edit-probe.js [ls|overwrite|both]
//        [--engines sqlite,lmdb] [--files 10000] [--big-mib 100] [--rounds 15] [--only-vault] [--write]
// --write also writes the table to bench/results/edit-probe.md (with the date and load average).
//
// ls:        readdir of a flat folder of --files files (host: fs.promises.readdir; vault:
//            vault.readdir), the bench's "flat ls".
// overwrite: one byte written at a random place in the middle of a --big-mib file (host: open,
//            write, fsync, close; vault: vault.writeAt, one durable transaction), the bench's
//            "B.overwrite".
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createVault, type Vault } from '../../src/index.js';
import { median, now } from '../timing.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    engines: { type: 'string' },
    files: { type: 'string' },
    'big-mib': { type: 'string' },
    rounds: { type: 'string' },
    'only-vault': { type: 'boolean' },
    write: { type: 'boolean' },
  },
});
const what = positionals[0] ?? 'both';
const engines = (values.engines ?? 'sqlite,lmdb').split(',').filter(Boolean);
const files = Number(values.files ?? 10_000);
const bigBytes = Math.round(Number(values['big-mib'] ?? 100) * 1024 * 1024);
const rounds = Number(values.rounds ?? 15);
const log = (m: string) => process.stderr.write(`${m}\n`);

interface Side {
  name: string;
  ls: () => Promise<number>;
  overwrite: (offset: number, b: Buffer) => Promise<void>;
  close: () => Promise<void>;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'avfs-probe-'));
  const sides: Side[] = [];
  const names = Array.from({ length: files }, (_, i) => `f${String(i).padStart(5, '0')}.bin`);
  const small = randomBytes(1024);
  const big = what === 'ls' ? Buffer.alloc(0) : randomBytes(bigBytes);
  try {
    if (!values['only-vault']) {
      const root = join(dir, 'host');
      mkdirSync(join(root, 'flat'), { recursive: true });
      if (what !== 'overwrite') for (const n of names) writeFileSync(join(root, 'flat', n), small);
      if (what !== 'ls') writeFileSync(join(root, 'big.bin'), big);
      sides.push({
        name: 'host',
        ls: async () => (await readdir(join(root, 'flat'))).length,
        overwrite: async (offset, b) => {
          const fh = await open(join(root, 'big.bin'), 'r+');
          try {
            await fh.write(b, 0, b.length, offset);
            await fh.sync();
          } finally {
            await fh.close();
          }
        },
        close: async () => {},
      });
    }
    for (const engine of engines) {
      // postgres: on the server AVFS_BENCH_PG_URL names (scripts/bench-pg.mjs starts a throwaway one), a fresh schema.
      const pgUrl = process.env.AVFS_BENCH_PG_URL;
      if (engine === 'postgres' && !pgUrl) throw new Error('the postgres subject needs AVFS_BENCH_PG_URL (or run through scripts/bench-pg.mjs --probe)');
      const ref = engine === 'postgres' ? `${pgUrl}${pgUrl!.includes('?') ? '&' : '?'}schema=probe_${process.pid}` : join(dir, `probe.${engine}`);
      const v: Vault = await createVault(ref, { backend: engine, home: join(dir, 'home'), actor: 'probe' });
      if (what !== 'overwrite') {
        for (let i = 0; i < files; i += 1000) {
          await v.batch(async (ops) => {
            for (const n of names.slice(i, i + 1000)) await ops.writeFile(`/flat/${n}`, small);
          });
        }
      }
      if (what !== 'ls') await v.writeFile('/big.bin', big);
      sides.push({
        name: engine,
        ls: async () => (await v.readdir('/flat')).length,
        overwrite: async (offset, b) => {
          await v.writeAt('/big.bin', offset, b);
        },
        close: () => v.close(),
      });
    }

    const times = new Map<string, { ls: number[]; overwrite: number[] }>(sides.map((s) => [s.name, { ls: [], overwrite: [] }]));
    // Untimed warm-up round.
    for (const s of sides) {
      if (what !== 'overwrite') await s.ls();
      if (what !== 'ls') await s.overwrite(bigBytes >> 1, Buffer.from([1]));
    }
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? sides : [...sides].reverse();
      for (const s of order) {
        const t = times.get(s.name)!;
        if (what !== 'overwrite') {
          const t0 = now();
          const n = await s.ls();
          t.ls.push(now() - t0);
          if (n !== files) throw new Error(`${s.name}: ls gave ${n} names, expected ${files}`);
        }
        if (what !== 'ls') {
          const off = (bigBytes >> 2) + Math.floor(Math.random() * (bigBytes >> 1));
          const t0 = now();
          await s.overwrite(off, Buffer.from([r & 0xff]));
          t.overwrite.push(now() - t0);
        }
      }
    }
    const host = times.get('host');
    const ms = (x: number) => `${(x * 1000).toFixed(2)} ms`;
    const rows: string[] = [];
    for (const phase of ['ls', 'overwrite'] as const) {
      if ((phase === 'ls' && what === 'overwrite') || (phase === 'overwrite' && what === 'ls')) continue;
      for (const s of sides) {
        const t = times.get(s.name)![phase];
        const m = median(t);
        const ratio = host && s.name !== 'host' ? `${(m / median(host[phase])).toFixed(2)}×` : '';
        const minRatio = host && s.name !== 'host' ? `${(Math.min(...t) / Math.min(...host[phase])).toFixed(2)}×` : '';
        console.log(`${phase.padEnd(9)} ${s.name.padEnd(6)} median ${ms(m)} min ${ms(Math.min(...t))}${ratio ? ` ${ratio} host (fastest runs ${minRatio})` : ''}`);
        rows.push(`| ${phase} | ${s.name} | ${ms(m)} | ${ms(Math.min(...t))} | ${ratio || '—'} | ${minRatio || '—'} |`);
      }
    }
    if (values.write) {
      const out = join(dirname(fileURLToPath(import.meta.url)), '../../../bench/results/edit-probe.md');
      const md = [
        '# Issue 12 rows, interleaved',
        '',
        `${new Date().toISOString()} · load average ${loadavg().map((l) => l.toFixed(2)).join(', ')} (2 cores) · ${rounds} rounds`,
        '',
        `\`node dist/bench/tools/edit-probe.js ${process.argv.slice(2).join(' ')}\`: each round times host, then every engine (the order reversed every other round). ls: readdir of a flat folder of ${files} files (host fs.promises.readdir, vault.readdir). overwrite: one byte at a random place in the middle half of a ${(bigBytes / 1048576).toFixed(0)} MiB file (host: open, write, fsync, close; vault: vault.writeAt, one durable transaction). Ratio = vault ÷ host, of the medians and of the fastest runs.`,
        '',
        '| row | subject | median | fastest | ratio (medians) | ratio (fastest) |',
        '| --- | --- | --- | --- | --- | --- |',
        ...rows,
        '',
      ].join('\n');
      writeFileSync(out, md);
      log(`edit-probe: wrote ${out}`);
    }
  } finally {
    for (const s of sides) await s.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  log(`edit-probe: ${(e as Error).message}`);
  process.exitCode = 1;
});
