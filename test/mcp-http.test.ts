// End-to-end tests of `avfs mcp --http`: the real executable in a child process on a free port
// of 127.0.0.1 (it says which on stderr), driven by the SDK's Client over streamable HTTP.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { createVault, openVault } from '../src/index.js';
import { startHttp, httpClient, ok, fails, call, textOf, type HttpServed } from './helpers/mcp.js';
import { runAvfs } from './helpers/cli.js';

/** A raw HTTP request, to look at what the SDK client would never send. */
function raw(url: URL, opts: { method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'POST', headers: opts.headers ?? {} }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(opts.body ?? '');
  });
}

describe('avfs mcp --http', () => {
  let home: string;
  let srv: HttpServed;
  const clients: Client[] = [];

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'avfs-mcp-http-'));
    const v = await createVault('v', { home });
    await v.close();
    srv = await startHttp(home, ['--vault', 'v']);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    const code = await srv?.stop();
    assert.equal(code, 0, `a clean exit on SIGTERM: ${srv?.stderr()}`);
    rmSync(home, { recursive: true, force: true });
  });

  const connect = async (name: string): Promise<Client> => {
    const c = await httpClient(srv.url, name);
    clients.push(c);
    return c;
  };

  it('binds to 127.0.0.1 and says where on stderr', () => {
    assert.equal(srv.url.hostname, '127.0.0.1');
    assert.ok(Number(srv.url.port) > 0);
    assert.equal(srv.url.pathname, '/mcp');
  });

  it('tools over HTTP: schemas, annotations, structured results', async () => {
    const c = await connect('http-agent');
    const { tools } = await c.listTools();
    assert.equal(tools.length, 44, 'the 22 file tools, the 4 tag and metadata tools and the 18 memory tools');
    const w = tools.find((t) => t.name === 'write_file')!;
    assert.equal(w.annotations?.readOnlyHint, false);
    assert.equal(w.annotations?.destructiveHint, true);
    const st = await ok<{ path: string; version: number }>(c, 'write_file', { path: '/web/page.md', content: 'hello over http\n' });
    assert.deepEqual([st.path, st.version], ['/web/page.md', 1]);
    assert.equal((await ok<{ content: string }>(c, 'read_file', { path: '/web/page.md' })).content, 'hello over http\n');
    const g = await ok<{ matches: { path: string; line: number }[] }>(c, 'grep', { pattern: 'over' });
    assert.deepEqual(g.matches.map((m) => [m.path, m.line]), [['/web/page.md', 1]]);
    await fails(c, 'read_file', { path: '/web/nothing' }, 'ENOENT');
    await fails(c, 'read_file', { path: 7 }, 'EINVAL');
    const au = await ok<{ records: { actor: string; op: string; outcome?: string }[] }>(c, 'audit', { limit: 4 });
    // Newest first: the refused read, the reads, the write; all this client's. (The call with a
    // path of the wrong type never reached a tool, so it is not a call the log can name.)
    assert.deepEqual(
      au.records.map((r) => [r.actor, r.op, r.outcome]),
      [
        ['http-agent', 'mcp.read_file', 'ENOENT'],
        ['http-agent', 'mcp.grep', undefined],
        ['http-agent', 'mcp.read_file', undefined],
        ['http-agent', 'write', undefined],
      ],
    );
  });

  it('four clients at once: every write lands, each attributed to its own client', async () => {
    const names = ['alpha', 'beta', 'gamma', 'delta'];
    const cs = await Promise.all(names.map(connect));
    const N = 20;
    await Promise.all(
      cs.map(async (c, i) => {
        await Promise.all(
          Array.from({ length: N }, async (_, k) => {
            await ok(c, 'write_file', { path: `/team/${names[i]}/${k}.txt`, content: `${names[i]}-${k}` });
          }),
        );
        for (let k = 0; k < 5; k++) await ok(c, 'append_file', { path: '/team/shared.log', content: `${names[i]} ${k}\n` });
      }),
    );
    const v = await openVault('v', { home });
    try {
      assert.equal((await v.readText('/team/shared.log')).trim().split('\n').length, names.length * 5);
      for (const n of names) {
        assert.equal((await v.readdir(`/team/${n}`)).length, N);
        const recs = await v.audit({ actor: n, limit: 1000 });
        const writes = recs.filter((r) => r.op === 'write');
        assert.equal(writes.length, N, `${n}'s writes`);
        assert.ok(writes.every((r) => r.paths[0].startsWith(`/team/${n}/`)), `${n} is named only for its own writes`);
        assert.equal(recs.filter((r) => r.op === 'append').length, 5);
      }
    } finally {
      await v.close();
    }
  });

  it('a 100 MiB argument and a catastrophic regex get tool errors; the server goes on', async () => {
    const c = await connect('hostile');
    await fails(c, 'write_file', { path: '/huge', content: 'z'.repeat(100 * 1024 * 1024) }, 'EFBIG');
    await ok(c, 'write_file', { path: '/redos.txt', content: 'a'.repeat(50_000) + '!\n' });
    const t0 = Date.now();
    const r = await call(c, 'grep', { pattern: '(a+)+$', path: '/redos.txt' });
    assert.ok(Date.now() - t0 < 1000, `within a second (${Date.now() - t0} ms)`);
    if (r.isError) assert.match(textOf(r), /^EINVAL: grep: /);
    assert.equal((await ok<{ content: string }>(c, 'read_file', { path: '/web/page.md' })).content, 'hello over http\n');
  });

  it('resource updates reach a subscribed HTTP client, also for changes by another process', async () => {
    const c = await connect('watcher');
    const updates: string[] = [];
    c.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updates.push(n.params.uri);
    });
    await c.subscribeResource({ uri: 'avfs://v/web/page.md' });
    const r = await runAvfs(['--vault', 'v', 'write', '/web/page.md', 'changed by the cli\n'], { env: { AVFS_HOME: home } });
    assert.equal(r.code, 0, r.stderr);
    const end = Date.now() + 5000;
    while (updates.length === 0 && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(updates.slice(0, 1), ['avfs://v/web/page.md']);
  });

  it('refuses requests a browser page could forge (Host check), unknown sessions and other paths', async () => {
    const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const evil = await raw(srv.url, { headers: { ...headers, host: 'evil.example:80' }, body: init });
    assert.equal(evil.status, 403, evil.body);
    const stale = await raw(srv.url, { headers: { ...headers, 'mcp-session-id': 'no-such-session' }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
    assert.equal(stale.status, 404);
    const noInit = await raw(srv.url, { headers, body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }) });
    assert.equal(noInit.status, 400);
    const garbage = await raw(srv.url, { headers, body: '{not json' });
    assert.equal(garbage.status, 400);
    assert.match(garbage.body, /-32700/);
    const other = await raw(new URL('/elsewhere', srv.url), { method: 'GET' });
    assert.equal(other.status, 404);
    // Still serving.
    const c = await connect('after');
    assert.ok((await c.listTools()).tools.length > 0);
  });
});

describe('avfs mcp --http --read-only --root', () => {
  it('offers only read tools, confined to the root', async () => {
    const home = mkdtempSync(join(tmpdir(), 'avfs-mcp-http-'));
    const v = await createVault('v', { home });
    await v.writeFile('/outside.txt', 'secret\n');
    await v.writeFile('/pub/readme.md', 'public\n');
    await v.symlink('/outside.txt', '/pub/leak');
    await v.close();
    const srv = await startHttp(home, ['--vault', 'v', '--read-only', '--root', '/pub']);
    const c = await httpClient(srv.url, 'reader');
    try {
      const { tools } = await c.listTools();
      assert.ok(tools.every((t) => t.annotations?.readOnlyHint === true));
      assert.ok(!tools.some((t) => t.name === 'write_file'));
      await fails(c, 'write_file', { path: '/x', content: 'x' }, 'EROFS');
      assert.equal((await ok<{ content: string }>(c, 'read_file', { path: '/readme.md' })).content, 'public\n');
      await fails(c, 'read_file', { path: '/leak' }, 'EACCES');
      await fails(c, 'read_file', { path: '../outside.txt' }, 'ENOENT');
    } finally {
      await c.close();
      assert.equal(await srv.stop(), 0);
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('--host without --http is a usage error, and a bad --root a clear one', async () => {
    const home = mkdtempSync(join(tmpdir(), 'avfs-mcp-http-'));
    try {
      const a = await runAvfs(['mcp', '--host', '0.0.0.0'], { env: { AVFS_HOME: home } });
      assert.equal(a.code, 2);
      assert.match(a.stderr, /^avfs: mcp: --host needs --http PORT\n$/);
      const v = await createVault('v', { home });
      await v.writeFile('/file', 'x');
      await v.close();
      const b = await runAvfs(['--vault', 'v', 'mcp', '--root', '/file'], { env: { AVFS_HOME: home } });
      assert.equal(b.code, 1);
      assert.match(b.stderr, /^avfs: \/file: not a directory \(--root\)\n$/);
      const c = await runAvfs(['--vault', 'v', 'mcp', '--read-only', '--root', '/missing'], { env: { AVFS_HOME: home } });
      assert.equal(c.code, 1);
      assert.match(c.stderr, /no such folder \(--root\)/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
