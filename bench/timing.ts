// Clocks and small statistics for the benchmark. Times are kept in seconds (float) everywhere.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Seconds since an arbitrary origin, sub-millisecond resolution. */
export function now(): number {
  return performance.now() / 1000;
}

/** Run fn once and return how long it took in seconds. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = now();
  await fn();
  return now() - t0;
}

/** Run fn `reps` times and return the median duration (for phases short enough to be noisy). */
export async function timedMedian(reps: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(await timed(fn));
  return median(times);
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// A collection between phases keeps one subject's garbage from being charged to the next
// phase. Node hides gc() unless started with --expose-gc; `npm run bench` starts plain node.
let gcFn: (() => void) | undefined;
export function collectGarbage(): void {
  if (gcFn === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    } catch {
      gcFn = () => {};
    }
  }
  gcFn();
}

export function fmtSeconds(s: number | undefined): string {
  if (s === undefined || Number.isNaN(s)) return '—';
  if (s >= 100) return s.toFixed(0);
  if (s >= 10) return s.toFixed(1);
  if (s >= 1) return s.toFixed(2);
  if (s >= 0.01) return s.toFixed(3);
  return s.toFixed(4);
}

export function fmtRatio(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return '—';
  if (r >= 100) return `${r.toFixed(0)}×`;
  if (r >= 10) return `${r.toFixed(1)}×`;
  return `${r.toFixed(2)}×`;
}

export function fmtBytes(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '—';
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  for (const unit of ['B', 'KiB', 'MiB', 'GiB']) {
    if (v < 1024 || unit === 'GiB') return `${sign}${unit === 'B' ? v.toFixed(0) : v.toFixed(1)} ${unit}`;
    v /= 1024;
  }
  return `${n} B`;
}
