// Which FUSE requests a command makes, and how long each kind takes: the kernel's fuse
// tracepoints (fuse:fuse_request_send / fuse_request_end, in recent kernels) in a tracefs instance of
// our own, paired by request id. Latency = end - send as the kernel sees it (queueing and the
// serving process's time; no reply is sent for FORGET, so it has a count and no time). Needs
// root; when tracefs is not mounted it is mounted for the run and unmounted at close.
// Used by `node dist/bench/mount.js --fuse-ops`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const TRACEFS = '/sys/kernel/tracing';

export interface FuseOpStats {
  op: string;
  count: number;
  /** Sum of request latencies, seconds (overlapping requests count each). */
  seconds: number;
  errors: number;
}

export interface FuseOpsRun {
  ops: FuseOpStats[];
  /** Events the ring buffer dropped (the counts are then low). */
  lost: number;
}

export class FuseTrace {
  private constructor(
    private readonly dir: string,
    private readonly mountedTracefs: boolean,
  ) {}

  /** A trace instance, or why there can be none. */
  static open(): FuseTrace | string {
    let mounted = false;
    if (!existsSync(join(TRACEFS, 'instances'))) {
      const m = spawnSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS], { encoding: 'utf8' });
      if (m.status !== 0) return `tracefs is not mounted at ${TRACEFS} and mounting it failed: ${(m.stderr || '').trim()}`;
      mounted = true;
    }
    if (!existsSync(join(TRACEFS, 'events/fuse/fuse_request_send'))) {
      if (mounted) spawnSync('umount', [TRACEFS]);
      return 'this kernel has no fuse tracepoints (fuse:fuse_request_send)';
    }
    const dir = join(TRACEFS, 'instances', `avfs-bench-${process.pid}`);
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'buffer_size_kb'), '65536');
    } catch (e) {
      if (mounted) spawnSync('umount', [TRACEFS]);
      return `cannot make a trace instance: ${(e as Error).message}`;
    }
    return new FuseTrace(dir, mounted);
  }

  start(): void {
    writeFileSync(join(this.dir, 'trace'), '');
    writeFileSync(join(this.dir, 'events/fuse/enable'), '1');
  }

  /** Stop, and sum up the requests of one connection (the mount's st_dev), or of all when undefined. */
  stop(connection?: number): FuseOpsRun {
    writeFileSync(join(this.dir, 'events/fuse/enable'), '0');
    const text = readFileSync(join(this.dir, 'trace'), 'utf8');
    const sent = new Map<string, { op: string; t: number }>();
    const by = new Map<string, FuseOpStats>();
    const stat = (op: string): FuseOpStats => {
      let s = by.get(op);
      if (!s) by.set(op, (s = { op, count: 0, seconds: 0, errors: 0 }));
      return s;
    };
    let lost = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith('#')) {
        const m = /entries-in-buffer\/entries-written: (\d+)\/(\d+)/.exec(line);
        if (m) lost = Number(m[2]) - Number(m[1]);
        continue;
      }
      const s = /\s(\d+\.\d+): fuse_request_send: connection (\d+) req (\d+) opcode \d+ \((\w+)\)/.exec(line);
      if (s) {
        if (connection !== undefined && Number(s[2]) !== connection) continue;
        const op = s[4].replace(/^FUSE_/, '');
        stat(op).count++;
        sent.set(`${s[2]}:${s[3]}`, { op, t: Number(s[1]) });
        continue;
      }
      const e = /\s(\d+\.\d+): fuse_request_end: connection (\d+) req (\d+) len \d+ error (-?\d+)/.exec(line);
      if (e) {
        const k = `${e[2]}:${e[3]}`;
        const x = sent.get(k);
        if (!x) continue;
        sent.delete(k);
        const st = stat(x.op);
        st.seconds += Number(e[1]) - x.t;
        if (Number(e[4]) !== 0) st.errors++;
      }
    }
    return { ops: [...by.values()].sort((a, b) => b.seconds - a.seconds || b.count - a.count), lost };
  }

  close(): void {
    try {
      writeFileSync(join(this.dir, 'events/fuse/enable'), '0');
      rmdirSync(this.dir);
    } catch {
      // already gone
    }
    if (this.mountedTracefs) spawnSync('umount', [TRACEFS]);
  }
}
