// Vaults: registry, backend detection, and refusing what is not a vault we can read.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, statSync, truncateSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createVault, openVault, listVaults, useVault, registerVault, deleteVault } from '../src/index.js';
import { openEngine } from '../src/storage/engines.js';
import { META_VAULT, encodeJson, decodeJson, type VaultRecord } from '../src/core/records.js';
import { code } from './helpers/errors.js';
import { ROCKS_SKIP } from './helpers/vaults.js';

describe('vaults', () => {
  let dir: string;
  let home: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'avfs-vault-'));
    home = join(dir, 'home');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the default vault on first use, on sqlite', async () => {
    const v = await openVault(undefined, { home });
    assert.equal(v.name, 'default');
    assert.equal(v.backend, 'sqlite');
    assert.ok(v.path.endsWith(join('vaults', 'default.avfs')));
    await v.writeFile('/hello', 'world');
    await v.close();
    const again = await openVault(undefined, { home });
    assert.equal(await again.readText('/hello'), 'world');
    await again.close();
  });

  it('registers, lists, switches and deletes named vaults on each backend', async () => {
    for (const backend of ['sqlite', 'lmdb', 'log', ...(ROCKS_SKIP ? [] : ['rocksdb']), 'memory']) {
      const v = await createVault(`v-${backend}`, { home, backend });
      assert.equal(v.backend, backend);
      await v.close();
    }
    assert.equal(await code(createVault('v-sqlite', { home })), 'EEXIST');
    const names = listVaults({ home }).map((l) => `${l.name}:${l.backend}${l.current ? '*' : ''}`);
    assert.deepEqual(names, ['default:sqlite*', 'v-lmdb:lmdb', 'v-log:log', 'v-memory:memory', ...(ROCKS_SKIP ? [] : ['v-rocksdb:rocksdb']), 'v-sqlite:sqlite']);
    assert.ok(listVaults({ home }).find((l) => l.name === 'v-log')!.path.endsWith('/v-log.log'), 'a log vault is a NAME.log folder');
    if (!ROCKS_SKIP) assert.ok(listVaults({ home }).find((l) => l.name === 'v-rocksdb')!.path.endsWith('/v-rocksdb.rocksdb'), 'a rocksdb vault is a NAME.rocksdb folder');
    useVault('v-lmdb', { home });
    const cur = await openVault(undefined, { home });
    assert.equal(cur.backend, 'lmdb', 'backend detected from the registry');
    await cur.close();
    assert.equal(await code(Promise.resolve().then(() => useVault('nope', { home }))), 'ENOVAULT');
    const { path } = await deleteVault('v-lmdb', { home });
    assert.equal(existsSync(path), false);
    assert.equal(listVaults({ home }).find((l) => l.current)?.name, 'default', 'deleting the current vault falls back to default');
    // vault import: register an existing store under a new name, backend detected.
    const p = join(dir, 'loose.avfs');
    await (await createVault(p, { backend: 'sqlite', home })).close();
    await registerVault('loose', p, { home });
    const l = await openVault('loose', { home });
    assert.equal(l.path, p);
    await l.close();
    assert.equal(await code(registerVault('garbage', join(dir, 'nothing-here.avfs'), { home })), 'ENOVAULT');
  });

  it('detects the backend of a vault opened by path', async () => {
    for (const [backend, file] of [['sqlite', 'd.avfs'], ['lmdb', 'd.lmdb'], ['log', 'd.log'], ...(ROCKS_SKIP ? [] : ([['rocksdb', 'd.rocksdb']] as const))] as const) {
      const p = join(dir, file);
      await (await createVault(p, { backend, home })).close();
      const v = await openVault(p, { home });
      assert.equal(v.backend, backend);
      await v.close();
    }
  });

  it('refuses bad names, unknown backends, and missing vaults', async () => {
    assert.equal(await code(createVault('bad name', { home })), 'EINVAL');
    assert.equal(await code(createVault('-x', { home })), 'EINVAL');
    assert.equal(await code(createVault('x', { home, backend: 'oracle' })), 'EBACKEND');
    assert.equal(await code(openVault('never-made', { home })), 'ENOVAULT');
    assert.equal(await code(openVault(join(dir, 'no-such.avfs'), { home })), 'ENOVAULT');
    assert.equal(existsSync(join(dir, 'no-such.avfs')), false, 'opening does not create');
  });

  it('refuses a vault given as something other than a string (JavaScript callers) with one EINVAL line, creating and registering nothing', async () => {
    const before = listVaults({ home }).map((v) => v.name).sort();
    const bad = [{ path: join(dir, 'obj.avfs') }, 42, null, '', '   ', ['x'], Buffer.from('x')] as unknown as string[];
    const oneLine = async (p: Promise<unknown>, what: string) => {
      const e = await p.then(() => undefined, (x: unknown) => x as { code?: string; message?: string });
      assert.equal(e?.code, 'EINVAL', `${what}: ${e?.message}`);
      assert.ok(!String(e?.message).includes('\n'), 'one line');
    };
    for (const ref of bad) {
      const what = JSON.stringify(ref);
      await oneLine(createVault(ref, { home }), `createVault(${what})`);
      await oneLine(openVault(ref, { home }), `openVault(${what})`);
      await oneLine(deleteVault(ref, { home }), `deleteVault(${what})`);
      await oneLine(registerVault(ref, join(dir, 'd.avfs'), { home }), `registerVault(${what}, path)`);
      await oneLine(registerVault('fine', ref, { home }), `registerVault(name, ${what})`);
      await oneLine(Promise.resolve().then(() => useVault(ref, { home })), `useVault(${what})`);
    }
    assert.deepEqual(listVaults({ home }).map((v) => v.name).sort(), before, 'nothing registered');
    assert.equal(existsSync(join(dir, 'obj.avfs')), false, 'nothing created');
  });

  it('refuses files and folders that are not vaults, without touching them', async () => {
    const text = join(dir, 'text.avfs');
    writeFileSync(text, 'just some text, not a database\n');
    assert.equal(await code(openVault(text, { home })), 'ENOTVAULT');
    assert.equal(readFileSync(text, 'utf8'), 'just some text, not a database\n');
    const empty = join(dir, 'empty.avfs');
    writeFileSync(empty, '');
    assert.equal(await code(openVault(empty, { home })), 'ENOTVAULT');
    const folder = join(dir, 'folder.lmdb');
    mkdirSync(folder);
    assert.equal(await code(openVault(folder, { home })), 'ENOTVAULT');
    const noise = join(dir, 'noise.avfs');
    const bytes = Buffer.concat([Buffer.from('SQLite format 3\0'), randomBytes(8192)]);
    writeFileSync(noise, bytes);
    assert.match(await code(openVault(noise, { home })), /^(ENOTVAULT|ECORRUPT)$/);
    assert.ok(readFileSync(noise).equals(bytes), 'a damaged file is left as it was');
  });

  it('refuses a truncated vault with a clear error', async () => {
    const p = join(dir, 'trunc.avfs');
    const v = await createVault(p, { backend: 'sqlite', home });
    for (let i = 0; i < 200; i++) await v.writeFile(`/f${i}`, randomBytes(3000));
    await v.close();
    truncateSync(p, Math.floor(statSync(p).size / 3));
    // It may fail at open or at the first read of a lost page; either way one clear line.
    const result = await code(
      (async () => {
        const t = await openVault(p, { home });
        try {
          const c = await t.check();
          if (!c.ok) throw Object.assign(new Error(c.problems[0]), { code: 'ECORRUPT' });
          for (let i = 0; i < 200; i++) await t.readFile(`/f${i}`);
        } finally {
          await t.close();
        }
      })(),
    );
    assert.equal(result, 'ECORRUPT');
  });

  it('refuses a vault of an unknown format version', async () => {
    for (const [backend, file] of [['sqlite', 'future.avfs'], ['lmdb', 'future.lmdb'], ...(ROCKS_SKIP ? [] : ([['rocksdb', 'future.rocksdb']] as const))] as const) {
      const p = join(dir, file);
      await (await createVault(p, { backend, home })).close();
      const engine = await openEngine(backend, { path: p, create: false });
      await engine.write(async (tx) => {
        const rec = decodeJson<VaultRecord>((await tx.get('meta', META_VAULT))!);
        await tx.put('meta', META_VAULT, encodeJson({ ...rec, format: 99 }));
      });
      await engine.close();
      assert.equal(await code(openVault(p, { home })), 'EVERSION');
    }
  });
});
