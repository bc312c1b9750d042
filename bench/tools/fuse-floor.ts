// The FUSE floor: what a mount costs when its operations do nothing. The same kernel session as
// `avfs mount` (src/mount/kernel: /dev/fuse read by libuv, requests decoded, replies written
// from the event loop), but the operations answer from a Map of attributes and drop file data.
// So its times are what the protocol itself costs here (the kernel's round trip per request
// and our decoding), below which no handler of ours can bring the mount; compared with the
// host folder in the same run.
//
//   node dist/bench/tools/fuse-floor.js [--tree /usr/include] [--runs 3]
//
// Needs root and /dev/fuse (the kernel driver). Untimed: the tarball is made and read once
// before the runs, so every untar reads it from the page cache.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FuseDevice } from '../../src/mount/kernel/device.js';
import { KernelSession } from '../../src/mount/kernel/session.js';
import { nullOps } from './null-ops.js';

const { values } = parseArgs({ options: { tree: { type: 'string', default: '/usr/include' }, runs: { type: 'string', default: '3' } } });
const runs = Number(values.runs);
const work = mkdtempSync(join(tmpdir(), 'avfs-floor-'));
const tarball = join(work, 'tree.tar');

/** Untimed set-up, before the mount exists (spawnSync blocks the event loop that serves it). */
function sh(cmd: string): void {
  const r = spawnSync('sh', ['-c', cmd], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr.trim().split('\n')[0]}`);
}

function entries(dir: string): number {
  const r = spawnSync('sh', ['-c', `find '${dir}' | wc -l`], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

interface Timed {
  seconds: number;
  /** CPU of the command itself (user + system), from /usr/bin/time. */
  cpu: number;
}

/** Run `cmd` with the event loop free to serve the mount (spawnSync would block it). */
function shAsync(cmd: string): Promise<Timed> {
  const out = join(work, 'time.txt');
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const c = spawn('/usr/bin/time', ['-f', '%U %S', '-o', out, 'sh', '-c', cmd], { stdio: 'ignore' });
    c.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${cmd}: exit ${code}`));
      const [u, s] = readFileSync(out, 'utf8').trim().split(/\s+/).map(Number);
      resolve({ seconds: Number(process.hrtime.bigint() - t) / 1e9, cpu: u + s });
    });
  });
}

const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function main(): Promise<void> {
  sh(`tar -cf '${tarball}' --sort=name --hard-dereference -C '${values.tree}' .`);
  sh(`cat '${tarball}' > /dev/null`);
  const n = entries(values.tree!);
  const mnt = join(work, 'mnt');
  mkdirSync(mnt);
  const session = new KernelSession(nullOps(), { entrySeconds: 1, attrSeconds: 0, log: (l) => console.error(l) });
  let device: FuseDevice;
  try {
    device = await FuseDevice.mount(mnt, 'avfs-floor', (buf, len) => session.handle(buf, len), (l) => console.error(l));
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    console.error(`fuse-floor: cannot mount (needs root and /dev/fuse): ${(e as Error).message.split('\n')[0]}`);
    process.exit(1);
  }
  session.attach(device);
  type Row = { step: string; where: string; seconds: number; tool: number; serving: number };
  const rows: Row[] = [];
  const us = (s: number) => `${((s / n) * 1e6).toFixed(0)} µs`;
  try {
    for (let r = 0; r < runs; r++) {
      for (const where of ['host', 'null mount'] as const) {
        const dir = join(where === 'host' ? work : mnt, `t${r}`);
        // Never a synchronous call on the mount: this process serves it, so it would wait on itself.
        await mkdir(dir);
        await shAsync('sync');
        for (const [step, cmd] of [
          ['untar', `tar -xf '${tarball}' -C '${dir}' --no-same-owner`],
          ['rm -rf', `rm -rf '${dir}'`],
        ]) {
          const c0 = cpu();
          const t = await shAsync(cmd);
          const row = { step, where, seconds: t.seconds, tool: t.cpu, serving: where === 'host' ? 0 : cpu() - c0 };
          rows.push(row);
          console.log(`run ${r + 1} ${where.padEnd(10)} ${step.padEnd(6)} ${t.seconds.toFixed(3)} s (${us(t.seconds)} per entry), ${step === 'untar' ? 'tar' : 'rm'} CPU ${t.cpu.toFixed(2)} s${where === 'host' ? '' : `, serving CPU ${row.serving.toFixed(2)} s`}`);
        }
      }
    }
  } finally {
    await device.unmount().catch((e) => console.error(`unmount: ${(e as Error).message}`));
    rmSync(work, { recursive: true, force: true });
  }
  const pick = (step: string, where: string, f: (x: Row) => number, how: 'median' | 'min') => {
    const xs = rows.filter((x) => x.step === step && x.where === where).map(f).sort((a, b) => a - b);
    return how === 'min' ? xs[0] : xs[Math.floor(xs.length / 2)];
  };
  console.log(`\n${values.tree}: ${n} entries, ${runs} runs`);
  for (const step of ['untar', 'rm -rf']) {
    for (const how of ['median', 'min'] as const) {
      const h = pick(step, 'host', (x) => x.seconds, how);
      const m = pick(step, 'null mount', (x) => x.seconds, how);
      console.log(`${step.padEnd(6)} ${how.padEnd(6)} host ${h.toFixed(3)} s, null mount ${m.toFixed(3)} s: ${(m / h).toFixed(2)}x; its ${step === 'untar' ? 'tar' : 'rm'} CPU ${pick(step, 'null mount', (x) => x.tool, how).toFixed(2)} s (host ${pick(step, 'host', (x) => x.tool, how).toFixed(2)} s), serving CPU ${pick(step, 'null mount', (x) => x.serving, how).toFixed(2)} s`);
    }
  }
}

await main();
