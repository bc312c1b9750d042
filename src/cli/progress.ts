// A one-line progress bar on stderr for long work (import, export, migrate): files done/total, bytes,
// rate. Drawn only on a terminal (the caller decides: never with --json, --quiet or a pipe),
// redrawn at most ten times a second, and wiped at the end so the summary starts clean.
import type { TransferProgress } from '../api/types.js';
import { humanBytes } from './output.js';

export interface ProgressSink {
  write(data: string): unknown;
}

export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;
  private readonly started: number;

  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = 100,
    /** What `files` counts in the line (migrate counts store entries). */
    private readonly unit = 'files',
  ) {
    this.started = now();
  }

  update(p: TransferProgress, force = false): void {
    const t = this.now();
    if (!force && this.drawn && t - this.lastDraw < this.intervalMs) return;
    this.lastDraw = t;
    this.drawn = true;
    this.sink.write(`\r\x1b[K${this.line(p, t)}`);
  }

  line(p: TransferProgress, t = this.now()): string {
    const secs = Math.max((t - this.started) / 1000, 0.001);
    const width = String(p.totalFiles).length;
    return `${this.label}  ${String(p.files).padStart(width)}/${p.totalFiles} ${this.unit}  ${humanBytes(p.bytes)}  ${humanBytes(Math.round(p.bytes / secs))}/s`;
  }

  /** Wipe the line (only if something was drawn). */
  clear(): void {
    if (this.drawn) this.sink.write('\r\x1b[K');
    this.drawn = false;
  }
}
