// End-to-end tests of `avfs mcp` over stdio: the real executable in a child process, a fresh
// AVFS_HOME, a sqlite vault, driven by the MCP SDK's own Client. Tools (schemas, annotations,
// every happy path with structuredContent), hostile arguments, confinement with and without
// --root, --read-only, four clients at once, and resources with update notifications.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { createVault, openVault } from '../src/index.js';
import { startStdio, call, ok, fails, textOf, type StdioServed } from './helpers/mcp.js';
import { runAvfs } from './helpers/cli.js';

const MEMORY_READ_TOOLS = ['memory_search', 'memory_get', 'memory_list', 'kv_get', 'kv_list', 'session_get', 'session_list', 'stream_read', 'state_get'];
const MEMORY_WRITE_TOOLS = ['memory_add', 'memory_forget', 'kv_set', 'kv_delete', 'kv_sweep', 'session_start', 'session_end', 'stream_append', 'state_set'];
const READ_TOOLS = ['read_file', 'read_multiple_files', 'list_directory', 'directory_tree', 'find', 'grep', 'search', 'stat', 'file_history', 'diff', 'snapshot_list', 'audit', 'list_tags', 'get_metadata', ...MEMORY_READ_TOOLS];
const WRITE_TOOLS = ['write_file', 'edit_file', 'append_file', 'create_directory', 'move', 'copy', 'delete', 'restore_version', 'snapshot_save', 'snapshot_restore', 'tag', 'set_metadata', ...MEMORY_WRITE_TOOLS];

function newHome(): string {
  return mkdtempSync(join(tmpdir(), 'avfs-mcp-'));
}

describe('avfs mcp over stdio', () => {
  let home: string;
  let s: StdioServed;

  before(async () => {
    home = newHome();
    const v = await createVault('v', { home, actor: 'setup' });
    await v.close();
    s = await startStdio(home, ['--vault', 'v'], 'claude-test');
  });
  after(async () => {
    await s?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('lists every tool with an input schema, an output schema, a description and annotations', async () => {
    const { tools } = await s.client.listTools();
    const names = tools.map((t) => t.name).sort();
    assert.deepEqual(names, [...READ_TOOLS, ...WRITE_TOOLS].sort());
    for (const t of tools) {
      assert.equal(t.inputSchema.type, 'object', t.name);
      assert.ok(t.outputSchema && t.outputSchema.type === 'object', `${t.name}: output schema`);
      assert.ok((t.description ?? '').length > 80, `${t.name}: a description an agent can act on`);
      const a = t.annotations!;
      assert.equal(typeof a.readOnlyHint, 'boolean', t.name);
      assert.equal(typeof a.destructiveHint, 'boolean', t.name);
      assert.equal(typeof a.idempotentHint, 'boolean', t.name);
      assert.equal(a.openWorldHint, false, t.name);
      assert.equal(a.readOnlyHint, READ_TOOLS.includes(t.name), `${t.name}: readOnlyHint`);
    }
    const byName = new Map(tools.map((t) => [t.name, t]));
    assert.deepEqual(byName.get('read_file')!.inputSchema.required, ['path']);
    const props = byName.get('read_file')!.inputSchema.properties as Record<string, { type: string }>;
    assert.equal(props.offset.type, 'integer');
    assert.equal(props.version.type, 'integer');
    assert.deepEqual((byName.get('write_file')!.inputSchema.required as string[]).sort(), ['content', 'path']);
    assert.equal(byName.get('delete')!.annotations!.destructiveHint, true);
    assert.equal(byName.get('snapshot_restore')!.annotations!.destructiveHint, true);
    assert.equal(byName.get('append_file')!.annotations!.destructiveHint, false);
    assert.equal(byName.get('create_directory')!.annotations!.idempotentHint, true);
    assert.match(byName.get('search')!.description!, /BM25/);
  });

  it('files: write, read (offset, limit), append, edit (dry run, all or nothing), stat, read several', async () => {
    const c = s.client;
    const w = await ok<{ path: string; size: number; version: number }>(c, 'write_file', { path: '/docs/a.md', content: 'one\ntwo\nthree\nfour\n' });
    assert.deepEqual([w.path, w.size, w.version], ['/docs/a.md', 19, 1]);
    const all = await ok<{ content: string; totalLines: number; truncated: boolean; lines: number }>(c, 'read_file', { path: '/docs/a.md' });
    assert.equal(all.content, 'one\ntwo\nthree\nfour\n');
    assert.equal(all.totalLines, 4);
    assert.equal(all.truncated, false);
    const part = await call(c, 'read_file', { path: 'docs/a.md', offset: 2, limit: 2 });
    assert.equal((part.structuredContent as { content: string }).content, 'two\nthree\n');
    assert.equal((part.structuredContent as { nextOffset: number }).nextOffset, 4);
    assert.match(textOf(part), /offset 4/, 'the text tells the model where to go on');
    const past = await ok<{ content: string; lines: number; totalLines: number }>(c, 'read_file', { path: '/docs/a.md', offset: 1_000_000_000 });
    assert.deepEqual([past.content, past.lines, past.totalLines], ['', 0, 4]);

    const ap = await ok<{ size: number; version: number }>(c, 'append_file', { path: '/docs/a.md', content: 'five\n' });
    assert.deepEqual([ap.size, ap.version], [24, 2]);

    const dry = await ok<{ diff: string; changed: boolean; dryRun: boolean }>(c, 'edit_file', { path: '/docs/a.md', edits: [{ old_text: 'two', new_text: 'TWO' }], dry_run: true });
    assert.match(dry.diff, /^-two$/m);
    assert.match(dry.diff, /^\+TWO$/m);
    assert.equal(dry.dryRun, true);
    assert.equal((await ok<{ content: string }>(c, 'read_file', { path: '/docs/a.md' })).content.includes('TWO'), false, 'dry run writes nothing');

    await fails(c, 'edit_file', { path: '/docs/a.md', edits: [{ old_text: 'two', new_text: '2' }, { old_text: 'nope', new_text: 'x' }] }, 'EINVAL', /edit 2 of 2: old_text not found/);
    await fails(c, 'edit_file', { path: '/docs/a.md', edits: [{ old_text: 'o', new_text: '0' }] }, 'EINVAL', /occurs \d+ times/);
    assert.equal((await ok<{ content: string }>(c, 'read_file', { path: '/docs/a.md' })).content, 'one\ntwo\nthree\nfour\nfive\n', 'all or nothing');

    const ed = await ok<{ diff: string; replacements: number; version: number; changed: boolean }>(c, 'edit_file', {
      path: '/docs/a.md',
      edits: [
        { old_text: 'two\n', new_text: '2\n' },
        { old_text: 'e', new_text: 'E', replace_all: true },
      ],
    });
    assert.equal(ed.changed, true);
    assert.equal(ed.version, 3);
    assert.equal(ed.replacements, 5);
    assert.match(ed.diff, /^--- \/docs\/a\.md\n\+\+\+ \/docs\/a\.md\n@@/);
    assert.equal((await ok<{ content: string }>(c, 'read_file', { path: '/docs/a.md' })).content, 'onE\n2\nthrEE\nfour\nfivE\n');

    const st = await ok<{ type: string; size: number; version: number; mode: string; hash: string; mtime: string }>(c, 'stat', { path: '/docs/a.md' });
    assert.equal(st.type, 'file');
    assert.equal(st.version, 3);
    assert.equal(st.mode, '0644');
    assert.match(st.hash, /^[0-9a-f]{64}$/);
    assert.ok(!Number.isNaN(Date.parse(st.mtime)));

    await ok(c, 'write_file', { path: '/docs/b.txt', content: 'bee\n' });
    const many = await ok<{ files: { path: string; ok: boolean; content?: string; error?: string }[] }>(c, 'read_multiple_files', { paths: ['/docs/b.txt', '/docs/missing', 'docs/a.md'] });
    assert.deepEqual(
      many.files.map((f) => [f.path, f.ok]),
      [
        ['/docs/b.txt', true],
        ['/docs/missing', false],
        ['/docs/a.md', true],
      ],
    );
    assert.match(many.files[1].error!, /^ENOENT: /);
    assert.equal(many.files[0].content, 'bee\n');

    await fails(c, 'write_file', { path: '/docs/b.txt', content: 'x', create_only: true }, 'EEXIST');
    const bin = await ok<{ size: number }>(c, 'write_file', { path: '/bin.dat', content: Buffer.from([0, 1, 2, 255]).toString('base64'), encoding: 'base64' });
    assert.equal(bin.size, 4);
    const rb = await ok<{ encoding: string; content: string }>(c, 'read_file', { path: '/bin.dat' });
    assert.deepEqual([rb.encoding, rb.content], ['base64', 'AAEC/w==']);
  });

  it('folders: create_directory, list_directory, directory_tree, find, move, copy, delete', async () => {
    const c = s.client;
    const mk = await ok<{ created: boolean }>(c, 'create_directory', { path: '/tree/x/y' });
    assert.equal(mk.created, true);
    assert.equal((await ok<{ created: boolean }>(c, 'create_directory', { path: '/tree/x/y' })).created, false, 'idempotent');
    await ok(c, 'write_file', { path: '/tree/x/y/deep.ts', content: 'export const deep = 1;\n' });
    await ok(c, 'write_file', { path: '/tree/top.md', content: '# top\n' });

    const ls = await ok<{ entries: { name: string; type: string; size: number }[]; total: number }>(c, 'list_directory', { path: '/tree' });
    assert.deepEqual(
      ls.entries.map((e) => [e.name, e.type, e.size]),
      [
        ['top.md', 'file', 6],
        ['x', 'directory', 0],
      ],
    );
    const page = await ok<{ entries: unknown[]; truncated: boolean }>(c, 'list_directory', { path: '/tree', limit: 1 });
    assert.equal(page.entries.length, 1);
    assert.equal(page.truncated, true);

    const tree = await call(c, 'directory_tree', { path: '/tree' });
    const td = tree.structuredContent as { entries: { path: string; depth: number }[]; directories: number; files: number };
    assert.deepEqual(
      td.entries.map((e) => e.path),
      ['/tree/top.md', '/tree/x', '/tree/x/y', '/tree/x/y/deep.ts'],
    );
    assert.deepEqual([td.directories, td.files], [2, 2]);
    assert.match(textOf(tree), /^\/tree\/\n {2}top\.md\n {2}x\/\n {4}y\/\n {6}deep\.ts/);
    assert.equal((await ok<{ entries: unknown[] }>(c, 'directory_tree', { path: '/tree', max_depth: 1 })).entries.length, 2);

    const byName = await ok<{ matches: { path: string }[] }>(c, 'find', { pattern: '*.ts' });
    assert.deepEqual(
      byName.matches.map((m) => m.path),
      ['/tree/x/y/deep.ts'],
    );
    const byPath = await ok<{ matches: { path: string }[] }>(c, 'find', { path: '/tree', pattern: 'x/**/*.ts' });
    assert.deepEqual(
      byPath.matches.map((m) => m.path),
      ['/tree/x/y/deep.ts'],
    );
    const dirs = await ok<{ matches: { path: string }[] }>(c, 'find', { path: '/tree', type: 'directory' });
    assert.deepEqual(
      dirs.matches.map((m) => m.path),
      ['/tree', '/tree/x', '/tree/x/y'],
    );

    await ok(c, 'copy', { source: '/tree/top.md', destination: '/tree/top-copy.md' });
    await fails(c, 'copy', { source: '/tree/top.md', destination: '/tree/top-copy.md' }, 'EEXIST', /overwrite/);
    await fails(c, 'copy', { source: '/tree/x', destination: '/tree/x2' }, 'EISDIR');
    await ok(c, 'copy', { source: '/tree/x', destination: '/tree/x2', recursive: true });
    assert.equal((await ok<{ content: string }>(c, 'read_file', { path: '/tree/x2/y/deep.ts' })).content, 'export const deep = 1;\n');

    const mv = await ok<{ source: string; destination: string }>(c, 'move', { source: '/tree/top-copy.md', destination: '/tree/moved.md' });
    assert.deepEqual(mv, { source: '/tree/top-copy.md', destination: '/tree/moved.md' });
    await fails(c, 'move', { source: '/tree/moved.md', destination: '/tree/top.md' }, 'EEXIST');
    await ok(c, 'move', { source: '/tree/moved.md', destination: '/tree/top.md', overwrite: true });

    await fails(c, 'delete', { path: '/tree/x2' }, 'EISDIR', /recursive/);
    const del = await ok<{ deleted: boolean; type: string }>(c, 'delete', { path: '/tree/x2', recursive: true });
    assert.deepEqual([del.deleted, del.type], [true, 'directory']);
    await fails(c, 'delete', { path: '/tree/x2' }, 'ENOENT');
    await fails(c, 'delete', { path: '/', recursive: true }, 'EBUSY');
    await fails(c, 'list_directory', { path: '/tree/nothing' }, 'ENOENT');
  });

  it('tags and metadata: tag, list_tags, get_metadata, set_metadata; find and search filter by tag; they follow a move', async () => {
    const c = s.client;
    await ok(c, 'write_file', { path: '/t/a.md', content: 'alpha note\n' });
    await ok(c, 'write_file', { path: '/t/b.md', content: 'beta note\n' });
    const t = await ok<{ path: string; tags: string[]; changed: number }>(c, 'tag', { path: '/t/a.md', add: ['Draft', 'review'] });
    assert.deepEqual(t, { path: '/t/a.md', tags: ['draft', 'review'], changed: 1 });
    const t2 = await ok<{ tags: string[] }>(c, 'tag', { path: '/t/a.md', add: ['final'], remove: ['draft'] });
    assert.deepEqual(t2.tags, ['final', 'review']);
    await ok(c, 'tag', { path: '/t', add: ['team'], recursive: true });
    const all = await ok<{ tags: { name: string; count?: number }[] }>(c, 'list_tags', {});
    assert.deepEqual(
      all.tags.filter((x) => x.count! > 0).map((x) => [x.name, x.count]),
      [
        ['final', 1],
        ['review', 1],
        ['team', 2],
      ],
    );
    const m = await ok<{ metadata: Record<string, string> }>(c, 'set_metadata', { path: '/t/a.md', set: { owner: 'agent-a', status: 'wip' } });
    assert.deepEqual(m.metadata, { owner: 'agent-a', status: 'wip' });
    const m2 = await ok<{ metadata: Record<string, string> }>(c, 'set_metadata', { path: '/t/a.md', set: { status: 'done' }, unset: ['owner'] });
    assert.deepEqual(m2.metadata, { status: 'done' });
    await ok(c, 'move', { source: '/t/a.md', destination: '/t/moved.md' });
    assert.deepEqual((await ok<{ metadata: Record<string, string> }>(c, 'get_metadata', { path: '/t/moved.md' })).metadata, { status: 'done' });
    assert.deepEqual((await ok<{ metadata: Record<string, string> }>(c, 'get_metadata', { path: '/t/moved.md', key: 'status' })).metadata, { status: 'done' });
    assert.deepEqual((await ok<{ tags: { name: string }[] }>(c, 'list_tags', { path: '/t/moved.md' })).tags.map((x) => x.name), ['final', 'review', 'team']);
    const f = await ok<{ matches: { path: string }[] }>(c, 'find', { path: '/t', tag: 'REVIEW' });
    assert.deepEqual(f.matches.map((x) => x.path), ['/t/moved.md']);
    const sr = await ok<{ hits: { path: string }[] }>(c, 'search', { query: 'note', tags: ['team'] });
    assert.deepEqual(sr.hits.map((h) => h.path).sort(), ['/t/b.md', '/t/moved.md']);
    await fails(c, 'tag', { path: '/t/b.md', add: ['has space'] }, 'EINVAL');
    await fails(c, 'tag', { path: '/nowhere', add: ['x'] }, 'ENOENT');
    await fails(c, 'get_metadata', { path: '/t/b.md', key: 'missing' }, 'ENOENT');
    await fails(c, 'set_metadata', { path: '/t/b.md', set: { 'bad key': 'v' } }, 'EINVAL');
    await fails(c, 'set_metadata', { path: '/t/b.md', set: { big: 'x'.repeat(70_000) } }, 'EFBIG');
    assert.deepEqual((await ok<{ metadata: Record<string, string> }>(c, 'get_metadata', { path: '/t/b.md' })).metadata, {});
  });

  it('grep (regex, include, ignore_case, fixed strings) and search (substring, said so)', async () => {
    const c = s.client;
    await ok(c, 'write_file', { path: '/src/a.ts', content: 'const a = 1; // TODO: fix\nconst b = 2;\n' });
    await ok(c, 'write_file', { path: '/src/b.md', content: 'todo list\nTODO twice TODO\n' });
    const g = await call(c, 'grep', { pattern: 'TODO', path: '/src' });
    const gd = g.structuredContent as { matches: { path: string; line: number; text: string }[]; filesSearched: number };
    assert.deepEqual(
      gd.matches.map((m) => `${m.path}:${m.line}`),
      ['/src/a.ts:1', '/src/b.md:2'],
    );
    assert.equal(gd.filesSearched, 2);
    assert.match(textOf(g), /^\/src\/a\.ts:1:const a = 1; \/\/ TODO: fix$/m);
    const gi = await ok<{ matches: unknown[] }>(c, 'grep', { pattern: 'todo', path: '/src', ignore_case: true, include: '*.md' });
    assert.equal(gi.matches.length, 2);
    const gf = await ok<{ matches: unknown[] }>(c, 'grep', { pattern: 'a = 1;', fixed_strings: true, path: '/src' });
    assert.equal(gf.matches.length, 1);
    await fails(c, 'grep', { pattern: '(unclosed' }, 'EINVAL', /invalid regular expression/);

    const r = await call(c, 'search', { query: 'todo', path: '/src' });
    const rd = r.structuredContent as { query: string; hits: { path: string; score: number; line?: number; snippet?: string }[]; more: boolean };
    // Ranked: three TODOs in a short file beat one in a longer one.
    assert.deepEqual(
      rd.hits.map((x) => [x.path, x.line]),
      [
        ['/src/b.md', 1],
        ['/src/a.ts', 1],
      ],
    );
    assert.ok(rd.hits[0].score >= rd.hits[1].score);
    assert.match(textOf(r), /^\/src\/b\.md:1: todo list$/m);
    const phrase = await ok<{ hits: { path: string }[] }>(c, 'search', { query: '"twice todo" OR fix*' });
    assert.deepEqual(phrase.hits.map((h) => h.path).sort(), ['/src/a.ts', '/src/b.md']);
    await fails(c, 'search', { query: '"unclosed' }, 'EINVAL', /closing quote/);
    await fails(c, 'search', { query: 'todo', path: '/nowhere' }, 'ENOENT');
  });

  it('history: file_history, read_file version and at, diff, restore_version, snapshots, audit', async () => {
    const c = s.client;
    await ok(c, 'write_file', { path: '/h/f.txt', content: 'v1\n' });
    const snap = await ok<{ name: string; seq: number }>(c, 'snapshot_save', { name: 'before' });
    assert.equal(snap.name, 'before');
    await ok(c, 'write_file', { path: '/h/f.txt', content: 'v2\n' });
    await ok(c, 'write_file', { path: '/h/g.txt', content: 'new\n' });

    const h = await ok<{ entries: { version?: number; actor: string; op: string; removed: boolean }[] }>(c, 'file_history', { path: '/h/f.txt' });
    assert.deepEqual(
      h.entries.map((e) => [e.version, e.actor, e.op, e.removed]),
      [
        [2, 'claude-test', 'write', false],
        [1, 'claude-test', 'write', false],
      ],
    );
    assert.equal((await ok<{ content: string; version: number }>(c, 'read_file', { path: '/h/f.txt', version: 1 })).content, 'v1\n');
    const atSnap = await ok<{ content: string; at: string }>(c, 'read_file', { path: '/h/f.txt', at: 'before' });
    assert.equal(atSnap.content, 'v1\n');
    assert.match(atSnap.at, /before/);
    await fails(c, 'read_file', { path: '/h/f.txt', at: 'no-such-snapshot' }, 'EINVAL', /^EINVAL: at: /);
    await fails(c, 'read_file', { path: '/h/f.txt', version: 9 }, 'ENOENT', /no version 9/);
    await fails(c, 'read_file', { path: '/h/f.txt', version: 1, at: 'before' }, 'EINVAL');

    const d = await ok<{ diff: string; identical: boolean }>(c, 'diff', { path: '/h/f.txt' });
    assert.match(d.diff, /^-v1$/m);
    assert.match(d.diff, /^\+v2$/m);
    const dv = await ok<{ diff: string }>(c, 'diff', { path: '/h/f.txt', from_version: 1, to_version: 2 });
    assert.equal(dv.diff, d.diff);
    const dp = await ok<{ diff: string; from: string }>(c, 'diff', { path: '/h/f.txt', from: 'before' });
    assert.match(dp.diff, /^\+v2$/m);
    const dfiles = await ok<{ identical: boolean }>(c, 'diff', { path: '/h/f.txt', other_path: '/h/f.txt' });
    assert.equal(dfiles.identical, true);
    const dtree = await ok<{ added: string[]; changed: string[]; removed: string[] }>(c, 'diff', { from: 'before' });
    assert.deepEqual(dtree.added, ['/h/g.txt']);
    assert.deepEqual(dtree.changed, ['/h/f.txt']);

    const rv = await ok<{ restoredVersion: number; version: number }>(c, 'restore_version', { path: '/h/f.txt', version: 1 });
    assert.deepEqual([rv.restoredVersion, rv.version], [1, 3]);
    assert.equal((await ok<{ content: string }>(c, 'read_file', { path: '/h/f.txt' })).content, 'v1\n');

    const list = await ok<{ snapshots: { name: string; auto: boolean }[] }>(c, 'snapshot_list');
    assert.ok(list.snapshots.some((x) => x.name === 'before' && !x.auto));
    const res = await ok<{ saved: string; added: number; removed: number }>(c, 'snapshot_restore', { name: 'before' });
    assert.match(res.saved, /^auto-/);
    assert.equal(res.removed, 1, 'g.txt was made after the snapshot');
    await fails(c, 'read_file', { path: '/h/g.txt' }, 'ENOENT');
    await fails(c, 'snapshot_restore', { name: 'nope' }, 'ENOENT');

    const au = await ok<{ records: { op: string; actor: string; paths: string[]; outcome?: string }[] }>(c, 'audit', { path: '/h', limit: 20 });
    assert.ok(au.records.length >= 4);
    assert.ok(au.records.every((r) => r.actor === 'claude-test'), 'every change (and read) is attributed to the client');
    const writes = await ok<{ records: { op: string }[] }>(c, 'audit', { op: ['write'], since: '1h' });
    assert.ok(writes.records.length > 0 && writes.records.every((r) => r.op === 'write'));
    await fails(c, 'audit', { since: 'yesterday-ish' }, 'EINVAL');
  });

  it('hostile arguments get a one-line tool error with a code, and the server goes on serving', async () => {
    const c = s.client;
    await fails(c, 'read_file', { path: 42 }, 'EINVAL', /invalid arguments for read_file: .*path/);
    await fails(c, 'read_file', {}, 'EINVAL', /Required/);
    await fails(c, 'write_file', { path: '/x' }, 'EINVAL', /content/);
    await fails(c, 'edit_file', { path: '/x', edits: 'replace all' }, 'EINVAL');
    await fails(c, 'read_file', { path: '/docs/a.md', offset: -1 }, 'EINVAL');
    await fails(c, 'read_file', { path: '/docs/a.md', offset: 1e300 }, 'EINVAL');
    await fails(c, 'read_file', { path: '/docs/a.md', offset: 'ten' }, 'EINVAL');
    await fails(c, 'read_file', { path: 'a\0b' }, 'EINVAL', /NUL/);
    await fails(c, 'read_file', { path: '/' + 'x'.repeat(300) }, 'ENAMETOOLONG');
    await fails(c, 'read_file', { path: '/docs' }, 'EISDIR');
    await fails(c, 'no_such_tool', {}, 'ENOENT', /no tool named/);
    await fails(c, 'read_multiple_files', { paths: Array.from({ length: 20_000 }, () => '/x') }, 'EINVAL');
    // A 100 MiB string: refused whole, without the server holding it or dying.
    const t0 = Date.now();
    await fails(c, 'write_file', { path: '/huge.txt', content: 'x'.repeat(100 * 1024 * 1024) }, 'EFBIG', /append_file/);
    assert.ok(Date.now() - t0 < 20_000);
    // 40 MiB: readable as a message, over what one call may write.
    await fails(c, 'write_file', { path: '/big.txt', content: 'y'.repeat(40 * 1024 * 1024) }, 'EFBIG');
    await fails(c, 'read_file', { path: '/huge.txt' }, 'ENOENT');
    // Catastrophic backtracking: (a+)+$ against 50,000 a's and a "b" would run for ages.
    await ok(c, 'write_file', { path: '/redos.txt', content: 'a'.repeat(50_000) + 'b\n' + 'a'.repeat(50_000) + '\n' });
    const t1 = Date.now();
    const r = await call(c, 'grep', { pattern: '(a+)+$', path: '/redos.txt' });
    const took = Date.now() - t1;
    assert.ok(took < 1000, `grep finished or failed within a second (${took} ms)`);
    if (r.isError) assert.match(textOf(r), /^EINVAL: grep: the pattern took over \d+ ms .*simplify/);
    // The server is still there and works.
    assert.equal((await ok<{ content: string }>(c, 'read_file', { path: '/docs/b.txt' })).content, 'bee\n');
    assert.doesNotMatch(s.stderr(), /\n\s+at /, 'no stack traces in the log');
  });

  it('without --root the vault is the whole world: no path reaches the host', async () => {
    const c = s.client;
    await fails(c, 'read_file', { path: '../../etc/passwd' }, 'ENOENT');
    await fails(c, 'read_file', { path: '/etc/passwd' }, 'ENOENT');
    await fails(c, 'read_file', { path: '%2e%2e/%2e%2e/etc/passwd' }, 'ENOENT');
    await fails(c, 'list_directory', { path: '../../../../' + tmpdir() }, 'ENOENT');
    const w = await ok<{ path: string }>(c, 'write_file', { path: '../../../etc/passwd', content: 'in the vault\n' });
    assert.equal(w.path, '/etc/passwd', '.. above / stays at / (in the vault)');
    assert.equal((await ok<{ content: string }>(c, 'read_file', { path: '/etc/passwd' })).content, 'in the vault\n');
    const literal = await ok<{ path: string }>(c, 'write_file', { path: '%2e%2e/x', content: 'x' });
    assert.equal(literal.path, '/%2e%2e/x', 'percent signs are part of a name, never decoded');
    await assert.rejects(c.readResource({ uri: 'avfs://v/../../../etc/shadow' }), /ENOENT/);
    const res = await c.readResource({ uri: 'avfs://v/%2e%2e/%2e%2e/etc/passwd' });
    assert.equal((res.contents[0] as { text: string }).text, 'in the vault\n');
    await ok(c, 'delete', { path: '/etc', recursive: true });
  });

  it('resources: list, read, template, and updated notifications for a subscribed file', async () => {
    const c = s.client;
    await ok(c, 'write_file', { path: '/res/note.md', content: '# note\n' });
    const { resources } = await c.listResources();
    const note = resources.find((r) => r.uri === 'avfs://v/res/note.md');
    assert.ok(note, JSON.stringify(resources.map((r) => r.uri)));
    assert.equal(note.mimeType, 'text/markdown');
    const { resourceTemplates } = await c.listResourceTemplates();
    assert.equal(resourceTemplates[0].uriTemplate, 'avfs://v/{+path}');
    const read = await c.readResource({ uri: 'avfs://v/res/note.md' });
    assert.deepEqual(read.contents, [{ uri: 'avfs://v/res/note.md', mimeType: 'text/markdown', text: '# note\n' }]);
    const spaced = await ok<{ path: string }>(c, 'write_file', { path: '/res/with space.bin', content: Buffer.from([0, 159]).toString('base64'), encoding: 'base64' });
    const blob = await c.readResource({ uri: 'avfs://v' + spaced.path.replace(' ', '%20') });
    assert.equal((blob.contents[0] as { blob: string }).blob, Buffer.from([0, 159]).toString('base64'));
    await assert.rejects(c.readResource({ uri: 'avfs://other-vault/res/note.md' }), /not found/);
    await assert.rejects(c.readResource({ uri: 'avfs://v/res' }), /EISDIR/);

    const updates: string[] = [];
    c.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updates.push(n.params.uri);
    });
    await c.subscribeResource({ uri: 'avfs://v/res/note.md' });
    // A change by this server...
    await ok(c, 'append_file', { path: '/res/note.md', content: 'more\n' });
    await waitFor(() => updates.length >= 1, 3000, 'an update after our own write');
    // ...and one by another process (the CLI), seen by polling the operation log.
    const n = updates.length;
    const r = await runAvfs(['--vault', 'v', 'write', '-a', '/res/note.md', 'from the cli\n'], { env: { AVFS_HOME: home } });
    assert.equal(r.code, 0, r.stderr);
    await waitFor(() => updates.length > n, 5000, 'an update after a write by another process');
    assert.ok(updates.every((u) => u === 'avfs://v/res/note.md'));
    // Changes elsewhere say nothing about this file.
    const m = updates.length;
    await ok(c, 'write_file', { path: '/res/other.md', content: 'x' });
    await new Promise((res) => setTimeout(res, 1200));
    assert.equal(updates.length, m);
    await c.unsubscribeResource({ uri: 'avfs://v/res/note.md' });
  });

  it('memories: memory_add, memory_search (ranked, tags), memory_get, memory_list, memory_forget', async () => {
    const c = s.client;
    const a = await ok<{ id: number; text: string; tags: string[]; actor: string; time: string }>(c, 'memory_add', { text: 'The staging deploy needs the VPN', tags: ['ops', 'deploy'] });
    assert.ok(a.id >= 1);
    assert.deepEqual([a.tags, a.actor], [['ops', 'deploy'], 'claude-test']);
    const b = await ok<{ id: number }>(c, 'memory_add', { text: 'deploy deploy deploy: production deploys happen on Tuesdays', tags: ['deploy'] });
    await ok(c, 'memory_add', { text: 'Lunch is at noon' });
    const hits = await ok<{ hits: { id: number; score: number }[] }>(c, 'memory_search', { query: 'deploy*' });
    assert.deepEqual(hits.hits.map((h) => h.id), [b.id, a.id], 'ranked: more occurrences first');
    assert.ok(hits.hits[0].score >= hits.hits[1].score);
    const tagged = await ok<{ hits: { id: number }[] }>(c, 'memory_search', { query: 'deploy* NOT production', tags: ['ops'] });
    assert.deepEqual(tagged.hits.map((h) => h.id), [a.id]);
    assert.deepEqual((await ok<{ hits: unknown[] }>(c, 'memory_search', { query: 'deploy', limit: 1 })).hits.length, 1);
    assert.equal((await ok<{ text: string }>(c, 'memory_get', { id: a.id })).text, 'The staging deploy needs the VPN');
    const list = await ok<{ memories: { id: number }[] }>(c, 'memory_list', { tags: ['deploy'], since: '1h', limit: 10 });
    assert.deepEqual(list.memories.map((m) => m.id), [b.id, a.id], 'newest first');
    const gone = await ok<{ id: number }>(c, 'memory_forget', { id: a.id });
    assert.equal(gone.id, a.id);
    await fails(c, 'memory_get', { id: a.id }, 'ENOENT');
    await fails(c, 'memory_forget', { id: a.id }, 'ENOENT');
    // Bad input, one each.
    await fails(c, 'memory_add', { text: '   ' }, 'EINVAL', /empty/);
    await fails(c, 'memory_search', { query: '"unclosed' }, 'EINVAL');
    await fails(c, 'memory_get', { id: 0 }, 'EINVAL');
    await fails(c, 'memory_list', { since: 'last tuesday-ish' }, 'EINVAL', /since/);
    await fails(c, 'memory_forget', { id: 'x' }, 'EINVAL');
  });

  it('key/value: kv_set (text, base64, ttl, compare-and-set), kv_get, kv_list, kv_delete', async () => {
    const c = s.client;
    const v1 = await ok<{ key: string; version: number; size: number }>(c, 'kv_set', { key: 'cfg/mode', value: 'fast' });
    assert.equal(v1.size, 4);
    const g = await ok<{ value: string; encoding: string; version: number }>(c, 'kv_get', { key: 'cfg/mode' });
    assert.deepEqual([g.value, g.encoding, g.version], ['fast', 'utf8', v1.version]);
    const v2 = await ok<{ version: number }>(c, 'kv_set', { key: 'cfg/mode', value: 'slow', if_version: v1.version });
    assert.ok(v2.version > v1.version);
    await fails(c, 'kv_set', { key: 'cfg/mode', value: 'lost', if_version: v1.version }, 'ECONFLICT', /version conflict/);
    await fails(c, 'kv_set', { key: 'cfg/mode', value: 'lost', if_version: 0 }, 'ECONFLICT');
    assert.equal((await ok<{ value: string }>(c, 'kv_get', { key: 'cfg/mode' })).value, 'slow', 'a conflict changes nothing');
    await ok(c, 'kv_set', { key: 'cfg/bin', value: Buffer.from([0, 255, 1]).toString('base64'), encoding: 'base64' });
    const bin = await ok<{ value: string; encoding: string; size: number }>(c, 'kv_get', { key: 'cfg/bin' });
    assert.deepEqual([bin.value, bin.encoding, bin.size], ['AP8B', 'base64', 3]);
    assert.deepEqual(await ok(c, 'kv_get', { key: 'cfg/mode', encoding: 'base64' }).then((r) => [r.value, r.encoding]), [Buffer.from('slow').toString('base64'), 'base64']);
    const ttl = await ok<{ expires: string }>(c, 'kv_set', { key: 'tmp', value: 'soon gone', ttl_seconds: 0.2 });
    assert.ok(Date.parse(ttl.expires) > Date.now() - 1000);
    const ls = await ok<{ keys: { key: string }[]; truncated: boolean }>(c, 'kv_list', { prefix: 'cfg/' });
    assert.deepEqual(ls.keys.map((k) => k.key), ['cfg/bin', 'cfg/mode']);
    assert.equal((await ok<{ truncated: boolean; keys: unknown[] }>(c, 'kv_list', { prefix: 'cfg/', limit: 1 })).truncated, true);
    await new Promise((r) => setTimeout(r, 300));
    await fails(c, 'kv_get', { key: 'tmp' }, 'ENOENT', /no such key/);
    assert.ok((await ok<{ removed: number }>(c, 'kv_sweep', {})).removed >= 1, 'the expired key is deleted');
    assert.equal((await ok<{ removed: number }>(c, 'kv_sweep', {})).removed, 0);
    const snap = await ok<{ memory: boolean }>(c, 'snapshot_save', { name: 'mcp-mem', with_memory: true });
    assert.equal(snap.memory, true);
    assert.equal((await ok<{ snapshots: { name: string; memory: boolean }[] }>(c, 'snapshot_list', {})).snapshots.find((x) => x.name === 'mcp-mem')?.memory, true);
    await fails(c, 'kv_delete', { key: 'cfg/mode', if_version: v1.version }, 'ECONFLICT');
    assert.equal((await ok<{ key: string }>(c, 'kv_delete', { key: 'cfg/mode', if_version: v2.version })).key, 'cfg/mode');
    await fails(c, 'kv_get', { key: 'cfg/mode' }, 'ENOENT');
    // Bad input, one each.
    await fails(c, 'kv_set', { key: 'k', value: 'not base64!', encoding: 'base64' }, 'EINVAL', /base64/);
    await fails(c, 'kv_get', { key: '' }, 'EINVAL');
    await fails(c, 'kv_delete', { key: 'a\u0000b' }, 'EINVAL', /NUL/);
    await fails(c, 'kv_list', { prefix: 'x'.repeat(500) }, 'ENAMETOOLONG');
    await fails(c, 'kv_set', { key: 'k', value: 'v', ttl_seconds: -1 }, 'EINVAL');
  });

  it('sessions, streams and the agent state', async () => {
    const c = s.client;
    const st = await ok<{ id: number; intent: string; payload: unknown; ended?: string }>(c, 'session_start', { intent: 'fix-bug', payload: { issue: 12, files: ['/a'] } });
    assert.deepEqual([st.intent, st.payload, st.ended], ['fix-bug', { issue: 12, files: ['/a'] }, undefined]);
    const other = await ok<{ id: number }>(c, 'session_start', {});
    assert.deepEqual((await ok<{ payload: unknown }>(c, 'session_get', { id: st.id })).payload, { issue: 12, files: ['/a'] });
    assert.deepEqual((await ok<{ sessions: { id: number }[] }>(c, 'session_list', {})).sessions.map((x) => x.id), [other.id, st.id]);
    assert.deepEqual((await ok<{ sessions: { id: number }[] }>(c, 'session_list', { intent: 'fix-bug' })).sessions.map((x) => x.id), [st.id]);
    const ended = await ok<{ ended: string }>(c, 'session_end', { id: st.id });
    assert.ok(!Number.isNaN(Date.parse(ended.ended)));
    await fails(c, 'session_end', { id: st.id }, 'EINVAL');
    await fails(c, 'session_get', { id: 99_999 }, 'ENOENT');
    await fails(c, 'session_start', { intent: '' }, 'EINVAL');
    await fails(c, 'session_list', { limit: 0 }, 'EINVAL');

    const a1 = await ok<{ offset: number; size: number; next: number }>(c, 'stream_append', { key: 'events', data: 'one\n' });
    assert.deepEqual([a1.offset, a1.size, a1.next], [0, 4, 4]);
    const a2 = await ok<{ offset: number }>(c, 'stream_append', { key: 'events', data: Buffer.from([0, 1]).toString('base64'), encoding: 'base64' });
    await ok(c, 'stream_append', { key: 'events', data: 'three\n' });
    const r1 = await ok<{ entries: { offset: number; data: string; encoding: string }[]; next: number; more: boolean }>(c, 'stream_read', { key: 'events', limit: 2 });
    assert.deepEqual(
      r1.entries.map((e) => [e.offset, e.data, e.encoding]),
      [
        [0, 'one\n', 'utf8'],
        [a2.offset, 'AAE=', 'base64'],
      ],
    );
    assert.deepEqual([r1.next, r1.more], [6, true]);
    const r2 = await ok<{ entries: { data: string }[]; next: number; more: boolean }>(c, 'stream_read', { key: 'events', from: r1.next });
    assert.deepEqual([r2.entries.map((e) => e.data), r2.next, r2.more], [['three\n'], 12, false]);
    const r3 = await ok<{ entries: unknown[]; next: number }>(c, 'stream_read', { key: 'events', from: r2.next });
    assert.deepEqual([r3.entries.length, r3.next], [0, 12]);
    await fails(c, 'stream_append', { key: 'events', data: '' }, 'EINVAL', /empty/);
    await fails(c, 'stream_read', { key: 'no-such-stream' }, 'ENOENT');

    assert.equal((await ok<{ exists: boolean }>(c, 'state_get', {})).exists, false);
    const set = await ok<{ version: number; actor: string }>(c, 'state_set', { value: { status: 'testing', step: 3 } });
    assert.equal(set.actor, 'claude-test');
    const got = await ok<{ exists: boolean; value: unknown; version: number }>(c, 'state_get', {});
    assert.deepEqual([got.exists, got.value, got.version], [true, { status: 'testing', step: 3 }, set.version]);
    await fails(c, 'state_set', {}, 'EINVAL', /value/);

    // The library logged each change, as this client.
    const v = await openVault('v', { home });
    try {
      const ops = (await v.audit({ actor: 'claude-test', limit: 1000 })).map((r) => r.op);
      for (const op of ['memory.add', 'memory.forget', 'kv.set', 'kv.del', 'session.start', 'session.end', 'stream.append', 'state.set']) assert.ok(ops.includes(op), op);
    } finally {
      await v.close();
    }
  });

  it('reads are in the audit log too: one record each, as this client, with the paths named and the outcome when refused', async () => {
    const c = s.client;
    await ok(c, 'write_file', { path: '/aud/r.txt', content: 'r\n' });
    await ok(c, 'read_file', { path: 'aud/r.txt' });
    await fails(c, 'read_file', { path: '/aud/missing' }, 'ENOENT');
    await ok(c, 'read_multiple_files', { paths: ['/aud/r.txt', '/aud/missing'] });
    await ok(c, 'list_directory', { path: '/aud' });
    const v = await openVault('v', { home });
    try {
      const recs = (await v.audit({ actor: 'claude-test', limit: 5 })).reverse();
      assert.deepEqual(
        recs.map((r) => [r.op, r.paths, r.outcome]),
        [
          ['write', ['/aud/r.txt'], undefined],
          ['mcp.read_file', ['/aud/r.txt'], undefined],
          ['mcp.read_file', ['/aud/missing'], 'ENOENT'],
          ['mcp.read_multiple_files', ['/aud/r.txt', '/aud/missing'], undefined],
          ['mcp.list_directory', ['/aud'], undefined],
        ],
      );
      assert.equal((await v.stat('/aud/r.txt')).version, 1, 'a read changes nothing');
    } finally {
      await v.close();
    }
    // And the audit tool shows them (under --root, cut down to the root like everything else).
    const au = await ok<{ records: { op: string; actor: string }[] }>(c, 'audit', { path: '/aud' });
    assert.ok(au.records.some((r) => r.op === 'mcp.read_file' && r.actor === 'claude-test'));
  });

  it('logs go to stderr: who connected, and tool errors', () => {
    assert.match(s.stderr(), /avfs mcp: serving vault "v" on stdio/);
    assert.match(s.stderr(), /client connected: claude-test/);
    assert.match(s.stderr(), /claude-test: read_file: ENOENT: /);
  });
});

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('avfs mcp --root', () => {
  let home: string;
  let s: StdioServed;
  const SECRET = 'top secret, outside the root\n';

  before(async () => {
    home = newHome();
    const v = await createVault('v', { home, actor: 'setup' });
    await v.writeFile('/secret.txt', SECRET);
    await v.writeFile('/other/private.md', SECRET);
    await v.writeFile('/sub/inside.txt', 'inside\n');
    await v.symlink('/secret.txt', '/sub/abs-link');
    await v.symlink('../secret.txt', '/sub/rel-link');
    await v.symlink('/', '/sub/root-link');
    await v.symlink('../other', '/sub/dir-link');
    await v.symlink('inside.txt', '/sub/ok-link');
    await v.symlink('/sub/inside.txt', '/sub/ok-abs-link');
    await v.symlink('nothing/../../../secret.txt', '/sub/sneaky');
    // Was a file inside the root (with history), is now a link out: restoring it must not write out.
    await v.writeFile('/sub/was-file', 'old inside content\n');
    await v.rm('/sub/was-file');
    await v.symlink('/secret.txt', '/sub/was-file');
    await v.mkdir('/sub/d');
    await v.symlink('../../secret.txt', '/sub/d/up2');
    await v.close();
    s = await startStdio(home, ['--vault', 'v', '--root', '/sub'], 'rooted');
  });
  after(async () => {
    await s?.close();
    rmSync(home, { recursive: true, force: true });
  });

  const secretIntact = async (): Promise<void> => {
    const v = await openVault('v', { home });
    try {
      assert.equal(await v.readText('/secret.txt'), SECRET);
      assert.equal(await v.readText('/other/private.md'), SECRET);
    } finally {
      await v.close();
    }
  };

  it('offers the memory tools (vault-wide: they name no path), and records reads under the root', async () => {
    const c = s.client;
    const names = (await c.listTools()).tools.map((t) => t.name);
    for (const n of [...MEMORY_READ_TOOLS, ...MEMORY_WRITE_TOOLS]) assert.ok(names.includes(n), n);
    const m = await ok<{ id: number }>(c, 'memory_add', { text: 'rooted memory' });
    assert.equal((await ok<{ text: string }>(c, 'memory_get', { id: m.id })).text, 'rooted memory');
    await ok(c, 'stat', { path: '/inside.txt' });
    const v = await openVault('v', { home });
    try {
      const [rec] = await v.audit({ actor: 'rooted', ops: ['mcp.stat'] });
      assert.deepEqual(rec.paths, ['/sub/inside.txt'], 'the log names vault paths');
    } finally {
      await v.close();
    }
  });

  it('paths are relative to the root, in and out', async () => {
    const c = s.client;
    assert.equal((await ok<{ content: string; path: string }>(c, 'read_file', { path: '/inside.txt' })).path, '/inside.txt');
    const ls = await ok<{ path: string; entries: { name: string }[] }>(c, 'list_directory', {});
    assert.equal(ls.path, '/');
    assert.ok(ls.entries.some((e) => e.name === 'inside.txt'));
    const w = await ok<{ path: string }>(c, 'write_file', { path: '/new/file.txt', content: 'n\n' });
    assert.equal(w.path, '/new/file.txt');
    const st = await ok<{ path: string; name: string }>(c, 'stat', { path: '/' });
    assert.deepEqual([st.path, st.name], ['/', '/']);
    // Symlinks that stay inside work.
    assert.equal((await ok<{ content: string; path: string }>(c, 'read_file', { path: '/ok-link' })).content, 'inside\n');
    assert.equal((await ok<{ content: string }>(c, 'read_file', { path: '/ok-abs-link' })).content, 'inside\n');
    const au = await ok<{ records: { paths: string[] }[] }>(c, 'audit', {});
    assert.ok(au.records.length > 0);
    for (const r of au.records) for (const p of r.paths) assert.ok(!p.startsWith('/sub') && !p.includes('secret'), `audit path ${p} is shown from the root`);
  });

  it('.. chains, absolute paths and encoded dots stay inside', async () => {
    const c = s.client;
    await fails(c, 'read_file', { path: '../secret.txt' }, 'ENOENT');
    await fails(c, 'read_file', { path: '../../../../secret.txt' }, 'ENOENT');
    await fails(c, 'read_file', { path: '/secret.txt' }, 'ENOENT');
    await fails(c, 'read_file', { path: '/sub/inside.txt' }, 'ENOENT', /^ENOENT: \/sub: /);
    await fails(c, 'read_file', { path: '%2e%2e/secret.txt' }, 'ENOENT');
    await fails(c, 'list_directory', { path: '/../other' }, 'ENOENT');
    const w = await ok<{ path: string }>(c, 'write_file', { path: '../../secret.txt', content: 'overwritten?\n' });
    assert.equal(w.path, '/secret.txt', 'landed at /sub/secret.txt');
    await ok(c, 'move', { source: '/secret.txt', destination: '../../moved-out.txt' });
    await ok(c, 'delete', { path: '/moved-out.txt' });
    await fails(c, 'delete', { path: '/', recursive: true }, 'EBUSY');
    await fails(c, 'move', { source: '/', destination: '/x' }, 'EBUSY');
    await secretIntact();
  });

  it('symlinks inside the root that point out are refused (EACCES), whatever is behind them', async () => {
    const c = s.client;
    for (const path of ['/abs-link', '/rel-link', '/root-link/secret.txt', '/dir-link/private.md', '/sneaky', '/d/up2', '/root-link/no-such-file']) {
      await fails(c, 'read_file', { path }, 'EACCES', /outside/);
    }
    const many = await ok<{ files: { ok: boolean; error?: string; content?: string }[] }>(c, 'read_multiple_files', { paths: ['/abs-link', '/inside.txt'] });
    assert.match(many.files[0].error!, /^EACCES: /);
    assert.equal(many.files[0].content, undefined);
    assert.equal(many.files[1].ok, true);
    await fails(c, 'write_file', { path: '/abs-link', content: 'pwned' }, 'EACCES');
    await fails(c, 'write_file', { path: '/root-link/evil.txt', content: 'pwned' }, 'EACCES');
    await fails(c, 'append_file', { path: '/rel-link', content: 'pwned' }, 'EACCES');
    await fails(c, 'edit_file', { path: '/abs-link', edits: [{ old_text: 'top', new_text: 'pwned' }] }, 'EACCES');
    await fails(c, 'create_directory', { path: '/root-link/newdir' }, 'EACCES');
    await fails(c, 'copy', { source: '/abs-link', destination: '/copied.txt' }, 'EACCES');
    await fails(c, 'copy', { source: '/inside.txt', destination: '/root-link/copied.txt' }, 'EACCES');
    await fails(c, 'move', { source: '/inside.txt', destination: '/dir-link/moved.txt' }, 'EACCES');
    await fails(c, 'delete', { path: '/dir-link/private.md' }, 'EACCES');
    await fails(c, 'list_directory', { path: '/dir-link' }, 'EACCES');
    await fails(c, 'directory_tree', { path: '/root-link' }, 'EACCES');
    await fails(c, 'find', { path: '/root-link' }, 'EACCES');
    await fails(c, 'grep', { pattern: 'secret', path: '/abs-link' }, 'EACCES');
    await fails(c, 'search', { query: 'secret', path: '/dir-link' }, 'EACCES');
    await fails(c, 'stat', { path: '/abs-link', follow_symlinks: true }, 'EACCES');
    await fails(c, 'file_history', { path: '/dir-link/private.md' }, 'EACCES');
    await fails(c, 'restore_version', { path: '/dir-link/private.md', version: 1 }, 'EACCES');
    await fails(c, 'restore_version', { path: '/was-file', version: 1 }, 'EACCES');
    const wf = await ok<{ entries: { removed: boolean; type?: string }[] }>(c, 'file_history', { path: '/was-file' });
    assert.ok(wf.entries.some((e) => e.type === 'file') && wf.entries.some((e) => e.removed), 'its history inside the root is readable');
    await fails(c, 'diff', { path: '/abs-link', other_path: '/inside.txt' }, 'EACCES');
    await fails(c, 'diff', { path: '/abs-link', from_version: 1 }, 'EACCES');
    await ok(c, 'snapshot_save', { name: 'links' });
    await fails(c, 'diff', { path: '/abs-link', from: 'links' }, 'EACCES');
    await fails(c, 'read_file', { path: '/abs-link', at: 'links' }, 'EACCES');
    await fails(c, 'list_directory', { path: '/dir-link', at: 'links' }, 'EACCES');
    // The link itself is inside: it can be described and removed (never what it points to).
    const st = await ok<{ type: string; target: string }>(c, 'stat', { path: '/abs-link' });
    assert.equal(st.type, 'symlink');
    // Walks show links but never follow them.
    const g = await ok<{ matches: unknown[] }>(c, 'grep', { pattern: 'secret', ignore_case: true });
    assert.equal(g.matches.length, 0);
    const sr = await ok<{ hits: unknown[] }>(c, 'search', { query: 'secret' });
    assert.equal(sr.hits.length, 0);
    const tree = await ok<{ entries: { path: string }[] }>(c, 'directory_tree', { max_depth: 10 });
    assert.ok(tree.entries.every((e) => !e.path.includes('private') && !e.path.startsWith('/sub')));
    const f = await ok<{ matches: { path: string }[] }>(c, 'find', { pattern: '*.md' });
    assert.deepEqual(f.matches, []);
    await secretIntact();
  });

  it('resource URIs with .. or encoded tricks stay inside', async () => {
    const c = s.client;
    await assert.rejects(c.readResource({ uri: 'avfs://v/../secret.txt' }), /ENOENT/);
    await assert.rejects(c.readResource({ uri: 'avfs://v/%2e%2e/secret.txt' }), /ENOENT/);
    await assert.rejects(c.readResource({ uri: 'avfs://v/..%2F..%2Fsecret.txt' }), /ENOENT/);
    await assert.rejects(c.readResource({ uri: 'avfs://v/abs-link' }), /EACCES/);
    await assert.rejects(c.readResource({ uri: 'avfs://v/root-link/secret.txt' }), /EACCES/);
    await assert.rejects(c.subscribeResource({ uri: 'avfs://v/dir-link/private.md' }), /EACCES/);
    const read = await c.readResource({ uri: 'avfs://v/inside.txt' });
    assert.equal((read.contents[0] as { text: string }).text, 'inside\n');
    const { resources } = await c.listResources();
    assert.ok(resources.length > 0);
    for (const r of resources) assert.ok(!r.uri.includes('secret') && !r.uri.includes('/sub/') && !r.uri.includes('private'), r.uri);
  });

  it('whole-vault tools are withheld, and history is cut to the root', async () => {
    const c = s.client;
    const { tools } = await c.listTools();
    assert.ok(!tools.some((t) => t.name === 'snapshot_restore'));
    await fails(c, 'snapshot_restore', { name: 'x' }, 'EACCES', /--root/);
    await ok(c, 'snapshot_save', { name: 'rooted' });
    await ok(c, 'write_file', { path: '/after.txt', content: 'a' });
    const d = await ok<{ added: string[]; changed: string[]; removed: string[] }>(c, 'diff', { from: 'rooted' });
    assert.deepEqual(d.added, ['/after.txt']);
    await secretIntact();
  });
});

describe('avfs mcp --root, when the root is swapped for a symlink while serving', () => {
  it('refuses every path rather than follow the new link out', async () => {
    const home = newHome();
    const v = await createVault('v', { home });
    await v.writeFile('/secret.txt', 'secret\n');
    await v.writeFile('/jail/a.txt', 'a\n');
    const s = await startStdio(home, ['--vault', 'v', '--root', '/jail'], 'jailed');
    try {
      assert.equal((await ok<{ content: string }>(s.client, 'read_file', { path: '/a.txt' })).content, 'a\n');
      await v.rename('/jail', '/jail-old');
      await v.symlink('/', '/jail');
      await fails(s.client, 'read_file', { path: '/secret.txt' }, 'EACCES', /replaced/);
      await fails(s.client, 'list_directory', {}, 'EACCES');
      await fails(s.client, 'write_file', { path: '/secret.txt', content: 'pwned' }, 'EACCES');
      assert.equal(await v.readText('/secret.txt'), 'secret\n');
    } finally {
      await s.close();
      await v.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('avfs mcp --read-only', () => {
  let home: string;
  let s: StdioServed;
  before(async () => {
    home = newHome();
    const v = await createVault('v', { home });
    await v.writeFile('/keep.txt', 'keep\n');
    await v.close();
    s = await startStdio(home, ['--vault', 'v', '--read-only'], 'reader');
  });
  after(async () => {
    await s?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('lists only the read tools, and refuses the others with EROFS', async () => {
    const { tools } = await s.client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [...READ_TOOLS].sort());
    assert.ok(tools.every((t) => t.annotations?.readOnlyHint === true));
    for (const name of WRITE_TOOLS) await fails(s.client, name, { path: '/keep.txt', content: 'x', name: 'x' }, 'EROFS', /read-only/);
    assert.equal((await ok<{ content: string }>(s.client, 'read_file', { path: '/keep.txt' })).content, 'keep\n');
    // Memory reads are offered read-only too.
    assert.equal((await ok<{ exists: boolean }>(s.client, 'state_get', {})).exists, false);
    await fails(s.client, 'kv_get', { key: 'nope' }, 'ENOENT');
    const v = await openVault('v', { home });
    try {
      assert.deepEqual(await v.readdir('/'), [{ name: 'keep.txt', type: 'file', ino: (await v.stat('/keep.txt')).ino }]);
      // Nothing changed, but every call that ran is in the log, as the reader: reads only.
      const recs = (await v.audit({ actor: 'reader' })).reverse();
      assert.deepEqual(
        recs.map((r) => [r.op, r.paths, r.outcome]),
        [
          ['mcp.read_file', ['/keep.txt'], undefined],
          ['mcp.state_get', [], undefined],
          ['mcp.kv_get', [], 'ENOENT'],
        ],
      );
    } finally {
      await v.close();
    }
  });
});

describe('four stdio clients at once on one vault', () => {
  let home: string;
  before(async () => {
    home = newHome();
    const v = await createVault('v', { home });
    await v.close();
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  it('every write lands, attributed to the client that made it', async () => {
    const names = ['agent-a', 'agent-b', 'agent-c', 'agent-d'];
    const servers = await Promise.all(names.map((n) => startStdio(home, ['--vault', 'v'], n)));
    try {
      const N = 15;
      await Promise.all(
        servers.map(async (s, i) => {
          for (let k = 0; k < N; k++) {
            await ok(s.client, 'write_file', { path: `/shared/${names[i]}/${k}.txt`, content: `${names[i]} ${k}\n` });
            await ok(s.client, 'append_file', { path: '/shared/log.txt', content: `${names[i]} ${k}\n` });
            await ok(s.client, 'read_file', { path: `/shared/${names[i]}/${k}.txt` });
          }
        }),
      );
      const v = await openVault('v', { home });
      try {
        const log = (await v.readText('/shared/log.txt')).trim().split('\n');
        assert.equal(log.length, names.length * N, 'every append landed');
        for (const n of names) {
          assert.equal((await v.readdir(`/shared/${n}`)).length, N);
          const recs = await v.audit({ actor: n, limit: 1000 });
          assert.equal(recs.filter((r) => r.op === 'write').length, N, `${n}'s writes`);
          assert.equal(recs.filter((r) => r.op === 'append').length, N, `${n}'s appends`);
          assert.ok(recs.filter((r) => r.op === 'write').every((r) => r.paths[0].startsWith(`/shared/${n}/`)), `${n} wrote only its own files`);
          const reads = recs.filter((r) => r.op === 'mcp.read_file');
          assert.equal(reads.length, N, `${n}'s reads, each recorded as its own`);
          assert.ok(reads.every((r) => r.paths[0] === `/shared/${n}/${N - 1 - reads.indexOf(r)}.txt`), `${n}'s reads name the files it read`);
        }
      } finally {
        await v.close();
      }
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  });
});
