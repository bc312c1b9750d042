// What the numbers were measured on. The fsync latency matters most: every "durable" result
// is mostly a count of fsyncs times this figure, and it differs 100x between a laptop SSD, a
// cloud volume and a VM whose disk cache ignores flushes.
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import type { Machine } from './report.js';
import { median } from './timing.js';

const FS_MAGIC: Record<number, string> = { 0xef53: 'ext4', 0x01021994: 'tmpfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x794c7630: 'overlayfs', 0x65735546: 'fuse' };

/** Median time of (1 KiB pwrite + fsync) on a file in the temp folder, in milliseconds. */
export function fsyncLatencyMs(samples = 50): number {
  const dir = mkdtempSync(join(tmpdir(), 'avfs-bench-fsync-'));
  const fd = openSync(join(dir, 'probe'), 'w');
  const buf = Buffer.alloc(1024, 7);
  const times: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      writeSync(fd, buf, 0, buf.length, (i % 16) * 1024);
      fsyncSync(fd);
      times.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  return median(times);
}

export function machine(): Machine {
  const tmp = tmpdir();
  let tmpFs = 'unknown';
  try {
    const t = Number(statfsSync(tmp).type);
    tmpFs = FS_MAGIC[t] ?? `fs 0x${t.toString(16)}`;
  } catch {
    // statfs is not everywhere; the report says unknown
  }
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${osType()} ${release()}`,
    tmpdir: tmp,
    tmpFs,
    fsyncMs: fsyncLatencyMs(),
  };
}
