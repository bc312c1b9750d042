// Tools that look at folders: list_directory, directory_tree, find.
import { z } from 'zod';
import { checkTag } from '../../tags/rules.js';
import { globToRegExp } from '../../util/glob.js';
import { tool, pathArg, atArg, humanBytes, FILE_TYPES, type ToolDef, READ_ONLY } from '../common.js';

const int = (min: number, max: number): z.ZodNumber => z.number().int().min(min).max(max);
const byName = (a: { name: string }, b: { name: string }): number => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));

const entryShape = z.object({
  name: z.string(),
  type: z.enum(FILE_TYPES),
  size: z.number(),
  mtime: z.string(),
  version: z.number(),
  target: z.string().optional(),
});

const listDirectory = tool({
  name: 'list_directory',
  title: 'List a folder',
  description:
    'List the entries of a folder: name, type (file, directory, symlink), size in bytes, modification time, content version, and where symlinks point. Sorted by name; dotfiles included. ' +
    'Returns at most `limit` entries (default 1000) from `offset`; `truncated` says when there are more. Give `at` to list the folder as it was at a snapshot, operation number or time.',
  input: {
    path: pathArg().optional().describe("the folder (default '/')"),
    offset: int(0, Number.MAX_SAFE_INTEGER).optional().describe('skip this many entries first (default 0)'),
    limit: int(1, 10_000).optional().describe('most entries to return (default 1000)'),
    at: atArg,
  },
  output: { path: z.string(), entries: z.array(entryShape), total: z.number(), truncated: z.boolean() },
  ...READ_ONLY,
  async run(a, s) {
    const offset = a.offset ?? 0;
    const limit = a.limit ?? 1000;
    const { p, all } = await s.readAt(a.at, async (ops) => {
      const p = await s.resolve(ops, a.path ?? '/', true);
      return { p, all: await ops.list(p) };
    });
    all.sort(byName);
    const page = all.slice(offset, offset + limit);
    const entries = page.map((st) => ({
      name: st.name,
      type: st.type,
      size: st.size,
      mtime: new Date(st.mtimeMs).toISOString(),
      version: st.version,
      ...(st.target !== undefined ? { target: st.target } : {}),
    }));
    const path = s.out(p);
    const truncated = offset + page.length < all.length;
    const lines = entries.map((e) =>
      e.type === 'directory' ? `dir   ${''.padStart(9)}  ${e.name}/` : e.type === 'symlink' ? `link  ${''.padStart(9)}  ${e.name} -> ${e.target}` : `file  ${humanBytes(e.size).padStart(9)}  ${e.name}`,
    );
    const head = `${path}: ${all.length} ${all.length === 1 ? 'entry' : 'entries'}${truncated || offset > 0 ? ` (showing ${offset + 1}-${offset + page.length})` : ''}`;
    const tail = truncated ? [`[more: call list_directory with offset ${offset + page.length}]`] : [];
    return { text: [head, ...lines, ...tail].join('\n'), data: { path, entries, total: all.length, truncated } };
  },
});

const treeEntry = z.object({
  path: z.string(),
  type: z.enum(FILE_TYPES),
  size: z.number(),
  depth: z.number().describe('1 for the entries directly in the folder'),
  target: z.string().optional(),
});

const directoryTree = tool({
  name: 'directory_tree',
  title: 'Folder tree',
  description:
    'Everything below a folder, as an indented tree (text) and a flat list of entries with path, type, size and depth (data), parents before children, names sorted. ' +
    `Goes \`max_depth\` levels down (default 5) and stops after \`limit\` entries (default 2000; \`truncated\` says so). Symlinks are shown, not followed.`,
  input: {
    path: pathArg().optional().describe("the folder (default '/')"),
    max_depth: int(1, 100).optional().describe('levels to descend (default 5)'),
    limit: int(1, 20_000).optional().describe('most entries to return (default 2000)'),
    at: atArg,
  },
  output: { path: z.string(), entries: z.array(treeEntry), directories: z.number(), files: z.number(), truncated: z.boolean() },
  ...READ_ONLY,
  async run(a, s) {
    const limit = a.limit ?? 2000;
    const r = await s.readAt(a.at, async (ops) => {
      const p = await s.resolve(ops, a.path ?? '/', true);
      const entries: z.infer<typeof treeEntry>[] = [];
      let truncated = false;
      for await (const e of ops.walk(p, { maxDepth: a.max_depth ?? 5 })) {
        if (e.depth === 0) continue;
        if (entries.length >= limit) {
          truncated = true;
          break;
        }
        entries.push({ path: s.out(e.path), type: e.stat.type, size: e.stat.size, depth: e.depth, ...(e.stat.target !== undefined ? { target: e.stat.target } : {}) });
      }
      return { p, entries, truncated };
    });
    const path = s.out(r.p);
    const directories = r.entries.filter((e) => e.type === 'directory').length;
    const files = r.entries.length - directories;
    const name = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
    const lines = [path === '/' ? '/' : `${path}/`];
    for (const e of r.entries) {
      const pad = '  '.repeat(e.depth);
      lines.push(e.type === 'directory' ? `${pad}${name(e.path)}/` : e.type === 'symlink' ? `${pad}${name(e.path)} -> ${e.target}` : `${pad}${name(e.path)}`);
    }
    lines.push(`${directories} ${directories === 1 ? 'folder' : 'folders'}, ${files} ${files === 1 ? 'file' : 'files'}${r.truncated ? ` (stopped at ${limit} entries)` : ''}`);
    return { text: lines.join('\n'), data: { path, entries: r.entries, directories, files, truncated: r.truncated } };
  },
});

const findEntry = z.object({ path: z.string(), type: z.enum(FILE_TYPES), size: z.number() });

const find = tool({
  name: 'find',
  title: 'Find files by name',
  description:
    "Find entries below a folder whose name matches a glob: `*` and `?` within a name, `[abc]` classes, e.g. '*.md' or 'test_??.py'. " +
    "A pattern with '/' is matched against the path below the folder instead, and `**` crosses folders: 'src/**/*.ts'. " +
    'Filter by `type`; returns at most `limit` paths (default 1000). Searches names only; to search inside files use grep.',
  input: {
    pattern: z.string().optional().describe("glob for the name (or, with '/', the path below `path`); omit to match everything"),
    path: pathArg().optional().describe("the folder to search (default '/')"),
    type: z.enum(FILE_TYPES).optional().describe('only entries of this type'),
    tag: z.string().optional().describe('only entries carrying this tag'),
    max_depth: int(0, 1000).optional().describe('levels to descend (default: all)'),
    limit: int(1, 20_000).optional().describe('most paths to return (default 1000)'),
    at: atArg,
  },
  output: { path: z.string(), matches: z.array(findEntry), truncated: z.boolean() },
  ...READ_ONLY,
  async run(a, s) {
    const limit = a.limit ?? 1000;
    const byPath = a.pattern !== undefined && a.pattern.includes('/');
    const re = a.pattern === undefined ? undefined : globToRegExp(byPath ? a.pattern.replace(/^\/+/, '') : a.pattern);
    const r = await s.readAt(a.at, async (ops) => {
      const p = await s.resolve(ops, a.path ?? '/', true);
      const matches: z.infer<typeof findEntry>[] = [];
      let truncated = false;
      const prefix = p === '/' ? '/' : p + '/';
      const tag = a.tag === undefined ? undefined : checkTag(a.tag);
      for await (const e of ops.walk(p, { ...(a.max_depth === undefined ? {} : { maxDepth: a.max_depth }), ...(tag ? { attrs: true } : {}) })) {
        if (a.type && e.stat.type !== a.type) continue;
        if (tag && !e.stat.tags?.includes(tag)) continue;
        if (re) {
          const subject = byPath ? (e.depth === 0 ? '' : e.path.slice(prefix.length)) : e.stat.path === s.confine.root ? '/' : e.stat.name;
          if (!re.test(subject)) continue;
        }
        if (matches.length >= limit) {
          truncated = true;
          break;
        }
        matches.push({ path: s.out(e.path), type: e.stat.type, size: e.stat.size });
      }
      return { p, matches, truncated };
    });
    const text = r.matches.length === 0 ? 'no matches' : r.matches.map((m) => (m.type === 'directory' ? `${m.path}/` : m.path)).join('\n') + (r.truncated ? `\n[stopped at ${limit} matches]` : '');
    return { text, data: { path: s.out(r.p), matches: r.matches, truncated: r.truncated } };
  },
});

export const listTools: ToolDef[] = [listDirectory, directoryTree, find] as unknown as ToolDef[];
