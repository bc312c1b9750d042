// The postgres engine's own behaviour, on the test cluster (test/helpers/pg-cluster.ts): vaults
// shared by processes through a URL, NOTIFY waking a watcher in another process, one-line
// errors for bad URLs and unreachable servers, vault delete dropping the schema, read-only
// opens, a writer killed mid-transaction, fork and migrate to and from a server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createVault, deleteVault, openVault } from '../src/index.js';
import { forkVault } from '../src/api/fork.js';
import { migrateVault } from '../src/api/migrate.js';
import { isVfsError } from '../src/errors.js';
import { openEngine } from '../src/storage/engines.js';
import { openPostgres } from '../src/storage/postgres/engine.js';
import { AVFS_BIN, runAvfs } from './helpers/cli.js';
import { pgTest } from './helpers/pg-cluster.js';

const pgInfo = pgTest();
const URL = pgInfo.url ?? '';
const withSchema = (s: string) => `${URL}${URL.includes('?') ? '&' : '?'}schema=${s}`;
const oneLine = (code: string) => (e: unknown) => {
  assert.ok(isVfsError(e), `a VfsError, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.ok(!e.message.includes('\n'), 'one line');
  return true;
};

/** One statement on a connection of its own, outside any engine's pool. */
async function serverQuery(text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: URL });
  await c.connect();
  try {
    return await c.query(text, params);
  } finally {
    await c.end();
  }
}

async function schemaExists(schema: string): Promise<boolean> {
  return (await serverQuery('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;
}

describe('postgres engine', { skip: !pgInfo.url && (pgInfo.reason ?? 'no cluster') }, () => {
  let dir = '';
  let home = '';
  const env = () => ({ AVFS_HOME: home });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'avfs-pg-test-'));
    home = join(dir, 'home');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('postgres: vault create --url registers the URL (never a password); other processes share the vault by name or URL; vault delete drops the schema', async () => {
    const withPw = URL.replace('postgres://postgres@', 'postgres://postgres:s3cret@');
    const made = await runAvfs(['--json', 'vault', 'create', 'team', '--backend', 'postgres', '--url', withPw], { env: env() });
    assert.equal(made.code, 0, made.stderr);
    assert.ok(!made.out.includes('s3cret') && !made.stderr.includes('s3cret'), 'the password is not printed');
    const config = readFileSync(join(home, 'config.toml'), 'utf8');
    assert.ok(!config.includes('s3cret'), 'nor stored');
    assert.match(config, /url = "postgres:\/\/postgres@.*schema=avfs_team"/);
    assert.equal(await schemaExists('avfs_team'), true);
    // Two processes at once, then a third with another home that knows only the URL.
    const [w1, w2] = await Promise.all([
      runAvfs(['--vault', 'team', 'write', '/one.txt', 'from one'], { env: env() }),
      runAvfs(['--vault', 'team', 'write', '/two.txt', 'from two'], { env: env() }),
    ]);
    assert.equal(w1.code, 0, w1.stderr);
    assert.equal(w2.code, 0, w2.stderr);
    const other = await runAvfs(['--vault', withSchema('avfs_team'), 'cat', '/one.txt', '/two.txt'], { env: { AVFS_HOME: join(dir, 'elsewhere') } });
    assert.equal(other.code, 0, other.stderr);
    assert.equal(other.out, 'from onefrom two');
    const check = await runAvfs(['vault', 'check', 'team'], { env: env() });
    assert.equal(check.code, 0, check.stderr + check.out);
    const del = await runAvfs(['vault', 'delete', 'team', '--force'], { env: env() });
    assert.equal(del.code, 0, del.stderr);
    assert.equal(await schemaExists('avfs_team'), false, 'the schema is gone');
    const gone = await runAvfs(['--vault', withSchema('avfs_team'), 'ls', '/'], { env: env() });
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no vault in schema avfs_team/);
  });

  it('postgres: one-line errors for a missing --url, bad URLs, a refused connection and an unknown database', async () => {
    const run = (args: string[]) => runAvfs(args, { env: env() });
    const noUrl = await run(['vault', 'create', 'x', '--backend', 'postgres']);
    assert.equal(noUrl.code, 2);
    assert.equal(noUrl.stderr.trim().split('\n').length, 1, noUrl.stderr);
    for (const [url, want] of [
      ['postgres://[bad', /bad PostgreSQL URL/],
      [withSchema('Not-A-Schema'), /bad PostgreSQL URL/],
      ['postgres://postgres@/postgres?host=/nonexistent/socket/dir', /cannot reach the PostgreSQL server/],
      ['postgres://postgres@127.0.0.1:1/postgres', /connection refused/],
      [URL.replace('/postgres?', '/no_such_db?'), /no such database/],
    ] as const) {
      const r = await run(['vault', 'create', 'x', '--url', url]);
      assert.equal(r.code, 1, `${url}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, want);
    }
    await assert.rejects(openVault('postgres://postgres@127.0.0.1:1/postgres'), oneLine('EBACKEND'));
    await assert.rejects(openEngine('postgres', { path: withSchema('s1'), create: true, settings: { no_such_setting: 1 } }), oneLine('EINVAL'));
    await assert.rejects(openEngine('postgres', { path: withSchema('s1'), create: true, settings: { pool_max: 'lots' } }), oneLine('EINVAL'));
    await assert.rejects(openVault(withSchema('no_vault_here')), oneLine('ENOVAULT'));
  });

  it('postgres: a read-only open reads and refuses writes with EROFS', async () => {
    const url = withSchema('ro_store');
    const rw = await openEngine('postgres', { path: url, create: true });
    await rw.write((tx) => tx.put('meta', Buffer.from('k'), Buffer.from('v')));
    await rw.close();
    const ro = await openEngine('postgres', { path: url, create: false, readOnly: true });
    try {
      assert.equal((await ro.read((tx) => tx.get('meta', Buffer.from('k'))))?.toString(), 'v');
      await assert.rejects(ro.write((tx) => tx.put('meta', Buffer.from('k'), Buffer.from('w'))), oneLine('EROFS'));
    } finally {
      await ro.close();
    }
    await assert.rejects(openEngine('postgres', { path: withSchema('ro_missing'), create: false, readOnly: true }), oneLine('ENOVAULT'));
  });

  it('postgres: the cache of a client never serves a value another client replaced, deleted or created; a snapshot keeps its values; a rolled-back write teaches it nothing', async () => {
    const url = withSchema('cached');
    const a = await openEngine('postgres', { path: url, create: true });
    const b = await openEngine('postgres', { path: url, create: false });
    const k = Buffer.from('k');
    const x = Buffer.from('x');
    const getB = (key: Buffer) => b.read((tx) => tx.get('meta', key)).then((v) => v?.toString());
    try {
      await a.write((tx) => tx.put('meta', k, Buffer.from('v1')));
      assert.equal(await getB(k), 'v1');
      assert.equal(await getB(x), undefined);
      assert.equal(await b.read((tx) => tx.has('meta', x)), false);
      // Replaced, created and deleted by another client: b sees each at once.
      await a.write((tx) => tx.put('meta', k, Buffer.from('v2')));
      assert.equal(await getB(k), 'v2');
      await a.write((tx) => tx.put('meta', x, Buffer.from('new')));
      assert.equal(await b.read((tx) => tx.has('meta', x)), true);
      assert.equal(await getB(x), 'new');
      await a.write((tx) => tx.del('meta', x));
      assert.equal(await getB(x), undefined);
      // Listings and counts too: asked again after another client's change, they show it.
      const listB = () => b.read(async (tx) => [(await tx.range('meta')).map((e) => e.key.toString()).join(','), await tx.count('meta'), (await tx.range('meta', { reverse: true, limit: 1 }))[0]?.key.toString()]);
      assert.deepEqual(await listB(), ['k', 1, 'k']);
      assert.deepEqual(await listB(), ['k', 1, 'k']);
      await a.write((tx) => tx.put('meta', Buffer.from('m'), Buffer.from('1')));
      assert.deepEqual(await listB(), ['k,m', 2, 'm']);
      await b.write(async (tx) => {
        assert.equal((await tx.range('meta')).length, 2);
        await tx.del('meta', Buffer.from('m'));
        assert.equal((await tx.range('meta')).length, 1, 'a write sees its own changes in a listing');
        assert.equal(await tx.count('meta'), 1);
      });
      assert.deepEqual(await listB(), ['k', 1, 'k']);
      assert.equal((await a.read((tx) => tx.range('meta'))).length, 1);
      // A read that began before a change keeps its snapshot, cached or not; the next one sees it.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let began!: () => void;
      const started = new Promise<void>((r) => (began = r));
      const long = b.read(async (tx) => {
        const first = (await tx.get('meta', k))?.toString();
        began();
        await held;
        return [first, (await tx.get('meta', k))?.toString(), await tx.has('meta', x)];
      });
      await started;
      await a.write(async (tx) => {
        await tx.put('meta', k, Buffer.from('v3'));
        await tx.put('meta', x, Buffer.from('again'));
      });
      assert.equal(await getB(k), 'v3', 'a read that began after the commit');
      release();
      assert.deepEqual(await long, ['v2', 'v2', false], 'the long read kept its snapshot');
      assert.equal(await getB(k), 'v3');
      // b's own commit teaches its cache; a write of b that throws is rolled back and forgotten.
      await b.write((tx) => tx.put('meta', k, Buffer.from('v4')));
      assert.equal(await getB(k), 'v4');
      assert.equal((await a.read((tx) => tx.get('meta', k)))?.toString(), 'v4');
      await assert.rejects(
        b.write(async (tx) => {
          await tx.put('meta', k, Buffer.from('lost'));
          await tx.range('meta'); // sends the change to the server inside the transaction
          assert.equal((await tx.get('meta', k))?.toString(), 'lost');
          throw new Error('changed my mind');
        }),
        /changed my mind/,
      );
      assert.equal(await getB(k), 'v4');
      assert.equal((await a.read((tx) => tx.get('meta', k)))?.toString(), 'v4');
      // A change sent mid-transaction (range() flushes) then changed again: the last value wins everywhere.
      await b.write(async (tx) => {
        await tx.put('meta', k, Buffer.from('mid'));
        assert.equal((await tx.range('meta', { prefix: k })).length, 1);
        await tx.put('meta', k, Buffer.from('end'));
        assert.equal((await tx.get('meta', k))?.toString(), 'end');
      });
      assert.equal(await getB(k), 'end');
      assert.equal((await a.read((tx) => tx.get('meta', k)))?.toString(), 'end');
    } finally {
      await a.close();
      await b.close();
    }
    // With the cache off (cache_mb = 0) the same holds.
    const c = await openEngine('postgres', { path: url, create: false, settings: { cache_mb: 0 } });
    const d = await openEngine('postgres', { path: url, create: false });
    try {
      assert.equal((await c.read((tx) => tx.get('meta', k)))?.toString(), 'end');
      await d.write((tx) => tx.put('meta', k, Buffer.from('last')));
      assert.equal((await c.read((tx) => tx.get('meta', k)))?.toString(), 'last');
    } finally {
      await c.close();
      await d.close();
    }
    await assert.rejects(openEngine('postgres', { path: url, create: false, settings: { cache_mb: -1 } }), oneLine('EINVAL'));
  });

  it('postgres: a format 1 store (no stamp) opens read-only as it is, and a writable open makes it format 2; an unknown format is EVERSION', async () => {
    const url = withSchema('old_format');
    const e = await openEngine('postgres', { path: url, create: true });
    await e.write((tx) => tx.put('meta', Buffer.from('k'), Buffer.from('v')));
    await e.close();
    const c = new pg.Client({ connectionString: URL });
    await c.connect();
    const format = async () => (await c.query(`SELECT name, value FROM old_format.avfs_store WHERE name IN ('format', 'stamp') ORDER BY name`)).rows.map((r: { name: string; value: string }) => `${r.name}=${r.name === 'stamp' ? r.value.replace(/:.*/, '') : r.value}`);
    try {
      assert.deepEqual(await format(), ['format=2', 'stamp=2'], 'created at 1, one write made it 2');
      await c.query(`UPDATE old_format.avfs_store SET value = '1' WHERE name = 'format'; DELETE FROM old_format.avfs_store WHERE name = 'stamp'`);
      const ro = await openEngine('postgres', { path: url, create: false, readOnly: true });
      try {
        assert.equal((await ro.read((tx) => tx.get('meta', Buffer.from('k'))))?.toString(), 'v');
        assert.equal((await ro.read((tx) => tx.get('meta', Buffer.from('k'))))?.toString(), 'v');
      } finally {
        await ro.close();
      }
      assert.deepEqual(await format(), ['format=1']);
      const rw = await openEngine('postgres', { path: url, create: false });
      try {
        assert.deepEqual(await format(), ['format=2', 'stamp=1']);
        await rw.write((tx) => tx.put('meta', Buffer.from('k'), Buffer.from('w')));
        assert.deepEqual(await format(), ['format=2', 'stamp=2']);
      } finally {
        await rw.close();
      }
      await c.query(`UPDATE old_format.avfs_store SET value = '3' WHERE name = 'format'`);
      await assert.rejects(openEngine('postgres', { path: url, create: false }), oneLine('EVERSION'));
    } finally {
      await c.end();
    }
  });

  it('postgres: a state set by another process wakes a watcher through NOTIFY (no polling)', async () => {
    const url = withSchema('watched');
    const v = await createVault(url, { home });
    const ac = new AbortController();
    const seen: unknown[] = [];
    try {
      // A poll interval far beyond the test's patience: only a notification can wake it in time.
      const watching = (async () => {
        for await (const s of v.stateWatch({ signal: ac.signal, pollMs: 600_000 })) {
          seen.push(s.value);
          if (seen.length === 2) return;
        }
      })();
      await v.stateSet({ n: 1 });
      await new Promise((r) => setTimeout(r, 300));
      const set = await runAvfs(['--vault', url, 'state', 'set', '{"n":2}'], { env: env() });
      assert.equal(set.code, 0, set.stderr);
      const t0 = Date.now();
      const timer = setTimeout(() => ac.abort(), 10_000);
      await watching;
      clearTimeout(timer);
      assert.deepEqual(seen.slice(-1), [{ n: 2 }], `woken in ${Date.now() - t0} ms`);
      assert.ok(Date.now() - t0 < 10_000);
    } finally {
      ac.abort();
      await v.close();
    }
    // The watcher's LISTEN connection went with it (a leaked one would keep a server slot).
    let listening = -1;
    for (let i = 0; i < 100 && listening !== 0; i++) {
      listening = Number((await serverQuery('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [`avfs-listen-${process.pid}`])).rows[0].n);
      if (listening !== 0) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(listening, 0, 'no LISTEN connection left');
  });

  it('postgres: a watcher in another process is woken by a write here, and exits when stopped', async () => {
    const url = withSchema('watched2');
    const v = await createVault(url, { home });
    try {
      const child = spawn(process.execPath, [AVFS_BIN, '--vault', url, 'state', 'watch', '--count', '2'], { env: { ...process.env, AVFS_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const exited = new Promise<number | null>((r) => child.on('close', r));
      await v.stateSet({ step: 1 });
      // Once the watcher printed the first state it is listening; then the second must reach it.
      for (let i = 0; i < 200 && !out.includes('step'); i++) await new Promise((r) => setTimeout(r, 25));
      await v.stateSet({ step: 2 });
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(kill);
      assert.equal(code, 0, err);
      assert.deepEqual(out.trim().split('\n').map((l) => JSON.parse(l) as unknown).slice(-1), [{ step: 2 }]);
    } finally {
      await v.close();
    }
  });

  it('postgres: a writer killed mid-transaction leaves all or nothing, and the next writer goes on', async () => {
    const url = withSchema('killed');
    const v = await createVault(url, { home });
    await v.writeFile('/before.txt', 'kept');
    await v.close();
    const script = join(dir, 'stuck.mjs');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      script,
      `import { openVault } from ${JSON.stringify(new globalThis.URL('../src/index.js', import.meta.url).href)};
const v = await openVault(process.argv[2]);
setInterval(() => {}, 1000);
await v.engine.write(async (tx) => {
  for (let i = 0; i < 50; i++) await tx.put('meta', Buffer.from('ghost' + i), Buffer.from('boo'));
  await tx.range('meta', { limit: 1 });
  console.log('inside');
  await new Promise(() => {});
});
`,
    );
    const child = spawn(process.execPath, [script, url], { env: { ...process.env, AVFS_HOME: home }, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => String(d).includes('inside') && resolve());
      child.on('close', () => reject(new Error('exited before writing')));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    const again = await openVault(url, { home });
    try {
      await again.writeFile('/after.txt', 'next writer');
      assert.equal(await again.readText('/before.txt'), 'kept');
      assert.equal(await again.engine.read((tx) => tx.count('meta', { prefix: Buffer.from('ghost') })), 0, 'nothing of the killed transaction');
      assert.ok((await again.check()).ok);
    } finally {
      await again.close();
    }
  });

  it('postgres: a read does not wait for its COMMIT; whatever takes the connection next settles it first (a read, a write, another vault made, compact, stats), and no connection stays idle in a transaction', async () => {
    const a = await openEngine('postgres', { path: withSchema('owed_a'), create: true });
    const k = Buffer.from('k');
    const readK = () => a.read((tx) => tx.get('meta', k)).then((v) => v?.toString());
    // Only this test's sessions: other test files share the cluster.
    const idleInTx = async () =>
      ((await serverQuery(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'idle in transaction' AND query LIKE '%"owed_a".%'`)).rows[0] as { n: number }).n;
    try {
      await a.write((tx) => tx.put('meta', k, Buffer.from('v1')));
      // Back to back on the one pooled connection (the pool hands out the last one returned).
      assert.equal(await readK(), 'v1');
      assert.equal(await readK(), 'v1');
      await a.write((tx) => tx.put('meta', k, Buffer.from('v2')));
      assert.equal(await readK(), 'v2');
      // Another vault created on the same server right after a read: its CREATE SCHEMA must not
      // run inside the read-only transaction (openPostgres itself: openEngine's import of the
      // module may let the event loop turn, and the connection settle on its own).
      const b = await openPostgres({ path: withSchema('owed_b'), create: true });
      await b.write((tx) => tx.put('meta', k, Buffer.from('b')));
      assert.equal(await b.read((tx) => tx.get('meta', k)).then((v) => v?.toString()), 'b');
      await b.close();
      // VACUUM cannot run inside a transaction block, and stats reads a snapshot of its own.
      assert.equal(await readK(), 'v2');
      await a.compact();
      assert.equal(await readK(), 'v2');
      assert.equal((await a.stats()).entries.meta, 1);
      // A failing read rolls back as before, and the next read is unharmed.
      await assert.rejects(a.read(async (tx) => {
        await tx.get('meta', k);
        throw new Error('caller failed');
      }), /caller failed/);
      assert.equal(await readK(), 'v2');
      // Left alone, the connection commits on its own once the event loop turns.
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(await idleInTx(), 0, 'no connection left idle in a transaction');
    } finally {
      await a.close();
    }
  });

  it('postgres: fork to a name stays on the server; fork to a path and migrate move between postgres and sqlite', async () => {
    const h = join(dir, 'forks');
    const v = await createVault('src', { home: h, url: URL });
    try {
      await v.writeFile('/a.txt', 'alpha');
      await v.saveSnapshot('s');
      await v.writeFile('/b.txt', 'beta');
      const named = await forkVault(v, 'fk', { at: 's', home: h });
      assert.equal(named.backend, 'postgres');
      assert.match(named.path, /schema=avfs_fk/);
      const local = await forkVault(v, join(dir, 'fk.avfs'), { home: h });
      assert.equal(local.backend, 'sqlite');
      const f1 = await openVault('fk', { home: h });
      const f2 = await openVault(join(dir, 'fk.avfs'), { home: h });
      try {
        assert.deepEqual((await f1.readdir('/')).map((e) => e.name).sort(), ['a.txt']);
        assert.deepEqual((await f2.readdir('/')).map((e) => e.name).sort(), ['a.txt', 'b.txt']);
      } finally {
        await f1.close();
        await f2.close();
      }
      await assert.rejects(forkVault(v, join(dir, 'x.avfs'), { home: h, backend: 'postgres' }), oneLine('EUSAGE'));
      const m = await migrateVault(join(dir, 'fk.avfs'), { to: 'postgres', url: URL, name: 'moved', home: h });
      assert.equal(m.backend, 'postgres');
      const mv = await openVault('moved', { home: h });
      try {
        assert.equal(await mv.readText('/b.txt'), 'beta');
      } finally {
        await mv.close();
      }
      const back = await migrateVault('moved', { to: 'sqlite', name: 'back', home: h });
      assert.equal(back.backend, 'sqlite');
      await assert.rejects(migrateVault('moved', { to: 'postgres', home: h }), oneLine('EUSAGE'));
      await assert.rejects(migrateVault('back', { to: 'postgres', url: URL, name: 'moved', home: h }), oneLine('EEXIST'));
      await deleteVault('moved', { home: h });
      assert.equal(await schemaExists('avfs_moved'), false);
    } finally {
      await v.close();
    }
  });
});
