// Kernel requests to the mount's operations (ops.ts, the same ones fuse-native calls): decode a
// request, find the paths its node ids stand for (nodes.ts), call the operation, encode its
// answer. This is the work libfuse's high-level layer did for fuse-native, with three
// differences that save requests and time:
//  - SETATTR (chmod, chown, truncate and times in one request) is answered with the attributes
//    it leaves, from here; libfuse 2 made a getattr call of its own across to the event loop;
//  - CREATE answers with the new file's attributes and its open handle at once;
//  - nothing waits on a thread: each reply is written as soon as its operation settles.
import { constants as os } from 'node:os';
import { OMIT_MS } from '../fuse.js';
import {
  Fattr,
  FOPEN_KEEP_CACHE,
  GETATTR_FH,
  IN_HEADER,
  Init,
  Op,
  OP_NAMES,
  RENAME_NOREPLACE,
  attrOut,
  entryOut,
  initOut,
  names,
  openOut,
  outHeader,
  putDirent,
  readHeader,
  statfsOut,
  u64,
  type InHeader,
  type StatLike,
  type StatfsLike,
} from './abi.js';
import type { FuseDevice } from './device.js';
import { Nodes, type Node } from './nodes.js';

type Cb = (code: number, ...rest: unknown[]) => void;
type OpFn = (...args: unknown[]) => void;

export interface SessionOptions {
  /** Seconds the kernel may keep a name (entry) and attributes. */
  entrySeconds: number;
  attrSeconds: number;
  log(line: string): void;
  /** Log every request and its answer (AVFS_MOUNT_TRACE). */
  trace?: boolean;
}

interface DirHandle {
  path: string;
  entries?: { names: string[]; stats: StatLike[] };
}

const ENOENT = -os.errno.ENOENT;
const ENOSYS = -os.errno.ENOSYS;
const EINVAL = -os.errno.EINVAL;
const EEXIST = -os.errno.EEXIST;
const EBADF = -os.errno.EBADF;

function fileType(mode: number): number {
  return (mode >>> 12) & 0o17;
}

export class KernelSession {
  readonly nodes = new Nodes();
  private readonly dirs = new Map<number, DirHandle>();
  private nextDir = 1;
  private device!: FuseDevice;

  constructor(
    private readonly ops: Record<string, unknown>,
    private readonly opts: SessionOptions,
  ) {}

  attach(device: FuseDevice): void {
    this.device = device;
  }

  private op(name: string): OpFn {
    return this.ops[name] as OpFn;
  }

  /** Call an operation; resolves with its code (0 or -errno) and what it answered. */
  private call(name: string, ...args: unknown[]): Promise<unknown[]> {
    return new Promise((resolve) => this.op(name)(...args, (...r: unknown[]) => resolve(r)));
  }

  private send(h: InHeader, error: number, body?: Buffer): boolean {
    if (this.opts.trace) this.opts.log(`${OP_NAMES[h.opcode] ?? h.opcode} #${h.nodeid} -> ${error ? `error ${error}` : `${body?.length ?? 0} bytes`}`);
    return this.device.reply(body && body.length ? [outHeader(h, error, body.length), body] : [outHeader(h, error, 0)]);
  }

  private fail(h: InHeader, code: number): void {
    this.send(h, code < 0 ? code : -os.errno.EIO);
  }

  /** Answer a request that names a new entry (lookup, create, mkdir, ...) with its node. */
  private entry(h: InHeader, parent: Node, name: string, st: StatLike, extra?: Buffer): Node | undefined {
    const node = this.nodes.remember(parent, name);
    const body = entryOut(node.id, st, this.opts.entrySeconds, this.opts.attrSeconds);
    if (this.send(h, 0, extra ? Buffer.concat([body, extra]) : body)) return node;
    // A reply the kernel did not take (interrupted) must not count as a lookup it will forget.
    this.nodes.forget(node.id, 1);
    return undefined;
  }

  /** After an operation that made `path`: its attributes, then the entry reply. */
  private async made(h: InHeader, parent: Node, name: string, path: string, extra?: Buffer): Promise<void> {
    const [code, st] = await this.call('getattr', path);
    if (code) return this.fail(h, code as number);
    this.entry(h, parent, name, st as StatLike, extra);
  }

  handle(b: Buffer, len: number): void {
    const h = readHeader(b);
    switch (h.opcode) {
      case Op.INIT:
        return this.init(h, b);
      case Op.FORGET:
        return this.nodes.forget(h.nodeid, u64(b, IN_HEADER));
      case Op.BATCH_FORGET: {
        const count = b.readUInt32LE(IN_HEADER);
        for (let i = 0, o = IN_HEADER + 8; i < count && o + 16 <= len; i++, o += 16) this.nodes.forget(u64(b, o), u64(b, o + 8));
        return;
      }
      case Op.INTERRUPT:
        // The operation runs on; its caller was told EINTR by the kernel, which drops our reply.
        return;
      case Op.DESTROY:
        this.send(h, 0);
        return;
      // What goes by handle needs no path (and works on a file unlinked while open).
      case Op.READ: {
        const fh = u64(b, IN_HEADER);
        const offset = u64(b, IN_HEADER + 8);
        const size = b.readUInt32LE(IN_HEADER + 16);
        const buf = Buffer.allocUnsafe(size);
        return this.op('read')('', fh, buf, size, offset, (n: number) => (n < 0 ? this.fail(h, n) : void this.send(h, 0, buf.subarray(0, n))));
      }
      case Op.WRITE: {
        const fh = u64(b, IN_HEADER);
        const offset = u64(b, IN_HEADER + 8);
        const size = b.readUInt32LE(IN_HEADER + 16);
        // The data follows the 40-byte fuse_write_in; the operation copies it before it awaits.
        const data = b.subarray(IN_HEADER + 40, IN_HEADER + 40 + size);
        return this.op('write')('', fh, data, size, offset, (n: number) => {
          if (n < 0) return this.fail(h, n);
          const out = Buffer.alloc(8);
          out.writeUInt32LE(n, 0);
          this.send(h, 0, out);
        });
      }
      case Op.STATFS: // one disk for the whole mount
        return void this.call('statfs', '/').then(([code, s]) => (code ? this.fail(h, code as number) : void this.send(h, 0, statfsOut(s as StatfsLike))));
      case Op.RELEASE:
        this.nodes.get(h.nodeid)?.handles?.delete(u64(b, IN_HEADER));
        return void this.call('release', '', u64(b, IN_HEADER)).then(([code]) => this.fail0(h, code as number));
      case Op.FLUSH:
        return void this.call('flush', '', u64(b, IN_HEADER)).then(([code]) => this.fail0(h, code as number));
      case Op.FSYNC:
        return void this.call('fsync', '', b.readUInt32LE(IN_HEADER + 8) & 1, u64(b, IN_HEADER)).then(([code]) => this.fail0(h, code as number));
      case Op.FSYNCDIR:
        return void this.call('fsyncdir', '', b.readUInt32LE(IN_HEADER + 8) & 1, u64(b, IN_HEADER)).then(([code]) => this.fail0(h, code as number));
      case Op.READDIR:
        return void this.readdir(h, u64(b, IN_HEADER), u64(b, IN_HEADER + 8), b.readUInt32LE(IN_HEADER + 16));
      case Op.RELEASEDIR:
        this.dirs.delete(u64(b, IN_HEADER));
        this.send(h, 0);
        return;
    }
    const node = this.nodes.get(h.nodeid);
    if (!node) return this.fail(h, ENOENT);
    const path = this.nodes.path(node);
    switch (h.opcode) {
      case Op.LOOKUP: {
        const name = names(b, IN_HEADER, len, 1)[0];
        const p = this.nodes.childPath(node, name);
        if (p === undefined) return this.fail(h, ENOENT);
        return void this.call('getattr', p).then(([code, st]) => (code ? this.fail(h, code as number) : this.entry(h, node, name, st as StatLike)));
      }
      case Op.GETATTR: {
        // fstat(2) comes without a handle; a file unlinked while open is answered through one.
        const withFh = (b.readUInt32LE(IN_HEADER) & GETATTR_FH) !== 0;
        const fh = withFh ? u64(b, IN_HEADER + 8) : path === undefined ? node.handles?.values().next().value : undefined;
        return void this.attr(h, path, fh);
      }
      case Op.SETATTR:
        return void this.setattr(h, b, path);
      case Op.READLINK:
        if (path === undefined) return this.fail(h, ENOENT);
        return void this.call('readlink', path).then(([code, target]) => (code ? this.fail(h, code as number) : void this.send(h, 0, Buffer.from(target as string))));
      case Op.SYMLINK: {
        const [name, target] = names(b, IN_HEADER, len, 2);
        return void this.create(h, node, name, (p) => this.call('symlink', target, p));
      }
      case Op.MKNOD: {
        const mode = b.readUInt32LE(IN_HEADER);
        const rdev = b.readUInt32LE(IN_HEADER + 4);
        const name = names(b, IN_HEADER + 16, len, 1)[0];
        return void this.create(h, node, name, (p) => this.call('mknod', p, mode, rdev));
      }
      case Op.MKDIR: {
        const mode = b.readUInt32LE(IN_HEADER);
        const name = names(b, IN_HEADER + 8, len, 1)[0];
        return void this.create(h, node, name, (p) => this.call('mkdir', p, mode));
      }
      case Op.UNLINK:
      case Op.RMDIR: {
        const name = names(b, IN_HEADER, len, 1)[0];
        const p = this.nodes.childPath(node, name);
        if (p === undefined) return this.fail(h, ENOENT);
        return void this.call(h.opcode === Op.UNLINK ? 'unlink' : 'rmdir', p).then(([code]) => {
          if (code) return this.fail(h, code as number);
          this.nodes.removed(node, name);
          this.send(h, 0);
        });
      }
      case Op.RENAME:
        return void this.rename(h, node, u64(b, IN_HEADER), 0, names(b, IN_HEADER + 8, len, 2));
      case Op.RENAME2:
        return void this.rename(h, node, u64(b, IN_HEADER), b.readUInt32LE(IN_HEADER + 8), names(b, IN_HEADER + 16, len, 2));
      case Op.LINK: {
        const from = this.nodes.get(u64(b, IN_HEADER));
        const name = names(b, IN_HEADER + 8, len, 1)[0];
        const src = from && this.nodes.path(from);
        if (src === undefined) return this.fail(h, ENOENT);
        return void this.create(h, node, name, (dest) => this.call('link', src, dest));
      }
      case Op.OPEN:
        return void this.open(h, node, path, b.readUInt32LE(IN_HEADER));
      case Op.CREATE: {
        const mode = b.readUInt32LE(IN_HEADER + 4);
        const name = names(b, IN_HEADER + 16, len, 1)[0];
        return void this.createFile(h, node, name, mode);
      }
      case Op.OPENDIR: {
        if (path === undefined) return this.fail(h, ENOENT);
        const fh = this.nextDir++;
        this.dirs.set(fh, { path });
        this.send(h, 0, openOut(fh, 0));
        return;
      }
      case Op.ACCESS:
        if (path === undefined) return this.fail(h, ENOENT);
        return void this.call('access', path, b.readUInt32LE(IN_HEADER)).then(([code]) => this.fail0(h, code as number));
      default:
        // xattrs, locks (the kernel keeps POSIX locks itself), fallocate, lseek, ioctl, poll:
        // ENOSYS makes the kernel stop asking or fall back to its generic code.
        this.fail(h, ENOSYS);
    }
  }

  /** Answer 0, or the error code. */
  private fail0(h: InHeader, code: number): void {
    if (code) this.fail(h, code);
    else this.send(h, 0);
  }

  private init(h: InHeader, b: Buffer): void {
    const major = b.readUInt32LE(IN_HEADER);
    const maxReadahead = b.readUInt32LE(IN_HEADER + 8);
    const offered = b.readUInt32LE(IN_HEADER + 12);
    if (major !== 7) {
      this.opts.log(`the kernel speaks FUSE ${major}, not 7`);
      return this.fail(h, -os.errno.EPROTO);
    }
    const want = Init.ASYNC_READ | Init.ATOMIC_O_TRUNC | Init.BIG_WRITES | Init.PARALLEL_DIROPS | Init.MAX_PAGES;
    this.send(h, 0, initOut(maxReadahead, offered & want));
  }

  private async attr(h: InHeader, path: string | undefined, fh?: number): Promise<void> {
    const [code, st] = fh !== undefined ? await this.call('fgetattr', path ?? '', fh) : path === undefined ? [ENOENT] : await this.call('getattr', path);
    if (code) return this.fail(h, code as number);
    this.send(h, 0, attrOut(st as StatLike, this.opts.attrSeconds));
  }

  private async setattr(h: InHeader, b: Buffer, path: string | undefined): Promise<void> {
    const valid = b.readUInt32LE(IN_HEADER);
    const fh = valid & Fattr.FH ? u64(b, IN_HEADER + 8) : undefined;
    const step = async (name: string, ...args: unknown[]): Promise<number> => (await this.call(name, ...args))[0] as number;
    let code = 0;
    const needPath = valid & (Fattr.MODE | Fattr.UID | Fattr.GID | Fattr.ATIME | Fattr.MTIME | Fattr.ATIME_NOW | Fattr.MTIME_NOW) || (valid & Fattr.SIZE && fh === undefined);
    if (needPath && path === undefined) return this.fail(h, ENOENT);
    if (valid & Fattr.MODE) code = await step('chmod', path, b.readUInt32LE(IN_HEADER + 68));
    if (!code && valid & (Fattr.UID | Fattr.GID)) code = await step('chown', path, b.readUInt32LE(IN_HEADER + 76), b.readUInt32LE(IN_HEADER + 80));
    if (!code && valid & Fattr.SIZE) {
      const size = u64(b, IN_HEADER + 16);
      code = fh !== undefined ? await step('ftruncate', path ?? '', fh, size) : await step('truncate', path, size);
    }
    if (!code && valid & (Fattr.ATIME | Fattr.MTIME | Fattr.ATIME_NOW | Fattr.MTIME_NOW)) {
      const now = Date.now();
      const time = (flag: number, nowFlag: number, secAt: number, nsecAt: number): number =>
        valid & nowFlag ? now : valid & flag ? u64(b, secAt) * 1000 + b.readUInt32LE(nsecAt) / 1e6 : OMIT_MS;
      const atime = time(Fattr.ATIME, Fattr.ATIME_NOW, IN_HEADER + 32, IN_HEADER + 56);
      const mtime = time(Fattr.MTIME, Fattr.MTIME_NOW, IN_HEADER + 40, IN_HEADER + 60);
      code = await step('utimens', path, atime, mtime);
    }
    if (code) return this.fail(h, code);
    await this.attr(h, path, fh);
  }

  /** mkdir, mknod, symlink, link: the operation, then the new entry. */
  private async create(h: InHeader, parent: Node, name: string, run: (path: string) => Promise<unknown[]>): Promise<void> {
    const p = this.nodes.childPath(parent, name);
    if (p === undefined) return this.fail(h, ENOENT);
    const [code] = await run(p);
    if (code) return this.fail(h, code as number);
    await this.made(h, parent, name, p);
  }

  private async createFile(h: InHeader, parent: Node, name: string, mode: number): Promise<void> {
    const p = this.nodes.childPath(parent, name);
    if (p === undefined) return this.fail(h, ENOENT);
    const [code, fh] = await this.call('create', p, mode);
    if (code) return this.fail(h, code as number);
    const [c2, st] = await this.call('getattr', p);
    if (c2) {
      // Gone already (removed from elsewhere): let the handle go, and say so.
      await this.call('release', '', fh);
      return this.fail(h, c2 as number);
    }
    const node = this.entry(h, parent, name, st as StatLike, openOut(fh as number, 0));
    if (node) (node.handles ??= new Set()).add(fh as number);
    else await this.call('release', '', fh);
  }

  /**
   * open(2): a handle, and whether the kernel may keep the file's cached pages: yes when its
   * mtime and size are what the last open saw (libfuse's auto_cache), so a file changed from
   * elsewhere is read afresh.
   */
  private async open(h: InHeader, node: Node, path: string | undefined, flags: number): Promise<void> {
    if (path === undefined) return this.fail(h, ENOENT);
    const [code, fh] = await this.call('open', path, flags);
    if (code) return this.fail(h, code as number);
    const [c2, st] = await this.call('fgetattr', path, fh);
    let keep = 0;
    if (!c2) {
      const s = st as StatLike;
      const seen = `${s.mtime}:${s.size}`;
      if (node.seen === seen) keep = FOPEN_KEEP_CACHE;
      node.seen = seen;
    }
    if (this.send(h, 0, openOut(fh as number, keep))) (node.handles ??= new Set()).add(fh as number);
    else await this.call('release', '', fh);
  }

  private async rename(h: InHeader, from: Node, newdir: number, flags: number, [name, newName]: string[]): Promise<void> {
    const to = this.nodes.get(newdir);
    const src = this.nodes.childPath(from, name);
    const dest = to && this.nodes.childPath(to, newName);
    if (!to || src === undefined || dest === undefined) return this.fail(h, ENOENT);
    // RENAME_EXCHANGE (and anything newer) is not something a vault rename can do atomically.
    if (flags & ~RENAME_NOREPLACE) return this.fail(h, EINVAL);
    if (flags & RENAME_NOREPLACE) {
      const [missing] = await this.call('getattr', dest);
      if (!missing) return this.fail(h, EEXIST);
    }
    const [code] = await this.call('rename', src, dest);
    if (code) return this.fail(h, code as number);
    this.nodes.renamed(from, name, to, newName);
    this.send(h, 0);
  }

  /** A folder's entries, listed at the first read (and again when read from the start). */
  private async readdir(h: InHeader, fh: number, offset: number, size: number): Promise<void> {
    const d = this.dirs.get(fh);
    if (!d) return this.fail(h, EBADF);
    if (!d.entries || offset === 0) {
      const [code, list, stats] = await this.call('readdir', d.path);
      if (code) return this.fail(h, code as number);
      d.entries = { names: list as string[], stats: stats as StatLike[] };
    }
    const { names: list, stats } = d.entries;
    const out = Buffer.allocUnsafe(size);
    let o = 0;
    for (let i = offset; i < list.length; i++) {
      const next = putDirent(out, o, size, stats[i].ino, i + 1, fileType(stats[i].mode), Buffer.from(list[i]));
      if (next < 0) break;
      o = next;
    }
    this.send(h, 0, out.subarray(0, o));
  }
}
