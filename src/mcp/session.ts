// State of an `avfs mcp` process (McpApp: the vault, the root, the change feed) and of one
// connected client (Session: its name as the actor, how its calls reach the vault).
//
// Actor attribution: the operation log names whoever a Vault handle was opened for, so each
// client name gets a handle of its own over the one open store (same engine, so one SQLite
// connection and one in-process lock for all), and a call uses the handle of the client that
// made it. With HTTP, each client is its own session with its own McpServer, so four clients at
// once are four handles, never a shared "current actor" that a concurrent call could change.
import { Vault } from '../api/vault.js';
import type { FileOps } from '../api/fileops.js';
import { VfsError, isVfsError, vfsError } from '../errors.js';
import { withWrite } from '../core/scope.js';
import { Confinement } from './confine.js';
import { ChangeFeed } from './feed.js';

export interface McpOptions {
  /** Offer only the tools that read. */
  readOnly?: boolean;
  /** Confine every path to this vault folder. */
  root?: string;
  /** Record this name in the operation log instead of each client's own. */
  actor?: string;
  /** One line to the log (stderr); never stdout, which is the protocol. */
  log?: (line: string) => void;
  /** How often subscribed resources look for changes made by other processes (ms). */
  pollMs?: number;
  /** Time limit for one batch of grep matching (ms). */
  grepTimeoutMs?: number;
  /** avfs's version, for the server info. */
  version?: string;
}

const NAME_MAX = 100;

/** A client's name as an actor: one printable line of reasonable length. */
export function actorName(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  // eslint-disable-next-line no-control-regex
  const s = raw.replace(/[\x00-\x1f\x7f]/g, ' ').trim();
  if (s === '') return undefined;
  return s.length > NAME_MAX ? s.slice(0, NAME_MAX) : s;
}

export class McpApp {
  readonly confine: Confinement;
  readonly feed: ChangeFeed;
  /** The vault's name in resource URIs: avfs://NAME/path. */
  readonly uriName: string;
  readonly log: (line: string) => void;
  private readonly handles = new Map<string, Vault>();

  private constructor(
    readonly vault: Vault,
    readonly opts: McpOptions,
    root: string,
  ) {
    this.confine = new Confinement(root);
    this.log = opts.log ?? (() => {});
    this.feed = new ChangeFeed(vault, opts.pollMs ?? 500, this.log);
    this.uriName = uriName(vault);
  }

  /** Check the options against the vault (the root must be a folder; it is made if missing). */
  static async create(vault: Vault, opts: McpOptions = {}): Promise<McpApp> {
    let root = '/';
    if (opts.root !== undefined && opts.root !== '/') {
      const wanted = vault.abs(opts.root.startsWith('/') ? opts.root : '/' + opts.root);
      let st = await vault.stat(wanted).catch((e: unknown) => {
        if (isVfsError(e, 'ENOENT')) return undefined;
        throw e;
      });
      if (!st) {
        if (opts.readOnly) throw vfsError('ENOENT', wanted, 'no such folder (--root); create it first, or start without --read-only');
        await vault.mkdir(wanted, { recursive: true });
        opts.log?.(`created the root folder ${wanted}`);
        st = await vault.stat(wanted);
      }
      if (st.type !== 'directory') throw vfsError('ENOTDIR', wanted, 'not a directory (--root)');
      // Canonical: a root given through a symlink is confined to where the symlink led today.
      root = st.path;
    }
    return new McpApp(vault, opts, root);
  }

  /** The vault as `actor` writes to it (one handle per name, sharing the open store). */
  handle(actor: string): Vault {
    let h = this.handles.get(actor);
    if (!h) {
      h = new Vault(this.vault.engine, this.vault.record, this.vault.path, this.vault.name, actor);
      this.handles.set(actor, h);
      // Handles hold no state of their own: the oldest can go when many names have come and gone.
      if (this.handles.size > 1000) this.handles.delete(this.handles.keys().next().value!);
    }
    return h;
  }

  private inflight = 0;
  private waiters: (() => void)[] = [];

  /** Run one call, counted, so that shutting down can wait for the calls still running. */
  async track<T>(fn: () => Promise<T>): Promise<T> {
    this.inflight++;
    try {
      return await fn();
    } finally {
      if (--this.inflight === 0) for (const w of this.waiters.splice(0)) w();
    }
  }

  /** Resolves when no call is running (or after `timeoutMs`: a stuck call must not keep the process). */
  idle(timeoutMs = 30_000): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      t.unref();
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  close(): void {
    this.feed.close();
  }
}

function uriName(v: Vault): string {
  if (v.name) return v.name;
  if (v.path === ':memory:') return 'memory';
  const base = v.path.slice(v.path.lastIndexOf('/') + 1).replace(/\.(avfs|lmdb|log|rocksdb)$/, '');
  return base.replace(/[^A-Za-z0-9._-]/g, '_') || 'vault';
}

export class Session {
  constructor(
    readonly app: McpApp,
    private readonly clientName: () => string | undefined,
  ) {}

  /** Who the operation log names for this client's changes. */
  get actor(): string {
    return this.app.opts.actor ?? actorName(this.clientName()) ?? 'mcp-client';
  }

  get vault(): Vault {
    return this.app.handle(this.actor);
  }

  get confine(): Confinement {
    return this.app.confine;
  }

  /**
   * Reads. Confined, the path checks and the reads share one read transaction, so no symlink
   * can appear on a checked path before it is read; otherwise each read is its own call.
   */
  read<T>(fn: (ops: FileOps) => Promise<T>): Promise<T> {
    return this.confine.confined ? this.vault.readBatch(fn) : fn(this.vault);
  }

  /** Reads of the vault now, or as it was at a point (immutable, so no transaction needed). */
  async readAt<T>(at: string | undefined, fn: (ops: FileOps, label?: string) => Promise<T>): Promise<T> {
    if (at === undefined) return this.read((ops) => fn(ops));
    let view;
    try {
      view = await this.vault.at(at);
    } catch (e) {
      if (isVfsError(e)) throw new VfsError(e.code, `at: ${e.message}`);
      throw e;
    }
    return fn(view, view.point.label);
  }

  /**
   * A change. `prepare` resolves paths and reads what it needs; `act` makes the change, with
   * one library call, so that a refusal is logged under that operation's name as the CLI's
   * are. Confined (or `atomic`), both run in one write transaction: the checks still hold when
   * the change is made, and a read-modify-write (edit_file) cannot lose a concurrent write.
   * A failure in `prepare` changes nothing and is not an attempted mutation, so it is
   * reported without an audit record.
   */
  async write<P, T>(prepare: (ops: FileOps) => Promise<P>, act: (ops: FileOps, p: P) => Promise<T>, opts: { atomic?: boolean } = {}): Promise<T> {
    const v = this.vault;
    if (!this.confine.confined && !opts.atomic) return act(v, await prepare(v));
    let early: { e: unknown } | undefined;
    const r = await v.batch(async (ops) => {
      let p: P;
      try {
        p = await prepare(ops);
      } catch (e) {
        early = { e };
        return undefined;
      }
      return { value: await act(ops, p) };
    });
    if (early) throw early.e;
    return r!.value;
  }

  /**
   * Put a read-only call in the operation log, as this client: op `mcp.TOOL`, the vault paths
   * its arguments named (lexically: as given, under the root), and the error code when it was
   * refused. The record changes nothing (as a refused operation's does); mutating tools are
   * logged by the library itself. A failure to log is reported, never the call's failure.
   */
  async recordRead(toolName: string, args: unknown, outcome?: string): Promise<void> {
    const paths = namedPaths(args, this.confine);
    const settings = { chunkSize: this.app.vault.record.chunkSize, actor: this.actor };
    try {
      await withWrite(this.app.vault.engine, settings, (s) => s.record(`mcp.${toolName}`, paths, undefined, outcome));
    } catch (e) {
      this.app.log(`${this.actor}: ${toolName}: could not record the call in the audit log: ${(e as Error).message ?? e}`);
    }
  }

  /** A client path as a canonical vault path inside the root (see confine.ts). */
  resolve(ops: Pick<FileOps, 'lstat' | 'stat'>, path: string, followLast = true): Promise<string> {
    return this.confine.resolve(ops, path, followLast);
  }

  /** A vault path as the client sees it. */
  out(p: string): string {
    return this.confine.show(p);
  }

  /** The root itself may not be removed or moved. */
  notRoot(p: string, what: string): void {
    if (p === this.confine.root) throw vfsError('EBUSY', '/', `cannot ${what} the root folder`);
  }
}

/** Paths a record names at most (read_multiple_files may name thousands). */
const MAX_NAMED = 100;

/** The vault paths a tool's arguments name (`path`, `paths`), as the confinement maps them. */
function namedPaths(args: unknown, c: Confinement): string[] {
  const out: string[] = [];
  if (typeof args !== 'object' || args === null) return out;
  const a = args as { path?: unknown; paths?: unknown };
  const raw = [a.path, ...(Array.isArray(a.paths) ? a.paths : [])];
  for (const p of raw) {
    if (typeof p !== 'string' || out.length >= MAX_NAMED) continue;
    try {
      const v = c.lexical(p.length > 4096 ? p.slice(0, 4096) : p);
      if (!out.includes(v)) out.push(v);
    } catch {
      // A path the library cannot even normalise names nothing.
    }
  }
  return out;
}
