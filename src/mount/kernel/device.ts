// Our own end of /dev/fuse, without libfuse: open the device, mount it with mount(8) handing
// the descriptor over (`-o fd=3`), then read the kernel's requests on Node's event loop and
// write the replies from it. The descriptor is made non-blocking and watched with epoll like a
// pipe (libuv's pipe handle takes any pollable descriptor), so a request costs one wake-up of
// the loop and one write: no thread in between. With libfuse (fuse-native) every request
// waited on a libfuse thread while the loop was called across, about 3x the time per request.
//
// mount(2) needs root (CAP_SYS_ADMIN). Without it the mount goes through fusermount and
// fuse-native (src/mount/fuse.ts chooses), since fusermount hands the descriptor back over a
// Unix socket (SCM_RIGHTS), which Node cannot receive.
import { spawn } from 'node:child_process';
import { closeSync, openSync, writevSync } from 'node:fs';
import { Socket } from 'node:net';
import { vfsError } from '../../errors.js';
import { READ_BUFFER } from './abi.js';

interface PipeHandle {
  open(fd: number): number;
}
type PipeBinding = { Pipe: new (type: number) => PipeHandle; constants: { SOCKET: number } };

/** Run a program, resolve with its exit code and what it printed to stderr. */
function run(cmd: string, args: string[], stdio: Array<'ignore' | 'pipe' | number>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => resolve({ code: -1, stderr: e.message }));
    child.on('close', (code) => resolve({ code: code ?? -1, stderr: stderr.trim() }));
  });
}

export class FuseDevice {
  private socket: Socket | undefined;
  private gone = false;
  readonly ended: Promise<void>;
  private end!: () => void;

  private constructor(
    private readonly fd: number,
    readonly mountpoint: string,
  ) {
    this.ended = new Promise((r) => (this.end = r));
  }

  /**
   * Mount `mountpoint` as type fuse.avfs and start handing requests to `onRequest` (the buffer
   * is reused for the next request: copy what must outlive the call).
   */
  static async mount(mountpoint: string, fsname: string, onRequest: (buf: Buffer, len: number) => void, log: (line: string) => void): Promise<FuseDevice> {
    const fd = openSync('/dev/fuse', 'r+');
    const dev = new FuseDevice(fd, mountpoint);
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    // -i: no mount.fuse helper (it would look for a program named by the source); -n: no mtab.
    const opts = `fd=3,rootmode=40000,user_id=${uid},group_id=${gid}`;
    const r = await run('mount', ['-n', '-i', '-t', 'fuse.avfs', '-o', opts, fsname, mountpoint], ['ignore', 'ignore', 'pipe', fd]);
    if (r.code !== 0) {
      closeSync(fd);
      throw vfsError('EIO', mountpoint, `mount failed: ${r.stderr.split('\n')[0] || `mount exit ${r.code}`}`);
    }
    // Reading before the mount exists fails (EPERM): the device has no connection until then.
    const { Pipe, constants } = (process as unknown as { binding(name: string): PipeBinding }).binding('pipe_wrap');
    const handle = new Pipe(constants.SOCKET);
    const err = handle.open(fd);
    if (err !== 0) {
      closeSync(fd);
      throw vfsError('EIO', mountpoint, `cannot watch /dev/fuse (libuv error ${err})`);
    }
    const buffer = Buffer.allocUnsafe(READ_BUFFER);
    const socket = new Socket({
      handle,
      readable: true,
      writable: false,
      onread: {
        buffer,
        callback: (n: number, buf: Uint8Array) => {
          try {
            onRequest(buf as Buffer, n);
          } catch (e) {
            log(`request failed: ${(e as Error)?.stack ?? String(e)}`);
          }
          return true;
        },
      },
    } as unknown as ConstructorParameters<typeof Socket>[0]);
    dev.socket = socket;
    // ENODEV once unmounted (by us or from outside): the connection is over.
    const over = (): void => {
      dev.gone = true;
      dev.end();
    };
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENODEV') log(`/dev/fuse: ${e.message}`);
      over();
    });
    socket.on('end', over);
    socket.on('close', over);
    return dev;
  }

  /**
   * Write one reply. ENOENT: the request was interrupted and is gone (its caller got EINTR);
   * nothing to do. Returns false when the reply did not reach the kernel.
   */
  reply(parts: Buffer[]): boolean {
    // The socket owns the descriptor: once it is destroyed the number may belong to another file.
    if (this.gone || !this.socket || this.socket.destroyed) return false;
    try {
      writevSync(this.fd, parts);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENODEV') throw e;
      return false;
    }
  }

  /** umount(8); the read side then ends (ENODEV). Fails like umount when the folder is busy. */
  async unmount(): Promise<void> {
    if (this.gone) return;
    // Not synchronous: the kernel may ask us things while it unmounts.
    const r = await run('umount', ['-i', '--', this.mountpoint], ['ignore', 'ignore', 'pipe']);
    if (r.code !== 0) throw new Error(r.stderr.split('\n')[0] || `umount exit ${r.code}`);
    this.close();
  }

  /** Stop reading and let the descriptor go (a mount still there then answers ENOTCONN). */
  close(): void {
    this.gone = true;
    this.socket?.destroy();
    this.end();
  }
}
