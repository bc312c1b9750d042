// Changes to the vault, for resource-updated notifications. Every change, by this server, the
// CLI or another process, is a record in the vault's operation log, so the feed reads new
// records from the log: every `pollMs` while anyone listens (nothing at all otherwise), and
// at once after this server's own writes (kick()). One feed per process serves every session.
import type { Vault } from '../api/vault.js';
import type { OpRecord } from '../core/records.js';

/** New records, oldest first; `undefined` when too many arrived to read (anything may have changed). */
export type FeedListener = (records: OpRecord[] | undefined) => void;

const MAX_BATCH = 10_000;

export class ChangeFeed {
  private readonly listeners = new Set<FeedListener>();
  private last: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(
    private readonly vault: Vault,
    private readonly pollMs: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Start hearing about changes made from now on; returns the way to stop. */
  async listen(fn: FeedListener): Promise<() => void> {
    // "Now" is fixed before the caller is told it listens: a change made after that is heard.
    this.last ??= await this.newest();
    this.listeners.add(fn);
    if (!this.timer && !this.closed) {
      this.timer = setInterval(() => this.kick(), this.pollMs);
      this.timer.unref();
    }
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
        this.last = undefined;
      }
    };
  }

  private async newest(): Promise<number> {
    return (await this.vault.audit({ limit: 1 }))[0]?.seq ?? 0;
  }

  /** Look at the log now (after a write of our own), or right after the look in progress. */
  kick(): void {
    if (this.listeners.size === 0 || this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.poll()
      .catch((e: unknown) => this.log(`watching for changes failed: ${(e as Error).message}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async poll(): Promise<void> {
    const newest = await this.newest();
    if (this.last === undefined) {
      this.last = newest;
      return;
    }
    if (newest <= this.last) return;
    const count = newest - this.last;
    const from = this.last;
    this.last = newest;
    if (count > MAX_BATCH) {
      this.emit(undefined);
      return;
    }
    // Reads through an MCP server (op `mcp.*`) are logged too, but change nothing.
    const recs = (await this.vault.audit({ limit: count })).filter((r) => r.seq > from && !r.op.startsWith('mcp.')).reverse();
    this.emit(recs);
  }

  private emit(recs: OpRecord[] | undefined): void {
    for (const fn of this.listeners) {
      try {
        fn(recs);
      } catch (e) {
        this.log(`change listener failed: ${(e as Error).message}`);
      }
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }
}
