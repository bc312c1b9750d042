// A Vault: one open store plus the file operations over it. Open one with openVault(); create
// with createVault(). Every method is async and safe to call concurrently: calls become
// transactions, which the engine serialises.
import { defaultActor } from '../vault/actor.js';
import type { Engine, EngineStats } from '../storage/contract.js';
import { withRead, withWrite, type VaultSettings } from '../core/scope.js';
import type { VaultRecord } from '../core/records.js';
import { META_SEQ, readU64, decodeJson, type Inode } from '../core/records.js';
import { scan } from '../storage/contract.js';
import { FileOps, type Intent, type Runner } from './fileops.js';
import { isVfsError, vfsError } from '../errors.js';
import type { AuditFilter, PointDiff } from './history.js';
import type { Point } from '../history/at.js';
import type { HistoryEntry, Version } from '../history/versions.js';
import type { Snapshot } from '../history/snapshots.js';
import type { OpRecord } from '../core/records.js';
import type { Stat } from './types.js';
import type { ExportOptions, ExportResult, TransferOptions } from './transfer.js';
import type { CheckResult, TransferResult } from './types.js';
import type { VaultFs } from './fs/vault-fs.js';
import { lazyFacade } from './fs/lazy.js';

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
  async write<T>(fn: Parameters<Runner['write']>[0], intent?: Intent): Promise<T> {
    try {
      return (await withWrite(this.engine, this.settings, fn as never)) as T;
    } catch (e) {
      // The audit log names refused mutations too (the refusal itself changed nothing).
      if (intent && isVfsError(e)) await this.logRefusal(intent, e.code).catch(() => {});
      throw e;
    }
  }
  async logRefusal(intent: Intent, code: string): Promise<void> {
    await withWrite(this.engine, this.settings, async (s) => {
      await s.refused(intent.op, intent.paths, code);
      if (intent.info) s.note(intent.info);
    });
  }
}

const historyModule = (): Promise<typeof import('./history.js')> => import('./history.js');

export class Vault extends FileOps {
  private closed = false;
  private grepUsed = false;
  private fsFacade: VaultFs | undefined;

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
   * The vault as node:fs/promises (readFile, writeFile, open and FileHandle, readdir, stat, rm,
   * cp...), with Node's results and errors; one object per vault, its methods usable detached. See
   * docs/fs-promises.md.
   */
  get fs(): VaultFs {
    // The device number its Stats report: the same for every file of this vault, not another's.
    const dev = parseInt(this.record.id.replace(/-/g, '').slice(0, 7), 16) || 1;
    // Loaded on first call (src/api/fs/lazy.ts): start-up time.
    return (this.fsFacade ??= lazyFacade(async () => new (await import('./fs/vault-fs.js')).VaultFs(this, dev)));
  }

  /**
   * Run several operations as one transaction: all of them happen or none does, and many small
   * writes cost one commit. Do not call the vault itself inside `fn`; use the ops given.
   */
  async batch<T>(fn: (ops: FileOps) => Promise<T>): Promise<T> {
    const settings = this.runner.settings;
    let failed: Intent | undefined;
    try {
      return await withWrite(this.engine, settings, async (scope) => {
        // Inside a batch a refused operation aborts the whole transaction; remember which it was.
        const ops = new FileOps({
          settings,
          read: (f) => f(scope),
          write: (f, intent) => f(scope).catch((e) => ((failed ??= intent), Promise.reject(e))),
        });
        ops.cwd = this.cwd;
        return await fn(ops);
      });
    } catch (e) {
      if (isVfsError(e)) await (this.runner as EngineRunner).logRefusal(failed ?? { op: 'batch', paths: ['/'] }, e.code).catch(() => {});
      throw e;
    }
  }

  /**
   * Run several reads on one consistent view of the vault (one read transaction): what another
   * writer does meanwhile cannot show up half-way. Writes through the ops given are refused.
   */
  async readBatch<T>(fn: (ops: FileOps) => Promise<T>): Promise<T> {
    const settings = this.runner.settings;
    return withRead(this.engine, settings, async (scope) => {
      const ops = new FileOps({
        settings,
        read: (f) => f(scope),
        write: () => Promise.reject(vfsError('EROFS', undefined, 'a read batch cannot write (use batch())')),
      });
      ops.cwd = this.cwd;
      return await fn(ops);
    });
  }

  /** Copy a host file or folder (with `recursive`) into the vault; the folder's contents land at `vaultPath`. */
  async importFrom(hostPath: string, vaultPath: string, opts: TransferOptions = {}): Promise<TransferResult & { skipped: string[] }> {
    // Loaded on use: most commands never move data to or from the host (start-up time).
    const { importTree } = await import('./transfer.js');
    return importTree(this, (fn) => this.batch(fn), hostPath, vaultPath, opts);
  }

  /**
   * Copy a vault file or folder (with `recursive`) to the host; the folder's contents land at
   * `hostPath`. Symlinks are written verbatim (`safeLinks`: those pointing outside are skipped).
   */
  async exportTo(vaultPath: string, hostPath: string, opts: ExportOptions = {}): Promise<ExportResult> {
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
    // What FileHandles still hold is in the file for every reader already, as on a host: keep it.
    await this.fsFacade?.commitOpenFiles();
    this.closed = true;
    // grep's helper thread has a connection of its own to the store.
    if (this.grepUsed) await (await import('./grep-pool.js')).closeHelper(this.engine);
    await this.engine.close();
  }

  // ---- history (src/api/history.ts, loaded on first use: start-up time) ----

  private get hctx(): { engine: Engine; settings: VaultSettings; cwd: string } {
    return { engine: this.engine, settings: this.runner.settings, cwd: this.cwd };
  }

  /** Resolve a snapshot name, operation number or time to an operation number. */
  async point(spec: string | number): Promise<Point> {
    return (await historyModule()).point(this.hctx, spec);
  }

  /** The whole vault as it was at a point (snapshot, operation number, time), read-only. */
  async at(spec: string | number): Promise<FileOps & { point: Point }> {
    return (await historyModule()).at(this.hctx, spec);
  }

  /** A path's versions and removals, newest first (the path may be deleted now). */
  async history(path: string, opts: { limit?: number } = {}): Promise<HistoryEntry[]> {
    return (await historyModule()).history(this.hctx, path, opts.limit);
  }

  /** The operations that touched a folder or anything below it, newest first. */
  async changesBelow(dir: string, opts: { limit?: number } = {}): Promise<OpRecord[]> {
    return (await historyModule()).changesBelow(this.hctx, dir, opts.limit);
  }

  async readVersion(path: string, version: number): Promise<{ version: Version; data: Buffer }> {
    return (await historyModule()).readVersion(this.hctx, path, version);
  }

  async checkout(path: string, version: number): Promise<Stat> {
    return (await historyModule()).checkout(this.hctx, path, version);
  }

  async revert(path: string): Promise<Stat> {
    return (await historyModule()).revert(this.hctx, path);
  }

  /** Name the current state; `withMemory` also saves the agent memory with it (docs/memory.md). */
  async saveSnapshot(name?: string, opts: { withMemory?: boolean } = {}): Promise<Snapshot> {
    return (await historyModule()).saveSnapshot(this.hctx, name, { withMemory: !!opts.withMemory });
  }

  async listSnapshots(): Promise<Snapshot[]> {
    return (await historyModule()).snapshots(this.hctx);
  }

  async deleteSnapshot(name: string): Promise<void> {
    return (await historyModule()).deleteSnapshot(this.hctx, name);
  }

  /**
   * Make the tree equal to a snapshot (or point) again; the current state is saved first. A
   * snapshot saved with memory brings agent memory back too, unless `keepMemory`.
   */
  async restoreSnapshot(spec: string, opts: { keepMemory?: boolean } = {}): ReturnType<typeof import('./history.js').restoreSnapshot> {
    return (await historyModule()).restoreSnapshot(this.hctx, spec, { keepMemory: !!opts.keepMemory });
  }

  /** Paths added, removed and changed between two points (the second defaults to now). */
  async diffPoints(from: string, to?: string): Promise<PointDiff> {
    return (await historyModule()).diffPoints(this.hctx, from, to);
  }

  /** The operation log, newest first, filtered. */
  async audit(filter: AuditFilter = {}): Promise<OpRecord[]> {
    return (await historyModule()).audit(this.hctx, filter);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- retention ----
  // Retention and space (src/api/retention.ts, loaded on first use). See docs/history.md.

  /**
   * Remove old content versions from history by exactly one rule: `keep` the newest N versions
   * of each file, or drop versions replaced more than `olderThanDays` ago. A file's current
   * state and every state a snapshot shows always stay. Content is freed by gc() afterwards.
   */
  async prune(opts: import('./retention.js').PruneOptions): Promise<import('./retention.js').PruneResult> {
    return (await import('./retention.js')).prune(this.engine, this.runner.settings, opts);
  }

  /** Delete chunks and manifests that no current file and no remaining version refers to. */
  async gc(opts: import('./retention.js').GcOptions = {}): Promise<import('./retention.js').GcResult> {
    return (await import('./retention.js')).gc(this.engine, this.runner.settings, opts);
  }

  /** Give freed space back to the file system (sqlite: VACUUM; lmdb and memory: nothing to do). */
  async compact(): Promise<import('./retention.js').CompactResult> {
    return (await import('./retention.js')).compact(this.engine);
  }

  /** prune by the vault's prune_strategy (if set), then gc, then compact. */
  async maintain(opts: import('./retention.js').MaintainOptions = {}): Promise<import('./retention.js').MaintainResult> {
    return (await import('./retention.js')).maintain(this.engine, this.runner.settings, opts);
  }

  /** Counts and sizes: files, versions, snapshots, logical and stored bytes, dedup ratio. */
  async usageStats(opts: import('./retention.js').UsageStatsOptions = {}): Promise<import('./retention.js').UsageStats> {
    return (await import('./retention.js')).usageStats(this.engine, opts);
  }

  /** The per-vault settings that are set (limits, automatic pruning). */
  async getConfig(): Promise<import('./retention.js').VaultConfig> {
    return (await import('./retention.js')).getConfig(this.engine);
  }

  /** Set one vault setting (a value of the key's kind, or its text form); returns the new settings. */
  async setConfig(key: string, value: unknown): Promise<import('./retention.js').VaultConfig> {
    return (await import('./retention.js')).setConfig(this.engine, this.runner.settings, key, value);
  }

  /** Remove one vault setting; returns the new settings. */
  async unsetConfig(key: string): Promise<import('./retention.js').VaultConfig> {
    return (await import('./retention.js')).unsetConfig(this.engine, this.runner.settings, key);
  }

  // ---- search (src/api/search.ts, loaded on first use) ----

  /**
   * Ranked full-text search over the files' text (BM25): words, "phrases", prefix*, AND, OR,
   * NOT, ( ). Best first, each hit with a snippet. See docs/search.md.
   */
  async search(query: string, opts: import('./search.js').SearchOptions = {}): Promise<import('./search.js').SearchResult> {
    return (await import('./search.js')).search(this.hctx, query, opts);
  }

  /** What the search indexes hold and how far they have caught up. */
  async searchStatus(): Promise<import('./search.js').IndexStatus> {
    return (await import('./search.js')).searchStatus(this.hctx);
  }

  /** Drop the search indexes and build them again from the files. */
  async rebuildSearchIndex(): Promise<import('./search.js').IndexStatus> {
    return (await import('./search.js')).rebuildSearch(this.hctx);
  }

  // ---- grep (src/api/grep.ts, loaded on first use; docs/grep.md) ----

  /**
   * Lines of files matching a regular expression (JavaScript syntax by default; `syntax:
   * 'basic'` is GNU grep's, `'fixed'` a plain string), GNU grep's options as fields. `paths`:
   * files, folders (searched below), globs (`/src/**\/*.ts`); none: the working folder. Results
   * come file by file; the trigram index skips files that cannot match. A pattern that would
   * backtrack for ever fails with EINVAL instead of hanging.
   */
  async *grepStream(pattern: string | string[], paths: string[] = [], opts: import('./grep.js').GrepOptions = {}): AsyncGenerator<import('./grep.js').GrepEvent> {
    const g = await import('./grep.js');
    if (opts.index !== false) await g.catchUpForGrep(this.engine, this.record.chunkSize);
    const engine = this.engine;
    const store =
      engine.kind === 'memory'
        ? undefined
        : { kind: engine.kind, path: this.path, chunkSize: this.record.chunkSize, owner: engine, ...(engine.lend ? { lend: () => engine.lend!() } : {}) };
    this.grepUsed = true;
    yield* g.grepOps(this, pattern, paths, opts, opts.index !== false, store);
  }

  /** grepStream() gathered: every file's result, the operands that failed, the files skipped. */
  async grep(pattern: string | string[], paths: string[] = [], opts: import('./grep.js').GrepOptions = {}): Promise<import('./grep.js').GrepResult> {
    const g = await import('./grep.js');
    return g.collect(this.grepStream(pattern, paths, opts), opts.output);
  }

  // ---- memory ----
  // Agent memory: memories, key/value, sessions, streams and live agent state, stored in this
  // vault on every engine, with no daemon (src/api/memory.ts, loaded on first use: start-up
  // time). Every mutation is in the operation log. See docs/memory.md.

  private get mctx(): import('./memory.js').MemoryCtx {
    return { engine: this.engine, settings: this.runner.settings, path: this.path, backend: this.backend };
  }

  /** Store a memory (text and tags); returns it with its new id. */
  async memoryAdd(text: string, opts: import('./memory.js').AddMemoryOptions = {}): Promise<import('./memory.js').Memory> {
    return (await import('./memory.js')).memoryAdd(this.mctx, text, opts);
  }

  /** Memories matching a query (words, "phrases", prefix*, AND/OR/NOT), best first (BM25). */
  async memorySearch(query: string, opts: import('./memory.js').SearchMemoryOptions = {}): Promise<import('./memory.js').MemoryHit[]> {
    return (await import('./memory.js')).memorySearch(this.mctx, query, opts);
  }

  async memoryGet(id: number | string): Promise<import('./memory.js').Memory> {
    return (await import('./memory.js')).memoryGet(this.mctx, id);
  }

  /** Memories newest first, filtered by tags (all of them) and time. */
  async memoryList(opts: import('./memory.js').ListMemoryOptions = {}): Promise<import('./memory.js').Memory[]> {
    return (await import('./memory.js')).memoryList(this.mctx, opts);
  }

  /** Delete a memory (and its index entries); returns what was deleted. */
  async memoryForget(id: number | string): Promise<import('./memory.js').Memory> {
    return (await import('./memory.js')).memoryForget(this.mctx, id);
  }

  /** Set a key to bytes (a string is stored as UTF-8); `ifVersion` makes it a compare-and-set (ECONFLICT). */
  async kvSet(key: string, value: string | Uint8Array, opts: import('./memory.js').KvSetOptions = {}): Promise<import('./memory.js').KvInfo> {
    return (await import('./memory.js')).kvSet(this.mctx, key, value, opts);
  }

  /** A key's value and version (ENOENT when absent or expired). */
  async kvGet(key: string): Promise<import('./memory.js').KvEntry> {
    return (await import('./memory.js')).kvGet(this.mctx, key);
  }

  async kvDelete(key: string, opts: { ifVersion?: number } = {}): Promise<import('./memory.js').KvInfo> {
    return (await import('./memory.js')).kvDel(this.mctx, key, opts);
  }

  /** Live keys in key order, those starting with `prefix` if given. */
  async kvList(prefix?: string): Promise<import('./memory.js').KvInfo[]> {
    return (await import('./memory.js')).kvKeys(this.mctx, prefix);
  }

  /** Delete expired keys now (kv writes also clean up as they go); returns how many. */
  async kvSweep(): Promise<number> {
    return (await import('./memory.js')).kvSweep(this.mctx);
  }

  async sessionStart(opts: import('./memory.js').StartSessionOptions = {}): Promise<import('./memory.js').Session> {
    return (await import('./memory.js')).sessionStart(this.mctx, opts);
  }

  async sessionGet(id: number | string): Promise<import('./memory.js').Session> {
    return (await import('./memory.js')).sessionGet(this.mctx, id);
  }

  /** Sessions newest first, of one intent if given. */
  async sessionList(opts: { intent?: string; limit?: number } = {}): Promise<import('./memory.js').Session[]> {
    return (await import('./memory.js')).sessionList(this.mctx, opts);
  }

  async sessionEnd(id: number | string): Promise<import('./memory.js').Session> {
    return (await import('./memory.js')).sessionEnd(this.mctx, id);
  }

  /** Append bytes to a stream (created on first append); durable and ordered when it returns. */
  async streamAppend(name: string, data: string | Uint8Array): Promise<import('./memory.js').AppendResult> {
    return (await import('./memory.js')).streamAppend(this.mctx, name, data);
  }

  /** Several appends in one transaction (one commit). */
  async streamAppendMany(name: string, parts: readonly (string | Uint8Array)[]): Promise<import('./memory.js').AppendResult[]> {
    return (await import('./memory.js')).streamAppendMany(this.mctx, name, parts);
  }

  /** A stream's appends in order, each whole and once; with `follow`, waits for more like tail -f. */
  async *streamEntries(name: string, opts: import('./memory.js').StreamReadOptions = {}): AsyncGenerator<import('./memory.js').StreamEntry> {
    yield* (await import('./memory.js')).streamEntries(this.mctx, name, opts);
  }

  /** A stream's bytes as a Node Readable (with `follow`, it stays open for new appends). */
  async streamReader(name: string, opts: import('./memory.js').StreamReadOptions = {}): Promise<import('node:stream').Readable> {
    return (await import('./memory.js')).streamReadable(this.mctx, name, opts);
  }

  async streamInfo(name: string): Promise<import('./memory.js').StreamHead> {
    return (await import('./memory.js')).streamInfo(this.mctx, name);
  }

  async streamList(): Promise<import('./memory.js').StreamHead[]> {
    return (await import('./memory.js')).streamNames(this.mctx);
  }

  /** Remove the appends that start before byte offset `before`. */
  async streamTrim(name: string, before: number): Promise<import('./memory.js').TrimResult> {
    return (await import('./memory.js')).streamTrim(this.mctx, name, before);
  }

  /** Publish the agent state (any JSON value); watchers in every process see it. */
  async stateSet(value: unknown): Promise<import('./memory.js').AgentState> {
    return (await import('./memory.js')).stateSet(this.mctx, value);
  }

  /** The current agent state, or undefined if none was ever set. */
  async stateGet(): Promise<import('./memory.js').AgentState | undefined> {
    return (await import('./memory.js')).stateGet(this.mctx);
  }

  /** The current state, then each new one as any process sets it, until `signal` aborts. */
  async *stateWatch(opts: import('./memory.js').WatchOptions = {}): AsyncGenerator<import('./memory.js').AgentState> {
    yield* (await import('./memory.js')).stateWatch(this.mctx, opts);
  }
}

export { defaultActor };
