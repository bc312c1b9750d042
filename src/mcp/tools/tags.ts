// Tools for tags and metadata on files (docs/tags.md): tag (add and remove tags), list_tags,
// get_metadata, set_metadata. Tags and metadata are keyed by the file, so they follow it
// through moves; search (tags) and find (tag) filter by them.
import { z } from 'zod';
import type { MetaMap } from '../../tags/rules.js';
import { tool, pathArg, type ToolDef, READ_ONLY } from '../common.js';

const tagList = z.array(z.string()).max(64);

const tag = tool({
  name: 'tag',
  title: 'Tag files',
  description:
    'Add tags to a file or folder (`add`) and take tags off it (`remove`); with `recursive`, to every file below a folder instead. ' +
    'Tags are case-insensitive words (no spaces or commas); a new tag is defined on first use. Returns the tags the path has afterwards. ' +
    'Find tagged files again with find (tag) or search (tags).',
  input: {
    path: pathArg(),
    add: tagList.optional().describe("tags to add, e.g. ['draft', 'needs-review']"),
    remove: tagList.optional().describe('tags to take off (a tag the file does not have is fine)'),
    recursive: z.boolean().optional().describe('tag every file below the folder `path` (default false)'),
  },
  output: { path: z.string(), tags: z.array(z.string()), changed: z.number().describe('files that gained or lost a tag') },
  mutates: true,
  destructiveHint: false,
  idempotentHint: true,
  async run(a, s) {
    const add = a.add ?? [];
    const remove = a.remove ?? [];
    const r = await s.write(
      (ops) => s.resolve(ops, a.path, true),
      async (ops, p) => {
        let changed = 0;
        let tags: string[] | undefined;
        const opts = { recursive: !!a.recursive };
        if (add.length > 0) ({ files: changed, tags } = await ops.tag(p, add, opts));
        if (remove.length > 0) {
          const u = await ops.untag(p, remove, opts);
          changed += u.files;
          tags = u.tags;
        }
        return { p, changed, tags: tags ?? (await ops.tags(p)) };
      },
      { atomic: true },
    );
    const data = { path: s.out(r.p), tags: r.tags, changed: r.changed };
    return { text: `${data.path}: ${data.tags.length > 0 ? data.tags.join(', ') : '(no tags)'}`, data };
  },
});

const listTags = tool({
  name: 'list_tags',
  title: 'List tags',
  description: "Without `path`: every tag defined in the vault, with how many files carry it. With `path`: that file's tags.",
  input: { path: pathArg().optional().describe("a file or folder whose tags to list (default: every tag in the vault)") },
  output: {
    path: z.string().optional(),
    tags: z.array(z.object({ name: z.string(), count: z.number().optional(), color: z.string().optional() })),
  },
  ...READ_ONLY,
  async run(a, s) {
    type Tag = { name: string; count?: number; color?: string };
    const r = await s.read(async (ops): Promise<{ path?: string; tags: Tag[] }> => {
      if (a.path === undefined) return { tags: (await ops.listTags()).map((t) => ({ name: t.name, count: t.count, ...(t.color ? { color: t.color } : {}) })) };
      const p = await s.resolve(ops, a.path, true);
      return { path: s.out(p), tags: (await ops.tags(p)).map((name) => ({ name })) };
    });
    const text = r.tags.length === 0 ? 'no tags' : r.tags.map((t) => (t.count !== undefined ? `${t.name} (${t.count})` : t.name)).join('\n');
    return { text, data: r };
  },
});

const getMetadata = tool({
  name: 'get_metadata',
  title: 'Read file metadata',
  description: "A file's metadata: free key/value strings set with set_metadata (all of them, or the one `key`; ENOENT for a key it does not have).",
  input: { path: pathArg(), key: z.string().optional().describe('one key (default: all)') },
  output: { path: z.string(), metadata: z.record(z.string()) },
  ...READ_ONLY,
  async run(a, s) {
    const r = await s.read(async (ops) => {
      const p = await s.resolve(ops, a.path, true);
      const got = a.key === undefined ? await ops.getMeta(p) : await ops.getMeta(p, a.key);
      return { path: s.out(p), metadata: typeof got === 'string' ? { [a.key ?? '']: got } : got };
    });
    const keys = Object.entries(r.metadata);
    return { text: keys.length === 0 ? `${r.path}: no metadata` : keys.map(([k, v]) => `${k}=${v}`).join('\n'), data: r };
  },
});

const setMetadata = tool({
  name: 'set_metadata',
  title: 'Set file metadata',
  description:
    'Set metadata keys on a file or folder (`set`: key -> string value, replacing a value already there) and remove keys (`unset`), in one change. ' +
    'Keys: no spaces or "="; values: any text up to 64 KiB. Metadata follows the file through moves and is copied by copy. Returns all of its metadata afterwards.',
  input: {
    path: pathArg(),
    set: z.record(z.string()).optional().describe("keys and values, e.g. {'owner': 'agent-a', 'status': 'draft'}"),
    unset: z.array(z.string()).max(256).optional().describe('keys to remove (a key it does not have is fine)'),
  },
  output: { path: z.string(), metadata: z.record(z.string()) },
  mutates: true,
  destructiveHint: true,
  idempotentHint: true,
  async run(a, s) {
    const r = await s.write(
      (ops) => s.resolve(ops, a.path, true),
      async (ops, p) => {
        if (a.set && Object.keys(a.set).length > 0) await ops.setMeta(p, a.set as MetaMap);
        if (a.unset && a.unset.length > 0) await ops.unsetMeta(p, a.unset);
        return { p, metadata: (await ops.getMeta(p)) as MetaMap };
      },
      { atomic: true },
    );
    const data = { path: s.out(r.p), metadata: r.metadata };
    const keys = Object.entries(data.metadata);
    return { text: keys.length === 0 ? `${data.path}: no metadata` : keys.map(([k, v]) => `${k}=${v}`).join('\n'), data };
  },
});

export const tagTools: ToolDef[] = [tag, listTags, getMetadata, setMetadata] as unknown as ToolDef[];
