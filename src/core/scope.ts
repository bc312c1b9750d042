// A scope is one storage transaction seen by the filesystem model: the tx, the vault's
// settings, and caches that are only valid inside that tx (so several processes can share
// a vault without ever trusting a stale cache).
//
// Write scopes also number operations: each mutation takes the next sequence number and leaves
// an operation-log record; history rows (inode_log, dirent_log) carry that number, so the tree
// at any sequence number can be rebuilt later. Inodes written in a scope are held back and
// flushed once at the end: a batch of 1,000 files in one folder writes that folder's inode once.
import type { Engine, ReadTx, WriteTx } from '../storage/contract.js';
import { rangeTexts, scan } from '../storage/contract.js';
import { vfsError } from '../errors.js';
import { readVaultConfig, type VaultConfig } from './vault-config.js';
import { InodePaths } from './parents.js';
import { autoPrune } from './retention.js';
import { contentChanged } from './indexing.js';
import {
  META_NEXT_INO,
  META_SEQ,
  ROOT_INO,
  decodeJson,
  direntKey,
  direntLogKey,
  direntPrefix,
  direntAt,
  DIRENT_VALUE_BYTES,
  direntValue,
  encodeJson,
  inodeKey,
  inodeLogKey,
  parseDirent,
  readU64,
  u64,
  type FileType,
  type Inode,
  type OpRecord,
} from './records.js';

export interface VaultSettings {
  chunkSize: number;
  /** Who the operation log names for changes made through this handle. */
  actor: string;
  /** Leave the engine's own full-text index to the next search's catch-up (core/indexing.ts). */
  deferFullText?: boolean;
}

export interface Child {
  name: string;
  ino: number;
  type: FileType;
}

/**
 * What the filesystem model reads: inodes, one directory entry, all entries of a folder.
 * ReadScope answers from the current tables; HistoricalScope (src/history/at.ts) answers the
 * same questions as of an earlier operation, so every read operation works on the past too.
 */
export class ReadScope {
  protected inodes = new Map<number, Inode>();
  /** An entry's type says what its inode is, so a walk through folders may skip reading them. */
  readonly entriesOnly: boolean = true;
  constructor(
    readonly tx: ReadTx,
    readonly settings: VaultSettings,
  ) {}

  async inode(ino: number): Promise<Inode | undefined> {
    const cached = this.inodes.get(ino);
    if (cached) return cached;
    const raw = await this.tx.get('inodes', inodeKey(ino));
    if (raw === undefined) return undefined;
    const node = decodeJson<Inode>(raw);
    this.inodes.set(ino, node);
    return node;
  }

  /** The error for an entry whose inode is not there: damage now; pruned history in the past. */
  missingInode(path: string, ino: number): Error {
    return vfsError('ECORRUPT', path, `entry points to missing inode ${ino}`);
  }

  /**
   * Entries looked up in this tx, and names found missing (null). Every path is resolved from
   * the root, so a mount's batch of requests (or an import) asks for the same folders again
   * and again; the tx's snapshot cannot change under it, and a WriteScope changes entries only
   * through link and unlink, which keep this map current.
   */
  protected entries = new Map<string, Readonly<{ ino: number; type: FileType }> | null>();

  async child(parent: number, name: string): Promise<Readonly<{ ino: number; type: FileType }> | undefined> {
    const key = `${parent}/${name}`;
    const known = this.entries.get(key);
    if (known !== undefined) return known ?? undefined;
    const raw = await this.tx.get('dirents', direntKey(parent, name));
    const entry = raw === undefined ? null : parseDirent(raw);
    this.entries.set(key, entry);
    return entry ?? undefined;
  }

  /**
   * Whether names may have stood in folder `dir` before now, so that its history is worth
   * asking (lastVersionAt). Always, here; a WriteScope knows the folders it made itself.
   */
  mayHaveHistory(_dir: number): boolean {
    return true;
  }

  /** Paths by inode for this tx (inodeAt: an open file's commit finds where the file is now). */
  protected paths: InodePaths | undefined;

  /** The inode's current path, or undefined when it is not in the tree. */
  pathOf(ino: number): Promise<string | undefined> {
    this.paths ??= new InodePaths(this.tx, (parent, name) => this.child(parent, name));
    return this.paths.of(ino);
  }

  /** A folder's entries in name order, paged (a folder may hold millions) without an await per entry. */
  async children(dirIno: number): Promise<Child[]> {
    const out: Child[] = [];
    const prefix = direntPrefix(dirIno);
    const PAGE = 16384;
    let after: string | undefined;
    for (;;) {
      const page = await rangeTexts(this.tx, 'dirents', prefix, DIRENT_VALUE_BYTES, after === undefined ? { limit: PAGE } : { after, limit: PAGE });
      const { texts, values } = page;
      for (let i = 0; i < texts.length; i++) {
        const { ino, type } = direntAt(values, i * DIRENT_VALUE_BYTES);
        out.push({ name: texts[i], ino, type });
      }
      if (texts.length < PAGE) return out;
      after = texts[texts.length - 1];
    }
  }
}

export class WriteScope extends ReadScope {
  private seq: number | undefined;
  private nextIno: number | undefined;
  private dirty = new Set<number>();
  private logged = new Set<number>();
  private ops: OpRecord[] = [];
  private currentSeq = 0;
  /**
   * Inode numbers taken in this scope (numbers are never reused), and folders a name was
   * unlinked from here: a folder made here, with nothing unlinked from it, has no history of
   * entries, and a new file in it need not look one up (an untar's files, an import's).
   */
  private made = new Set<number>();
  private emptied = new Set<number>();
  /** Each inode this scope changed, as it was before the scope touched it (null: it is new). */
  private before = new Map<number, Inode | null>();
  /**
   * Changes made to this scope's held-back state (operations begun, inodes set, numbers taken):
   * a caller running several operations in one scope (the mount's batches) compares it before
   * and after a failed one to know whether it left anything behind.
   */
  mutations = 0;

  constructor(
    override readonly tx: WriteTx,
    settings: VaultSettings,
  ) {
    super(tx, settings);
  }

  /** Start an operation: returns its sequence number, used by the history rows it writes. */
  async begin(op: string, paths: string[], info?: Record<string, unknown>): Promise<number> {
    this.mutations++;
    if (this.seq === undefined) {
      const raw = await this.tx.get('meta', META_SEQ);
      this.seq = raw === undefined ? 0 : readU64(raw);
    }
    this.currentSeq = ++this.seq;
    const rec: OpRecord = { seq: this.currentSeq, timeMs: Date.now(), op, paths, actor: this.settings.actor };
    if (info) rec.info = info;
    this.ops.push(rec);
    return this.currentSeq;
  }

  /** Record a refused operation: it changed nothing, but the log says who tried what. */
  async refused(op: string, paths: string[], code: string): Promise<void> {
    await this.begin(op, paths);
    this.ops[this.ops.length - 1].outcome = code;
  }

  /**
   * Record an operation that changed nothing (a read through the MCP server, say): the log
   * says who looked at what. `outcome` is the error code when it was refused.
   */
  async record(op: string, paths: string[], info?: Record<string, unknown>, outcome?: string): Promise<void> {
    await this.begin(op, paths, info);
    if (outcome !== undefined) this.ops[this.ops.length - 1].outcome = outcome;
  }

  /** Add details to the running operation's log record (sizes, versions...). */
  note(info: Record<string, unknown>): void {
    this.mutations++;
    const rec = this.ops[this.ops.length - 1];
    if (rec) rec.info = { ...rec.info, ...info };
  }

  async allocIno(): Promise<number> {
    this.mutations++;
    if (this.nextIno === undefined) {
      const raw = await this.tx.get('meta', META_NEXT_INO);
      this.nextIno = raw === undefined ? ROOT_INO + 1 : readU64(raw);
    }
    this.made.add(this.nextIno);
    return this.nextIno++;
  }

  override mayHaveHistory(dir: number): boolean {
    return !this.made.has(dir) || this.emptied.has(dir);
  }

  /** In a folder made here every entry went through link() (and `entries`): a name not there is not in it. */
  override async child(parent: number, name: string): Promise<Readonly<{ ino: number; type: FileType }> | undefined> {
    if (this.made.has(parent) && !this.entries.has(`${parent}/${name}`)) return undefined;
    return super.child(parent, name);
  }

  /**
   * Change an inode. The current row is written when the scope ends; the history row now, at
   * this operation's number, unless `history` is false (a folder's mtime moving because a child
   * came or went is not worth a history row per child; it gets one row when the scope ends).
   */
  async setInode(node: Inode, history = true): Promise<void> {
    this.mutations++;
    this.remember(node.ino);
    this.inodes.set(node.ino, node);
    this.dirty.add(node.ino);
    if (history) {
      await this.tx.put('inode_log', inodeLogKey(node.ino, this.currentSeq), encodeJson(node));
      this.logged.add(node.ino);
    }
  }

  async link(parent: number, name: string, ino: number, type: FileType): Promise<void> {
    this.mutations++;
    const v = direntValue(ino, type);
    this.entries.set(`${parent}/${name}`, { ino, type });
    // A new inode changes no path known here; one that was known (as elsewhere or as gone)
    // may bring a whole subtree back, so the paths are found afresh.
    if (this.paths?.knows(ino)) this.paths = undefined;
    await this.tx.put('dirents', direntKey(parent, name), v);
    await this.tx.put('dirent_log', direntLogKey(parent, name, this.currentSeq), v);
    // Where the inode lives, for search hits (an inode has one entry: no hard links).
    await this.tx.put('parents', inodeKey(ino), direntKey(parent, name));
  }

  async unlink(parent: number, name: string): Promise<void> {
    this.mutations++;
    this.entries.set(`${parent}/${name}`, null);
    this.emptied.add(parent);
    this.paths = undefined;
    await this.tx.del('dirents', direntKey(parent, name));
    await this.tx.put('dirent_log', direntLogKey(parent, name, this.currentSeq), Buffer.alloc(0));
  }

  /** The inode is gone from the current tree (its history rows stay). */
  async dropInode(ino: number): Promise<void> {
    this.mutations++;
    // What it was matters at the end (usage counters, search indexes): rm -r drops inodes it
    // never read.
    if (!this.before.has(ino) && !this.inodes.has(ino)) await this.inode(ino);
    this.remember(ino);
    this.dirty.delete(ino);
    this.inodes.delete(ino);
    this.paths = undefined;
    await this.tx.del('inodes', inodeKey(ino));
    await this.tx.del('parents', inodeKey(ino));
  }

  private remember(ino: number): void {
    if (!this.before.has(ino)) this.before.set(ino, this.inodes.get(ino) ?? null);
  }

  /**
   * Keep the vault's usage (file count, logical bytes) and enforce its limits, from the inodes
   * this scope changed. Only growth is refused, so a vault over a limit can always shrink.
   */
  private async account(): Promise<VaultConfig | undefined> {
    let files = 0;
    let bytes = 0;
    let largest = 0;
    for (const [ino, old] of this.before) {
      const now = this.inodes.get(ino);
      const after = now && this.dirty.has(ino) ? now : null;
      if (old?.type === 'file') {
        files--;
        bytes -= old.size;
      }
      if (after?.type === 'file') {
        files++;
        bytes += after.size;
        if (after.size !== old?.size || after.hash !== old?.hash) largest = Math.max(largest, after.size);
      }
    }
    if (files === 0 && bytes === 0 && largest === 0) return undefined;
    const cfg = await readVaultConfig(this.tx);
    const usage = await readUsage(this.tx);
    usage.files += files;
    usage.bytes += bytes;
    const MiB = 1024 * 1024;
    const what = this.ops[this.ops.length - 1]?.paths[0];
    if (cfg.max_file_size_mb !== undefined && largest > cfg.max_file_size_mb * MiB) {
      throw vfsError('EFBIG', what, `file of ${largest} bytes is over the vault's limit max_file_size_mb=${cfg.max_file_size_mb}`);
    }
    if (cfg.max_files !== undefined && files > 0 && usage.files > cfg.max_files) {
      throw vfsError('EDQUOT', what, `the vault would hold ${usage.files} files, over its limit max_files=${cfg.max_files}`);
    }
    if (cfg.max_size_mb !== undefined && bytes > 0 && usage.bytes > cfg.max_size_mb * MiB) {
      throw vfsError('EDQUOT', what, `the vault would hold ${usage.bytes} bytes, over its limit max_size_mb=${cfg.max_size_mb}`);
    }
    await this.tx.put('meta', META_USAGE, encodeJson(usage));
    return cfg;
  }

  /** Write everything held back. Called once, just before the transaction commits. */
  async flush(): Promise<void> {
    const cfg = await this.account();
    // Files whose content changed here get the vault's automatic pruning (prune_strategy).
    const pruneInos: number[] = [];
    const changes: { ino: number; before: Inode | null; after: Inode | null }[] = [];
    for (const [ino, old] of this.before) {
      if (old?.type === 'file' && this.dirty.has(ino) && this.inodes.get(ino)?.version !== old.version) pruneInos.push(ino);
      const after = this.dirty.has(ino) ? this.inodes.get(ino) ?? null : null;
      if (old?.type === 'file' || after?.type === 'file') changes.push({ ino, before: old, after });
    }
    this.before.clear();
    if (changes.length > 0) await contentChanged(this.tx, this.currentSeq, changes, this.settings.chunkSize, this.settings.deferFullText);
    for (const ino of this.dirty) {
      const node = this.inodes.get(ino)!;
      const v = encodeJson(node);
      await this.tx.put('inodes', inodeKey(ino), v);
      if (!this.logged.has(ino)) await this.tx.put('inode_log', inodeLogKey(ino, this.currentSeq), v);
    }
    if (pruneInos.length > 0) {
      const times = new Map(this.ops.map((r) => [r.seq, r.timeMs]));
      const pruned = await autoPrune(this.tx, cfg ?? (await readVaultConfig(this.tx)), pruneInos, times);
      if (pruned > 0) this.note({ pruned });
    }
    this.dirty.clear();
    this.logged.clear();
    for (const rec of this.ops) await this.tx.put('oplog', u64(rec.seq), encodeJson(rec));
    this.ops = [];
    if (this.seq !== undefined) await this.tx.put('meta', META_SEQ, u64(this.seq));
    if (this.nextIno !== undefined) await this.tx.put('meta', META_NEXT_INO, u64(this.nextIno));
  }

  get lastSeq(): number {
    return this.currentSeq;
  }
}

export interface Usage {
  files: number;
  bytes: number;
}

export const META_USAGE = Buffer.from('usage');

/** The vault's current file count and logical bytes (counted once if a vault lacks the row). */
export async function readUsage(tx: ReadTx): Promise<Usage> {
  const raw = await tx.get('meta', META_USAGE);
  if (raw !== undefined) return decodeJson<Usage>(raw);
  const usage = { files: 0, bytes: 0 };
  for await (const e of scan(tx, 'inodes')) {
    const node = decodeJson<Inode>(e.value);
    if (node.type === 'file') {
      usage.files++;
      usage.bytes += node.size;
    }
  }
  return usage;
}

/** Run fn in a write transaction on the engine, flushing the scope before commit. */
export function withWrite<T>(engine: Engine, settings: VaultSettings, fn: (s: WriteScope) => Promise<T>): Promise<T> {
  return engine.write(async (tx) => {
    const scope = new WriteScope(tx, settings);
    const result = await fn(scope);
    await scope.flush();
    return result;
  });
}

export function withRead<T>(engine: Engine, settings: VaultSettings, fn: (s: ReadScope) => Promise<T>): Promise<T> {
  return engine.read((tx) => fn(new ReadScope(tx, settings)));
}
