// vault.fs, the node:fs/promises facade, as a differential test: every script in
// helpers/fs-promises-scripts.ts runs on a host temp folder through node:fs/promises (the oracle)
// and on vault.fs on each engine, and the observations (values, and errors with code, errno,
// syscall, path, dest and message) must be equal. Then what only a vault has: a FileHandle's
// writes become one version per close, errors are VfsErrors too, the facade is one bound object.
//
// FSP_ONLY=TEXT runs only the scripts whose name contains TEXT.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs/promises';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINES, freshVaults, vaultFactory } from './helpers/vaults.js';
import { SCRIPTS, errorOf, type Fs, type Script } from './helpers/fs-promises-scripts.js';
import { isVfsError, type Vault } from '../src/index.js';

// Creation modes depend on the umask; the facade applies 0o022, so the host must too.
process.umask(0o022);

const only = process.env.FSP_ONLY;
const scripts = SCRIPTS.filter((s) => only === undefined || s.name.includes(only));

/** Through JSON (as it would be printed), with the script's folder named '<root>'. */
function normalise(obs: unknown, root: string): unknown {
  const json = JSON.stringify(obs ?? null, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  return JSON.parse(json.split(root).join('<root>'));
}

async function observe(fs: Fs, root: string, s: Script): Promise<unknown> {
  try {
    return normalise(await s.run(fs, root), root);
  } catch (e) {
    // The script itself broke: which call did is the first question.
    return normalise({ threw: errorOf(e) }, root);
  }
}

const expected = new Map<string, unknown>();
let hostDir = '';

before(async () => {
  hostDir = mkdtempSync(join(tmpdir(), 'avfs-fsp-host-'));
  for (const [i, s] of scripts.entries()) {
    const root = join(hostDir, `s${i}`);
    mkdirSync(root);
    expected.set(s.name, await observe(nodeFs, root, s));
  }
});

after(() => rmSync(hostDir, { recursive: true, force: true }));

test('the oracle: no script breaks on the host', () => {
  for (const s of scripts) assert.ok(!JSON.stringify(expected.get(s.name)).startsWith('{"threw"'), `${s.name}: ${JSON.stringify(expected.get(s.name))}`);
  assert.ok(only !== undefined || scripts.length >= 60, `${scripts.length} scripts`);
});

for (const kind of ENGINES) {
  describe(`vault.fs matches node:fs/promises (${kind})`, () => {
    const vaults = freshVaults(vaultFactory(kind), 'avfs-fsp');
    let v: Vault;
    before(async () => {
      v = await vaults.fresh();
    });
    for (const [i, s] of scripts.entries()) {
      test(s.name, async () => {
        // The host's folder name, so that paths have the same length on both sides (ENAMETOOLONG).
        const root = join(hostDir, `s${i}`);
        await v.fs.mkdir(root, { recursive: true });
        const got = await observe(v.fs as unknown as Fs, root, s);
        assert.deepEqual(got, expected.get(s.name));
      });
    }
    test('the vault is sound after all the scripts', async () => {
      assert.deepEqual((await v.check()).problems, []);
    });
  });

  describe(`vault.fs beyond node:fs (${kind})`, () => {
    const vaults = freshVaults(vaultFactory(kind), 'avfs-fsp-own');

    test('a FileHandle with 1,000 small writes makes one version, at close', async () => {
      const v = await vaults.fresh();
      await v.writeFile('/log.txt', 'header\n');
      const before = (await v.history('/log.txt')).length;
      const h = await v.fs.open('/log.txt', 'a');
      for (let i = 0; i < 1000; i++) await h.write(`line ${i}\n`);
      assert.equal((await v.history('/log.txt')).length, before, 'nothing committed before close');
      assert.equal(await v.readText('/log.txt'), 'header\n', 'the vault API sees committed content only');
      assert.ok((await v.fs.readFile('/log.txt', 'utf8')).endsWith('line 999\n'), 'vault.fs sees the handle’s bytes');
      await h.close();
      assert.equal((await v.history('/log.txt')).length, before + 1);
      const text = await v.readText('/log.txt');
      assert.equal(text.split('\n').length, 1002);
      assert.equal((await v.stat('/log.txt')).version, 2);
    });

    test('sync and datasync commit what is held; a handle that wrote nothing makes no version', async () => {
      const v = await vaults.fresh();
      const h = await v.fs.open('/f', 'w');
      await h.write('one');
      await h.sync();
      assert.equal(await v.readText('/f'), 'one');
      await h.write('two');
      await h.datasync();
      assert.equal(await v.readText('/f'), 'onetwo');
      const versions = (await v.history('/f')).length;
      await h.close();
      const r = await v.fs.open('/f', 'r+');
      await r.read();
      await r.close();
      assert.equal((await v.history('/f')).length, versions);
    });

    test('vault.close() keeps what handles still open hold', async () => {
      const v = await vaults.fresh();
      const h = await v.fs.open('/kept', 'w');
      await h.write('never closed');
      await v.close();
      if (kind === 'memory') return;
      const again = await vaults.reopen();
      assert.equal(await again.readText('/kept'), 'never closed');
    });

    test('writeFile by path while a handle holds bytes: the handle’s bytes land first, then the write', async () => {
      const v = await vaults.fresh();
      const h = await v.fs.open('/f', 'w');
      await h.write('held');
      await v.fs.appendFile('/f', '+appended');
      assert.equal(await v.readText('/f'), 'held+appended');
      await h.close();
      assert.equal(await v.readText('/f'), 'held+appended');
      const writes = (await v.history('/f')).length;
      assert.ok(writes >= 2);
    });

    test('errors have Node’s shape and are VfsErrors too; argument errors are not', async () => {
      const v = await vaults.fresh();
      const e = await v.fs.readFile('/nope/x').catch((x: unknown) => x);
      assert.ok(e instanceof Error);
      assert.ok(isVfsError(e, 'ENOENT'));
      assert.deepEqual({ ...(e as object) }, { code: 'ENOENT', path: '/nope/x', errno: -2, syscall: 'open' });
      assert.equal((e as Error).message, "ENOENT: no such file or directory, open '/nope/x'");
      assert.equal(String(e), "Error: ENOENT: no such file or directory, open '/nope/x'");
      const r = await v.fs.rename('/a', '/b').catch((x: unknown) => x);
      assert.deepEqual([(r as { dest?: string }).dest, (r as { syscall?: string }).syscall], ['/b', 'rename']);
      assert.deepEqual(JSON.parse(JSON.stringify(r)), { error: 'ENOENT', message: "ENOENT: no such file or directory, rename '/a' -> '/b'", path: '/a', errno: -2, code: 'ENOENT', syscall: 'rename', dest: '/b' });
      const nul = await v.fs.stat('/a\0b').catch((x: unknown) => x);
      assert.ok(nul instanceof TypeError);
      assert.equal((nul as { code?: string }).code, 'ERR_INVALID_ARG_VALUE');
      assert.ok(!isVfsError(nul));
      // A failed refusal is named in the audit log under its operation, as for every vault call.
      await v.fs.mkdir('/d');
      await v.fs.rmdir('/').catch(() => {});
      await v.fs.writeFile('/d/x', 'x');
      await assert.rejects(v.fs.rmdir('/d'), { code: 'ENOTEMPTY', syscall: 'rmdir', errno: -39 });
      const refused = (await v.audit({})).filter((o) => o.outcome === 'ENOTEMPTY');
      assert.equal(refused.length, 1);
    });

    test('vault.fs is one object; its methods work detached; relative paths follow vault.cwd', async () => {
      const v = await vaults.fresh();
      assert.equal(v.fs, v.fs);
      const { writeFile, readFile, mkdir, readdir, open } = v.fs;
      await mkdir('/work/sub', { recursive: true });
      v.cwd = '/work';
      await writeFile('rel.txt', 'relative');
      assert.equal(await readFile('/work/rel.txt', 'utf8'), 'relative');
      assert.deepEqual(await readdir('.'), ['rel.txt', 'sub']);
      assert.equal(await v.fs.mkdir('sub/a/b', { recursive: true }), 'sub/a');
      assert.equal(await v.fs.realpath('sub/../rel.txt'), '/work/rel.txt');
      const h1 = await open('rel.txt');
      const h2 = await open('rel.txt');
      assert.ok(h1.fd >= 2 ** 30 && h2.fd !== h1.fd, 'handle numbers are far from host descriptors');
      await h1.close();
      await h2.close();
    });

    test('access checks the owner’s bits whoever runs the test; links and other owners are EPERM', async () => {
      const v = await vaults.fresh();
      await v.fs.writeFile('/ro', 'x', { mode: 0o444 });
      await v.fs.access('/ro', v.fs.constants.R_OK);
      await assert.rejects(v.fs.access('/ro', v.fs.constants.W_OK), { code: 'EACCES', syscall: 'access', path: '/ro' });
      await v.fs.chmod('/ro', 0o000);
      await assert.rejects(v.fs.access('/ro', v.fs.constants.R_OK), { code: 'EACCES' });
      await v.fs.access('/ro');
      await assert.rejects(v.fs.link('/ro', '/hard'), { code: 'EPERM', syscall: 'link', path: '/ro', dest: '/hard' });
      const other = (process.getuid?.() ?? 0) + 1;
      await assert.rejects(v.fs.chown('/ro', other, -1), { code: 'EPERM', syscall: 'chown' });
    });

    test('copyFile and cp share content instead of storing it again', async () => {
      const v = await vaults.fresh();
      await v.fs.writeFile('/big', Buffer.alloc(300 * 1024, 7));
      const before = await v.stats();
      await v.fs.copyFile('/big', '/copy');
      await v.fs.cp('/big', '/copy2');
      const after = await v.stats();
      assert.equal((await v.stat('/copy')).hash, (await v.stat('/big')).hash);
      assert.equal((await v.stat('/copy2')).hash, (await v.stat('/big')).hash);
      assert.ok(after.bytesOnDisk - before.bytesOnDisk < 200 * 1024, `grew ${after.bytesOnDisk - before.bytesOnDisk} bytes`);
    });
  });
}
