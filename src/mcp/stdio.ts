// `avfs mcp` over stdio: JSON-RPC lines on stdin and stdout (stdout carries nothing else; the
// log goes to stderr). Serves until the client closes stdin, or SIGINT/SIGTERM.
import { Transform, type Readable, type TransformCallback, type Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { createMcpServer, type McpApp } from './server.js';
import { Ends, MAX_MESSAGE_BYTES } from './limits.js';

/**
 * Passes stdin through line by line; a line over the limit is dropped as it arrives (only its
 * ends are kept) and reported, so no message, however big, is ever held whole.
 */
class LineGuard extends Transform {
  private pending: Buffer[] = [];
  private size = 0;
  private dropping: Ends | undefined;

  constructor(
    private readonly max: number,
    private readonly onOversize: (ends: Ends) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl < 0 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (this.dropping) this.dropping.add(piece);
      else if (this.size + piece.length > this.max) {
        this.dropping = new Ends();
        for (const p of this.pending) this.dropping.add(p);
        this.dropping.add(piece);
        this.pending = [];
        this.size = 0;
      } else {
        this.pending.push(piece);
        this.size += piece.length;
      }
      if (nl < 0) break;
      // A whole line: pass it on, or report the one dropped.
      if (this.dropping) {
        const ends = this.dropping;
        this.dropping = undefined;
        this.onOversize(ends);
      } else {
        this.pending.push(Buffer.from('\n'));
        this.push(Buffer.concat(this.pending));
      }
      this.pending = [];
      this.size = 0;
      start = nl + 1;
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.size > 0 && !this.dropping) this.push(Buffer.concat([...this.pending, Buffer.from('\n')]));
    cb();
  }
}

export async function serveStdio(app: McpApp, stdin: Readable, stdout: Writable): Promise<void> {
  let transport: StdioServerTransport | undefined;
  const guard = new LineGuard(MAX_MESSAGE_BYTES, (ends) => {
    const { reply, what } = ends.reply();
    app.log(`refused an oversized message (${what})`);
    if (reply && transport) transport.send(reply as JSONRPCMessage).catch(() => {});
  });
  stdin.pipe(guard);
  transport = new StdioServerTransport(guard, stdout, { maxBufferSize: MAX_MESSAGE_BYTES + 1024 * 1024 });
  const { server, close } = createMcpServer(app);
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const onSignal = (): void => done();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // The client went away: stdin ended, or stdout cannot be written any more.
  guard.once('end', () => done());
  stdout.on('error', () => done());
  server.server.onclose = () => done();
  transport.onerror = (e) => app.log(`stdio: ${e.message}`);
  await server.connect(transport);
  app.log(`serving vault "${app.uriName}" on stdio${app.opts.readOnly ? ' (read-only)' : ''}${app.confine.confined ? `, confined to ${app.confine.root}` : ''}`);
  await finished;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  // Calls still running finish before the vault is closed.
  await app.idle();
  close();
  await server.close().catch(() => {});
  stdin.unpipe(guard);
  if ('destroy' in stdin && typeof stdin.destroy === 'function') stdin.destroy();
  app.log('stdio closed');
}
