// An McpServer for one client over a vault: the tools (files, folders, search, history), the
// file resources, and errors in one shape. See docs/mcp.md for the design.
//
//   const app = await McpApp.create(vault, { readOnly, root, log });
//   const { server, close } = createMcpServer(app);
//   await server.connect(transport);
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describeError, errorLine, oneLine, type ToolDef } from './common.js';
import { McpApp, Session } from './session.js';
import { registerResources } from './resources.js';
import { fileTools } from './tools/files.js';
import { listTools } from './tools/list.js';
import { searchTools } from './tools/search.js';
import { historyTools } from './tools/history.js';
import { memoryTools } from './tools/memory.js';
import { tagTools } from './tools/tags.js';

export { McpApp, Session };
export type { McpOptions } from './session.js';

export const ALL_TOOLS: readonly ToolDef[] = [...fileTools, ...listTools, ...searchTools, ...tagTools, ...historyTools, ...memoryTools];

/** Why a tool is not offered with these options (undefined: it is). */
export function withheld(t: ToolDef, app: McpApp): { code: string; why: string } | undefined {
  if (t.mutates && app.opts.readOnly) return { code: 'EROFS', why: `${t.name} is not available: this server is read-only (started with --read-only)` };
  if (t.wholeVault && app.confine.confined) {
    return { code: 'EACCES', why: `${t.name} is not available: it changes the whole vault, and this server is confined to a folder (--root)` };
  }
  return undefined;
}

function instructions(app: McpApp): string {
  const lines = [
    `Files of the agentvfs vault "${app.uriName}": a versioned virtual filesystem stored in a database (nothing here touches the host disk).`,
    "Paths are absolute from '/'. Every change is versioned and logged: file_history, read_file with version, diff and restore_version reach earlier content; snapshot_save names a point to come back to.",
  ];
  if (app.confine.confined) lines.push(`This server is confined to the vault folder ${app.confine.root}; '/' here is that folder.`);
  if (app.opts.readOnly) lines.push('This server is read-only: tools that change files are not offered.');
  return lines.join('\n');
}

/** Turn the SDK's own tool failures (schema validation, unknown tool) into "CODE: one line". */
function sdkToolError(message: string, app: McpApp, tools: readonly ToolDef[]): CallToolResult {
  const m = message.replace(/^MCP error -?\d+: /, '');
  let text: string;
  const invalid = /Invalid arguments for tool (\S+): ([\s\S]*)$/.exec(m);
  const missing = /^Tool (\S+) (?:not found|disabled)/.exec(m);
  if (invalid) {
    const issues = invalid[2].split('\n').map((l) => l.trim()).filter(Boolean).join('; ');
    text = `EINVAL: invalid arguments for ${invalid[1]}: ${issues}`;
  } else if (missing) {
    const t = tools.find((x) => x.name === missing[1]);
    const w = t && withheld(t, app);
    text = w ? `${w.code}: ${w.why}` : `ENOENT: no tool named "${missing[1].slice(0, 100)}" (see tools/list)`;
  } else {
    text = `EIO: ${m.split('\n')[0]}`;
  }
  text = oneLine(text);
  if (text.length > 1000) text = text.slice(0, 997) + '...';
  return { content: [{ type: 'text', text }], isError: true };
}

export interface SessionServer {
  server: McpServer;
  session: Session;
  /** Stop this session's subscriptions (the transport is closed by its owner). */
  close(): void;
}

/** An McpServer for one client connection over the app's vault. */
export function createMcpServer(app: McpApp): SessionServer {
  const server = new McpServer(
    { name: 'avfs', title: 'agentvfs', version: app.opts.version ?? '0.0.0' },
    {
      capabilities: { tools: { listChanged: true }, resources: { subscribe: true, listChanged: true } },
      instructions: instructions(app),
      // No legitimate call needs more; a flood of array elements is refused before validation.
      maxToolInputElements: 10_000,
    },
  );
  const session = new Session(app, () => server.server.getClientVersion()?.name);
  let connected = false;
  server.server.oninitialized = () => {
    if (connected) return;
    connected = true;
    const info = server.server.getClientVersion();
    app.log(`client connected: ${oneLine(info?.name ?? '?')} ${oneLine(info?.version ?? '')} (recorded as "${session.actor}")`);
  };

  for (const t of ALL_TOOLS) {
    if (withheld(t, app)) continue;
    const handler = async (args: unknown): Promise<CallToolResult> => {
      // Reads are logged here, after the read (changes are logged by the library as they are made).
      let refused: string | undefined;
      try {
        const r = await app.track(() => t.run(args as never, session));
        const texts = Array.isArray(r.text) ? r.text : [r.text];
        return { content: texts.map((text) => ({ type: 'text' as const, text })), structuredContent: r.data as Record<string, unknown> };
      } catch (e) {
        const info = describeError(e, app.confine);
        refused = info.code;
        app.log(`${session.actor}: ${t.name}: ${errorLine(info)}`);
        return { content: [{ type: 'text', text: errorLine(info) }], isError: true };
      } finally {
        if (!t.mutates) await app.track(() => session.recordRead(t.name, args, refused));
        // A change of ours (or a refused one, which is logged too): subscribers hear now, not at the next poll.
        if (t.mutates) app.feed.kick();
      }
    };
    server.registerTool(
      t.name,
      {
        title: t.title,
        description: t.description,
        inputSchema: t.input,
        outputSchema: t.output,
        annotations: { title: t.title, readOnlyHint: !t.mutates, destructiveHint: t.destructiveHint, idempotentHint: t.idempotentHint, openWorldHint: false },
      },
      handler as never,
    );
  }
  // The SDK reports bad arguments and unknown tools itself, as free text; give them our shape.
  // (createToolError is the SDK's one place for that; the SDK version is pinned, and the tests
  // check the result, so a change there is noticed.)
  (server as unknown as { createToolError(message: string): CallToolResult }).createToolError = (message) => sdkToolError(message, app, ALL_TOOLS);

  const stopResources = registerResources(server, session);
  return { server, session, close: stopResources };
}
