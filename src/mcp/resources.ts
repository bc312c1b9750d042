// Files as MCP resources: `avfs://VAULT/path` (path segments percent-encoded), listed through a
// resource template, readable, and subscribable: a subscribed file's client is sent
// notifications/resources/updated when the file changes, whoever changed it (see feed.ts).
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError, SubscribeRequestSchema, UnsubscribeRequestSchema, type ReadResourceResult, type Resource } from '@modelcontextprotocol/sdk/types.js';
import { vfsError } from '../errors.js';
import { isWithin } from '../core/paths.js';
import type { OpRecord } from '../core/records.js';
import { describeError, errorLine, utf8OrUndefined } from './common.js';
import type { Session } from './session.js';

/** resources/list shows at most this many files (the SDK's list has no paging). */
const LIST_LIMIT = 1000;
/** resources/read returns files up to this size. */
const READ_LIMIT = 8 * 1024 * 1024;

/** Operations that name paths but change no file content or place. */
const NEUTRAL = new Set(['snapshot.save', 'snapshot.delete', 'config', 'gc', 'compact', 'prune', 'vault.fork']);

const MIME: Record<string, string> = {
  md: 'text/markdown',
  markdown: 'text/markdown',
  txt: 'text/plain',
  json: 'application/json',
  js: 'text/javascript',
  mjs: 'text/javascript',
  ts: 'text/x-typescript',
  py: 'text/x-python',
  html: 'text/html',
  css: 'text/css',
  csv: 'text/csv',
  xml: 'application/xml',
  yaml: 'application/yaml',
  yml: 'application/yaml',
  toml: 'application/toml',
  sh: 'text/x-shellscript',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  pdf: 'application/pdf',
};

function mimeOf(path: string): string | undefined {
  const dot = path.lastIndexOf('.');
  return dot > path.lastIndexOf('/') ? MIME[path.slice(dot + 1).toLowerCase()] : undefined;
}

export function uriFor(s: Session, clientPath: string): string {
  return `avfs://${encodeURIComponent(s.app.uriName)}${clientPath.split('/').map(encodeURIComponent).join('/')}`;
}

/** The client path a resource URI names. Anything odd is EINVAL; '..' and the like are confined later. */
export function pathOfUri(s: Session, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw vfsError('EINVAL', undefined, `not a URI: ${raw.slice(0, 200)}`);
  }
  if (url.protocol !== 'avfs:') throw vfsError('EINVAL', undefined, `not an avfs:// URI: ${raw.slice(0, 200)}`);
  let host: string;
  let names: string[];
  try {
    host = decodeURIComponent(url.host);
    names = url.pathname.split('/').map(decodeURIComponent);
  } catch {
    throw vfsError('EINVAL', undefined, `bad percent-encoding in ${raw.slice(0, 200)}`);
  }
  if (host !== s.app.uriName) throw vfsError('ENOENT', undefined, `this server serves vault "${s.app.uriName}" (avfs://${s.app.uriName}/...), not "${host}"`);
  const path = names.join('/');
  return path === '' ? '/' : path;
}

function resourceError(e: unknown, s: Session): McpError {
  const info = describeError(e, s.confine);
  const code = info.code === 'ENOENT' ? -32002 : info.code === 'EINVAL' ? ErrorCode.InvalidParams : ErrorCode.InternalError;
  return new McpError(code, errorLine(info));
}

async function listFiles(s: Session): Promise<Resource[]> {
  return s.read(async (ops) => {
    const out: Resource[] = [];
    for await (const e of ops.walk(s.confine.root)) {
      if (e.stat.type !== 'file') continue;
      const path = s.out(e.path);
      const r: Resource = { uri: uriFor(s, path), name: path, size: e.stat.size };
      const mime = mimeOf(path);
      if (mime) r.mimeType = mime;
      out.push(r);
      if (out.length >= LIST_LIMIT) break;
    }
    return out;
  });
}

async function readResource(s: Session, uri: string): Promise<ReadResourceResult> {
  const clientPath = pathOfUri(s, uri);
  return s.read(async (ops) => {
    const p = await s.resolve(ops, clientPath, true);
    const st = await ops.stat(p);
    if (st.type === 'directory') throw vfsError('EISDIR', p, 'is a directory (resources are files)');
    if (st.size > READ_LIMIT) throw vfsError('EFBIG', p, `over ${READ_LIMIT / 1024 / 1024} MiB: use the read_file tool, which reads in parts`);
    const data = await ops.readFile(p);
    const canonical = uriFor(s, s.out(p));
    const text = utf8OrUndefined(data);
    const mimeType = mimeOf(p) ?? (text === undefined ? 'application/octet-stream' : 'text/plain');
    return { contents: [text === undefined ? { uri: canonical, mimeType, blob: data.toString('base64') } : { uri: canonical, mimeType, text }] };
  });
}

/** Names below a folder that start with what the client typed (resource template completion). */
async function complete(s: Session, typed: string): Promise<string[]> {
  const slash = typed.lastIndexOf('/');
  const dir = slash < 0 ? '/' : '/' + typed.slice(0, slash);
  const prefix = typed.slice(slash + 1);
  try {
    return await s.read(async (ops) => {
      const p = await s.resolve(ops, dir, true);
      const entries = await ops.list(p);
      return entries
        .filter((e) => e.name.startsWith(prefix))
        .slice(0, 100)
        .map((e) => (slash < 0 ? '' : typed.slice(0, slash + 1)) + e.name + (e.type === 'directory' ? '/' : ''));
    });
  } catch {
    return [];
  }
}

/** Register the file resources and subscriptions on one session's server; returns its cleanup. */
export function registerResources(mcp: McpServer, s: Session): () => void {
  const template = new ResourceTemplate(`avfs://${encodeURIComponent(s.app.uriName)}/{+path}`, {
    list: async () => {
      try {
        return { resources: await listFiles(s) };
      } catch (e) {
        throw resourceError(e, s);
      }
    },
    complete: { path: (value) => complete(s, value) },
  });
  mcp.registerResource(
    'vault-file',
    template,
    {
      title: `Files of vault ${s.app.uriName}`,
      description: `A file in vault "${s.app.uriName}": avfs://${s.app.uriName}/PATH (path segments percent-encoded). Text comes back as text, anything else as base64.`,
    },
    async (uri) => {
      try {
        return await readResource(s, uri.toString());
      } catch (e) {
        throw resourceError(e, s);
      }
    },
  );

  // Subscriptions: URI -> the canonical vault path it named when subscribed.
  const subs = new Map<string, string>();
  let stop: (() => void) | undefined;
  let starting: Promise<void> | undefined;
  const onChange = (recs: OpRecord[] | undefined): void => {
    const hit = new Set<string>();
    for (const [uri, path] of subs) {
      // A change to the file, or to a folder above it (a move, a recursive delete, a restore).
      if (recs === undefined || recs.some((r) => r.outcome === undefined && !NEUTRAL.has(r.op) && r.paths.some((p) => isWithin(path, p)))) hit.add(uri);
    }
    for (const uri of hit) {
      mcp.server.sendResourceUpdated({ uri }).catch((e: unknown) => s.app.log(`${s.actor}: could not send an update for ${uri}: ${(e as Error).message}`));
    }
  };
  mcp.server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    try {
      const clientPath = pathOfUri(s, req.params.uri);
      const p = await s.read((ops) => s.resolve(ops, clientPath, true));
      subs.set(req.params.uri, p);
      if (!stop) {
        starting ??= s.app.feed.listen(onChange).then((f) => {
          stop = f;
        });
        await starting;
      }
      return {};
    } catch (e) {
      throw resourceError(e, s);
    }
  });
  mcp.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    subs.delete(req.params.uri);
    if (subs.size === 0 && stop) {
      stop();
      stop = undefined;
      starting = undefined;
    }
    return {};
  });
  return () => {
    subs.clear();
    stop?.();
    stop = undefined;
  };
}
