// mcp: the vault as a Model Context Protocol server, over stdio (default) or streamable HTTP.
// stdout is the protocol, so everything this command says goes to stderr. The MCP SDK is loaded
// here, on run, so no other command (and not even `avfs mcp --help`) pays for it.
import { readFileSync } from 'node:fs';
import type { Command, CommandModule, Context } from '../context.js';
import { usageError } from '../args.js';

function avfsVersion(): string {
  for (let dir = new URL('.', import.meta.url); dir.pathname !== '/'; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'agentvfs') return pkg.version;
    } catch {
      // not here; look one folder up
    }
  }
  return '0.0.0';
}

const mcp: Command = {
  usage: 'mcp [--read-only] [--root PATH] [--http PORT [--host ADDR]]',
  notes: [
    'Serves the vault (--vault NAME|PATH, else the current one) to MCP clients: tools to read, write,',
    'edit, list, find, grep, search, and to use history and snapshots; files as avfs://VAULT/PATH resources.',
    'stdio by default (what Claude Code and Claude Desktop start); --http PORT serves streamable HTTP',
    'at http://127.0.0.1:PORT/mcp instead (PORT 0: any free port; the address is logged on stderr).',
    'The operation log records each change under the MCP client\'s name (--actor NAME overrides it).',
    '--read-only offers only the tools that read; --root PATH confines every path to that vault folder',
    '(made if missing), where "/" means PATH. Logs go to stderr; stdout is the protocol.',
    'Claude Code: claude mcp add avfs -- avfs mcp --vault NAME',
  ],
  flags: [
    { key: 'readOnly', long: 'read-only', help: 'offer only the tools that read' },
    { key: 'root', long: 'root', value: 'PATH', help: 'confine every path to this vault folder' },
    { key: 'http', long: 'http', value: 'PORT', int: true, help: 'serve streamable HTTP on this port instead of stdio (0: any free port)' },
    { key: 'host', long: 'host', value: 'ADDR', help: 'address to bind with --http (default 127.0.0.1)' },
  ],
  min: 0,
  max: 0,
  async run(ctx: Context) {
    const port = ctx.flags.int('http');
    const host = ctx.flags.str('host');
    if (host !== undefined && port === undefined) throw usageError('mcp: --host needs --http PORT');
    if (port !== undefined && port > 65535) throw usageError(`mcp: --http: ${port} is not a port (0-65535)`);
    const root = ctx.flags.str('root');
    if (root !== undefined && root.trim() === '') throw usageError('mcp: --root: empty path');
    const log = (line: string): void => void ctx.err.write(`avfs mcp: ${line}\n`);
    const vault = await ctx.vault();
    const { McpApp } = await import('../../mcp/server.js');
    const app = await McpApp.create(vault, {
      readOnly: ctx.flags.bool('readOnly'),
      ...(root !== undefined ? { root } : {}),
      ...(ctx.actor !== undefined ? { actor: ctx.actor } : {}),
      version: avfsVersion(),
      log,
    });
    try {
      if (port === undefined) {
        const { serveStdio } = await import('../../mcp/stdio.js');
        await serveStdio(app, process.stdin, process.stdout);
      } else {
        const { serveHttp } = await import('../../mcp/http.js');
        const serving = await serveHttp(app, { port, host: host ?? '127.0.0.1' });
        await serving.stopped;
        log('stopping');
        await serving.close();
      }
    } finally {
      app.close();
    }
  },
};

export const commands: CommandModule = { mcp };
