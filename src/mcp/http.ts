// `avfs mcp --http PORT`: the streamable HTTP transport at /mcp, one session (and one McpServer,
// so one actor) per client. Bound to 127.0.0.1 unless --host says otherwise; on a loopback
// address the Host header is checked too (DNS rebinding protection), since a web page in a
// browser on this machine could otherwise reach the vault. There is no authentication: binding
// to another address exposes the vault to whoever can reach it, and the log says so.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { createMcpServer, type McpApp, type SessionServer } from './server.js';
import { Ends, MAX_MESSAGE_BYTES } from './limits.js';

export interface HttpOptions {
  port: number;
  host: string;
}

export interface HttpServing {
  /** The port bound (useful with port 0). */
  port: number;
  url: string;
  /** Resolves when the server should stop (SIGINT/SIGTERM). */
  stopped: Promise<void>;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

type Body = { json: unknown } | { bad: string } | { oversize: Ends };

/** The request body, parsed; an oversized one is drained without being kept. */
function readBody(req: IncomingMessage): Promise<Body> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let ends: Ends | undefined;
    req.on('data', (c: Buffer) => {
      if (ends) return ends.add(c);
      if (size + c.length > MAX_MESSAGE_BYTES) {
        ends = new Ends();
        for (const x of chunks) ends.add(x);
        ends.add(c);
        chunks.length = 0;
        return;
      }
      chunks.push(c);
      size += c.length;
    });
    req.on('end', () => {
      if (ends) return resolve({ oversize: ends });
      try {
        resolve({ json: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      } catch (e) {
        resolve({ bad: (e as Error).message });
      }
    });
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function rpcError(res: ServerResponse, status: number, code: number, message: string, id: unknown = null): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id });
}

/** A session nobody has used for this long, with no request open (an SSE stream counts), is closed. */
const IDLE_MS = 30 * 60 * 1000;

interface Entry {
  transport: StreamableHTTPServerTransport;
  ss: SessionServer;
  lastSeen: number;
  open: number;
}

export async function serveHttp(app: McpApp, opts: HttpOptions & { idleMs?: number }): Promise<HttpServing> {
  const sessions = new Map<string, Entry>();
  const loopback = LOOPBACK.has(opts.host);
  let allowedHosts: string[] = [];

  const newSession = async (req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> => {
    const ss = createMcpServer(app);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, ss, lastSeen: Date.now(), open: 0 });
      },
      ...(loopback ? { enableDnsRebindingProtection: true, allowedHosts } : {}),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
      ss.close();
      app.log(`session closed: ${ss.session.actor}`);
    };
    transport.onerror = (e) => app.log(`http: ${e.message}`);
    await ss.server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/mcp') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('avfs mcp: the MCP endpoint is /mcp\n');
      return;
    }
    const sid = req.headers['mcp-session-id'];
    const entry = typeof sid === 'string' ? sessions.get(sid) : undefined;
    if (entry) {
      entry.lastSeen = Date.now();
      entry.open++;
      res.once('close', () => {
        entry.open--;
        entry.lastSeen = Date.now();
      });
    }
    if (req.method === 'POST') {
      const body = await readBody(req);
      if ('oversize' in body) {
        const { reply, what } = body.oversize.reply();
        app.log(`refused an oversized request (${what})`);
        if (reply) sendJson(res, 200, reply);
        else rpcError(res, 413, -32600, `request of more than ${MAX_MESSAGE_BYTES} bytes refused`);
        return;
      }
      if ('bad' in body) return rpcError(res, 400, -32700, `parse error: ${body.bad.split('\n')[0]}`);
      if (entry) return entry.transport.handleRequest(req, res, body.json);
      if (typeof sid === 'string') return rpcError(res, 404, -32001, 'session not found (it ended, or the server restarted): initialize again');
      if (isInitializeRequest(body.json)) return newSession(req, res, body.json);
      return rpcError(res, 400, -32000, 'no session: send initialize first (without an mcp-session-id header)');
    }
    if (req.method === 'GET' || req.method === 'DELETE') {
      if (!entry) return rpcError(res, typeof sid === 'string' ? 404 : 400, -32001, typeof sid === 'string' ? 'session not found' : 'mcp-session-id header required');
      return entry.transport.handleRequest(req, res);
    }
    res.writeHead(405, { allow: 'GET, POST, DELETE', 'content-type': 'text/plain' }).end('method not allowed\n');
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      app.log(`http: ${(e as Error).message}`);
      if (!res.headersSent) rpcError(res, 500, -32603, 'internal error');
      else res.end();
    });
  });
  // Keep idle connections well past what clients keep them (undici, under fetch, drops a socket
  // a second before the server's Keep-Alive hint). With Node's 5 s, a client whose event loop
  // was busy for a few seconds (building a big request) could send on a socket the server had
  // just closed, and its POST failed ("fetch failed"; POSTs are not retried).
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, opts.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  allowedHosts = loopback ? ['127.0.0.1', 'localhost', '[::1]'].flatMap((h) => [h, `${h}:${port}`]) : [];
  const shown = opts.host.includes(':') && !opts.host.startsWith('[') ? `[${opts.host}]` : opts.host;
  const url = `http://${shown}:${port}/mcp`;
  app.log(`serving vault "${app.uriName}" on ${url}${app.opts.readOnly ? ' (read-only)' : ''}${app.confine.confined ? `, confined to ${app.confine.root}` : ''}`);
  app.log(`listening on ${url}`);
  if (!loopback) app.log(`warning: ${opts.host} is not a loopback address and there is no authentication: anyone who can reach it can use the vault`);

  // Clients that vanish without ending their session (no DELETE) would otherwise be kept forever.
  const idleMs = opts.idleMs ?? IDLE_MS;
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const e of sessions.values()) {
      if (e.open === 0 && now - e.lastSeen > idleMs) {
        app.log(`closing idle session of ${e.ss.session.actor}`);
        void e.transport.close().catch(() => {});
      }
    }
  }, Math.min(60_000, idleMs)).unref();

  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  return {
    port,
    url,
    stopped,
    async close() {
      clearInterval(sweep);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      await app.idle();
      for (const { transport, ss } of sessions.values()) {
        ss.close();
        await transport.close().catch(() => {});
      }
      sessions.clear();
    },
  };
}
