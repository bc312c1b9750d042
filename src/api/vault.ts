// A Vault: one open store plus the file operations over it. Open one with openVault(); create
// with createVault(). Every method is async and safe to call concurrently: calls become
// transactions, which the engine serialises.
import { defaultActor } from '../vault/actor.js';
import type { Engine, EngineStats } from '../storage/contract.js';
import { withRead, withWrite, type VaultSettings } from '../core/scope.js';
import type { VaultRecord } from '../core/records.js';
import { META_SEQ, readU64, decodeJson, type Inode } from '../core/records.js';
import { scan } from '../storage/contract.js';
import { FileOps, type Runner } from './fileops.js';
import type { TransferOptions } from './transfer.js';
import type { CheckResult, TransferResult } from './types.js';

export interface VaultInfo {
  name?: string;
  path: string;
  backend: string;
  format: number;
  id: string;
  created: Date;
  chunkSize: number;
  /** Operations recorded so far. */
  operations: number;
  files: number;
  dirs: number;
  symlinks: number;
  /** Sum of current file sizes. */
  logicalBytes: number;
  /** Bytes the store takes on disk. */
  storedBytes: number;
  supports: Engine['supports'];
}

class EngineRunner implements Runner {
  constructor(
    private engine: Engine,
    readonly settings: VaultSettings,
  ) {}
  read<T>(fn: Parameters<Runner['read']>[0]): Promise<T> {
    return withRead(this.engine, this.settings, fn as never) as Promise<T>;
  }
  write<T>(fn: Parameters<Runner['write']>[0]): Promise<T> {
    return withWrite(this.engine, this.settings, fn as never) as Promise<T>;
  }
}

export class Vault extends FileOps {
  private closed = false;

  constructor(
    readonly engine: Engine,
    readonly record: VaultRecord,
    readonly path: string,
    readonly name: string | undefined,
    actor?: string,
  ) {
    // The OS user name is looked up only when a write first needs it (a read-only command never
    // does, and the lookup reads the user database).
    let who = actor;
    const settings = {
      chunkSize: record.chunkSize,
      get actor(): string {
        return (who ??= defaultActor());
      },
    };
    super(new EngineRunner(engine, settings));
  }

  get backend(): string {
    return this.record.backend;
  }

  get actor(): string {
    return this.runner.settings.actor;
  }

  /**
   * Run several operations as one transaction: all of them happen or none does, and many small
   * writes cost one commit. Do not call the vault itself inside `fn`; use the ops given.
   */
  async batch<T>(fn: (ops: FileOps) => Promise<T>): Promise<T> {
    const settings = this.runner.settings;
    return withWrite(this.engine, settings, async (scope) => {
      const ops = new FileOps({ settings, read: (f) => f(scope), write: (f) => f(scope) });
      ops.cwd = this.cwd;
      return fn(ops);
    });
  }

  /** Copy a host file or folder (with `recursive`) into the vault; the folder's contents land at `vaultPath`. */
  async importFrom(hostPath: string, vaultPath: string, opts: TransferOptions = {}): Promise<TransferResult & { skipped: string[] }> {
    // Loaded on use: most commands never move data to or from the host (start-up time).
    const { importTree } = await import('./transfer.js');
    return importTree(this, (fn) => this.batch(fn), hostPath, vaultPath, opts);
  }

  /** Copy a vault file or folder (with `recursive`) to the host; the folder's contents land at `hostPath`. */
  async exportTo(vaultPath: string, hostPath: string, opts: TransferOptions = {}): Promise<TransferResult> {
    const { exportTree } = await import('./transfer.js');
    return exportTree(this, vaultPath, hostPath, opts);
  }

  async check(): Promise<CheckResult> {
    const { checkVault } = await import('../vault/check.js');
    return checkVault(this.engine, this.record.chunkSize);
  }

  async info(): Promise<VaultInfo> {
    // One snapshot over the inode table: cheaper than walking folders, and consistent.
    const { seq, counts } = await this.engine.read(async (tx) => {
      const counts = { files: 0, dirs: 0, symlinks: 0, logicalBytes: 0 };
      for await (const e of scan(tx, 'inodes')) {
        const node = decodeJson<Inode>(e.value);
        if (node.type === 'directory') counts.dirs++;
        else if (node.type === 'symlink') counts.symlinks++;
        else {
          counts.files++;
          counts.logicalBytes += node.size;
        }
      }
      const raw = await tx.get('meta', META_SEQ);
      return { seq: raw ? readU64(raw) : 0, counts };
    });
    const st = await this.engine.stats();
    return {
      ...(this.name ? { name: this.name } : {}),
      path: this.path,
      backend: this.backend,
      format: this.record.format,
      id: this.record.id,
      created: new Date(this.record.createdMs),
      chunkSize: this.record.chunkSize,
      operations: seq,
      ...counts,
      storedBytes: st.bytesOnDisk,
      supports: this.engine.supports,
    };
  }

  async stats(): Promise<EngineStats> {
    return this.engine.stats();
  }

  async sync(): Promise<void> {
    await this.engine.sync();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.engine.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

export { defaultActor };
