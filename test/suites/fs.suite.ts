// The filesystem behaviour suite. It takes a factory and runs unchanged on every engine.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, symlinkSync, readFileSync, readlinkSync, lstatSync, statSync, existsSync, utimesSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import type { Vault } from '../../src/index.js';
import type { Engine, ReadTx } from '../../src/storage/contract.js';
import { scan } from '../../src/storage/contract.js';
import { code } from '../helpers/errors.js';
import { freshVaults } from '../helpers/vaults.js';

export interface VaultFactory {
  kind: string;
  persistent: boolean;
  /** A fresh, empty vault in `dir`. */
  create(dir: string): Promise<Vault>;
  /** Open the vault made by create() again (persistent engines only). */
  reopen(dir: string): Promise<Vault>;
}

/** Total bytes held in the content collections, and the set of their keys. */
async function contentBytes(engine: Engine): Promise<Map<string, number>> {
  return engine.read(async (tx: ReadTx) => {
    const m = new Map<string, number>();
    for (const coll of ['chunks', 'manifests'] as const) {
      for await (const e of scan(tx, coll)) m.set(coll + e.key.toString('hex'), e.value.length);
    }
    return m;
  });
}

function newBytes(before: Map<string, number>, after: Map<string, number>): number {
  let n = 0;
  for (const [k, v] of after) if (!before.has(k)) n += v;
  return n;
}

/** Wrap an engine to count the bytes read through it (instrumentation around the real engine). */
function countingReads(engine: Engine): { counter: { bytes: number }; restore: () => void } {
  const counter = { bytes: 0 };
  const orig = engine.read.bind(engine);
  (engine as { read: Engine['read'] }).read = (fn) =>
    orig((tx) =>
      fn({
        get: async (c, k) => {
          const v = await tx.get(c, k);
          counter.bytes += v?.length ?? 0;
          return v;
        },
        has: (c, k) => tx.has(c, k),
        range: async (c, o) => {
          const r = await tx.range(c, o);
          for (const e of r) counter.bytes += e.value.length;
          return r;
        },
        count: (c, o) => tx.count(c, o),
      }),
    );
  return { counter, restore: () => ((engine as { read: Engine['read'] }).read = orig) };
}

export function fsSuite(f: VaultFactory): void {
  describe(`filesystem on ${f.kind}`, () => {
    const { fresh, reopen } = freshVaults(f, 'avfs-fs');
    // Host folders for import and export.
    let dir = '';
    before(() => {
      dir = mkdtempSync(join(tmpdir(), `avfs-fs-host-${f.kind}-`));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('writes, reads, overwrites and appends; versions count content changes', async () => {
      const v = await fresh();
      await v.writeFile('/notes/a.txt', 'hello');
      assert.equal(await v.readText('/notes/a.txt'), 'hello');
      assert.equal((await v.stat('/notes')).type, 'directory', 'write creates parent folders');
      await v.writeFile('/notes/a.txt', 'bye');
      await v.appendFile('/notes/a.txt', '!');
      const st = await v.stat('/notes/a.txt');
      assert.equal(await v.readText('/notes/a.txt'), 'bye!');
      assert.equal(st.size, 4);
      assert.equal(st.version, 3);
      await v.writeFile('/notes/a.txt', 'bye!');
      assert.equal((await v.stat('/notes/a.txt')).version, 3, 'same content is not a new version');
      assert.equal(await code(v.writeFile('/notes/a.txt', 'x', { exclusive: true })), 'EEXIST');
      assert.equal(await code(v.writeFile('/none/x', 'x', { parents: false })), 'ENOENT');
    });

    it('is binary-safe and reads byte ranges', async () => {
      const v = await fresh();
      const data = randomBytes(300_000);
      await v.writeFile('/bin', data);
      assert.ok((await v.readFile('/bin')).equals(data));
      assert.ok((await v.readFile('/bin', { start: 65_000, end: 200_001 })).equals(data.subarray(65_000, 200_001)));
      assert.equal((await v.readFile('/bin', { start: 400_000 })).length, 0);
      const parts: Buffer[] = [];
      for await (const p of v.readStream('/bin')) parts.push(p);
      assert.ok(Buffer.concat(parts).equals(data));
      await v.writeFile('/empty', Buffer.alloc(0));
      assert.equal((await v.readFile('/empty')).length, 0);
    });

    it('writes from a stream in pieces of any size, with the same content id as writeFile', async () => {
      const v = await fresh();
      const data = randomBytes(5 * 65_536 + 123);
      async function* pieces(): AsyncGenerator<Buffer> {
        let off = 0;
        for (const n of [1, 7, 65_535, 65_537, 3, 200_000]) {
          yield data.subarray(off, off + n);
          off += n;
        }
        yield data.subarray(off);
      }
      const st = await v.writeStream('/streamed/file', pieces());
      assert.equal(st.size, data.length);
      assert.ok((await v.readFile('/streamed/file')).equals(data));
      await v.writeFile('/direct', data);
      assert.equal((await v.stat('/direct')).hash, st.hash);
      async function* once(b: Buffer): AsyncGenerator<Buffer> {
        yield b;
      }
      // A source that reads into one buffer and yields it again and again (pieces of odd sizes,
      // across chunk boundaries): what is stored is what each piece held when it was handed over.
      const reused = Buffer.alloc(50_000);
      async function* rereading(): AsyncGenerator<Buffer> {
        for (let at = 0; at < data.length; ) {
          const n = Math.min(data.length - at, 1 + ((at * 7919) % reused.length));
          data.copy(reused, 0, at, at + n);
          at += n;
          yield reused.subarray(0, n);
          reused.fill(0xee); // the caller's buffer is the source's again
        }
      }
      assert.ok((await v.readFile((await v.writeStream('/reused', rereading())).path)).equals(data), 'a source that reuses its buffer');
      assert.equal((await v.stat('/reused')).hash, st.hash);
      await v.writeStream('/small', once(Buffer.from('tiny')));
      assert.equal((await v.stat('/small')).hash, createHash('sha256').update('tiny').digest('hex'), 'a one-chunk file is named by sha256 of its bytes');
      await v.writeStream('/empty', once(Buffer.alloc(0)));
      assert.equal((await v.stat('/empty')).size, 0);
      let pulled = 0;
      async function* endless(): AsyncGenerator<Buffer> {
        for (;;) {
          pulled++;
          yield Buffer.alloc(1024);
        }
      }
      assert.equal(await code(v.writeStream('/streamed', endless())), 'EISDIR');
      assert.equal(pulled, 0, 'a folder is refused before any input is read');
    });

    it('stores identical content once', async () => {
      const v = await fresh();
      const data = randomBytes(200_000);
      await v.writeFile('/a', data);
      const before = await contentBytes(v.engine);
      await v.writeFile('/b', data);
      await v.copy('/a', '/c');
      assert.equal(newBytes(before, await contentBytes(v.engine)), 0);
      assert.equal((await v.stat('/b')).hash, (await v.stat('/a')).hash);
    });

    it('appending 1 KiB to, or overwriting one byte of, a 100 MiB file stores well under 1 MiB', async () => {
      const v = await fresh();
      const big = Buffer.alloc(100 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE((i * 2654435761) >>> 0, i);
      await v.writeFile('/big', big);
      let before = await contentBytes(v.engine);
      await v.appendFile('/big', randomBytes(1024));
      const appended = newBytes(before, await contentBytes(v.engine));
      assert.ok(appended < 256 * 1024, `append stored ${appended} bytes`);
      before = await contentBytes(v.engine);
      await v.writeAt('/big', 50 * 1024 * 1024 + 7, Buffer.from([0xab]));
      const overwritten = newBytes(before, await contentBytes(v.engine));
      assert.ok(overwritten < 256 * 1024, `overwrite stored ${overwritten} bytes`);
      assert.equal((await v.stat('/big')).size, big.length + 1024);
      // A range read touches only the chunks that hold the range (and the manifest).
      const { counter, restore } = countingReads(v.engine);
      try {
        const b = await v.readFile('/big', { start: 50 * 1024 * 1024, end: 50 * 1024 * 1024 + 10 });
        assert.equal(b[7], 0xab);
        assert.equal(b[0], big[50 * 1024 * 1024]);
      } finally {
        restore();
      }
      assert.ok(counter.bytes < 1024 * 1024, `range read fetched ${counter.bytes} bytes`);
    });

    it('writes at offsets and truncates', async () => {
      const v = await fresh();
      await v.writeFile('/f', 'abcdef');
      await v.writeAt('/f', 2, 'XY');
      assert.equal(await v.readText('/f'), 'abXYef');
      await v.writeAt('/f', 8, 'Z');
      assert.deepEqual([...(await v.readFile('/f'))], [...Buffer.from('abXYef\0\0Z')]);
      await v.truncate('/f', 3);
      assert.equal(await v.readText('/f'), 'abX');
      await v.truncate('/f', 70_000);
      const t = await v.readFile('/f');
      assert.equal(t.length, 70_000);
      assert.equal(t.subarray(3).every((b) => b === 0), true);
    });

    it('makes and removes folders with POSIX errors', async () => {
      const v = await fresh();
      await v.mkdir('/a');
      assert.equal(await code(v.mkdir('/a')), 'EEXIST');
      assert.equal(await code(v.mkdir('/x/y')), 'ENOENT');
      await v.mkdir('/x/y/z', { recursive: true });
      await v.mkdir('/x/y/z', { recursive: true });
      await v.writeFile('/x/y/z/f', '1');
      assert.equal(await code(v.rmdir('/x')), 'ENOTEMPTY');
      assert.equal(await code(v.rmdir('/x/y/z/f')), 'ENOTDIR');
      assert.equal(await code(v.mkdir('/x/y/z/f/g', { recursive: true })), 'ENOTDIR');
      assert.equal(await code(v.readFile('/x/y/z/f/g')), 'ENOTDIR');
      assert.equal(await code(v.readFile('/x')), 'EISDIR');
      assert.equal(await code(v.writeFile('/x', 'data')), 'EISDIR');
      assert.equal(await code(v.unlink('/x')), 'EISDIR');
      assert.equal(await code(v.rm('/x')), 'EISDIR');
      assert.equal(await code(v.rmdir('/')), 'EBUSY');
      assert.equal(await v.rm('/x', { recursive: true }), true);
      assert.equal(await v.exists('/x'), false);
      assert.equal(await v.rm('/nothing', { force: true }), false);
      assert.equal(await code(v.rm('/nothing')), 'ENOENT');
      assert.deepEqual((await v.readdir('/')).map((e) => e.name), ['a']);
    });

    it('lists a folder however its path reaches it, and refuses what is not one', async () => {
      // readdir walks plain folder names on entries alone and takes the full walk otherwise.
      const v = await fresh();
      await v.mkdir('/a/b/c', { recursive: true });
      await v.writeFile('/a/b/c/f.txt', 'f');
      await v.writeFile('/a/file', 'x');
      await v.symlink('/a/b', '/abs');
      await v.symlink('b/c', '/a/rel');
      await v.symlink('/abs', '/chain');
      await v.symlink('/nowhere', '/dangling');
      const names = async (p: string) => (await v.readdir(p)).map((e) => e.name);
      assert.deepEqual(await names('/a/b/c'), ['f.txt']);
      assert.deepEqual(await names('/abs/c'), ['f.txt']);
      assert.deepEqual(await names('/a/rel'), ['f.txt']);
      assert.deepEqual(await names('/chain/c/../c'), ['f.txt']);
      assert.deepEqual(await names('/a/./b/../b/c'), ['f.txt']);
      assert.equal(await code(v.readdir('/a/file')), 'ENOTDIR');
      assert.equal(await code(v.readdir('/a/file/deeper')), 'ENOTDIR');
      assert.equal(await code(v.readdir('/a/missing')), 'ENOENT');
      assert.equal(await code(v.readdir('/a/missing/deeper')), 'ENOENT');
      assert.equal(await code(v.readdir('/dangling')), 'ENOENT');
      // A past view lists what was there then.
      await v.saveSnapshot('before');
      await v.rm('/a/b/c', { recursive: true });
      assert.equal(await code(v.readdir('/a/b/c')), 'ENOENT');
      assert.deepEqual((await (await v.at('before')).readdir('/abs/c')).map((e) => e.name), ['f.txt']);
    });

    it('rejects bad names and keeps .. at the root', async () => {
      const v = await fresh();
      await v.writeFile('/ok', '1');
      assert.equal(await code(v.writeFile('/a\0b', 'x')), 'EINVAL');
      assert.equal(await code(v.writeFile('', 'x')), 'EINVAL');
      assert.equal(await code(v.writeFile('/' + 'n'.repeat(256), 'x')), 'ENAMETOOLONG');
      await v.writeFile('/' + 'n'.repeat(255), 'x');
      assert.equal(await code(v.writeFile('/' + 'd/'.repeat(2100) + 'f', 'x')), 'ENAMETOOLONG');
      assert.equal(await v.readText('/../../../ok'), '1');
      assert.equal(await v.readText('/a/../../ok'.replace('/a', '')), '1');
      assert.equal(await code(v.writeFile(123 as unknown as string, 'x')), 'EINVAL');
      assert.equal(await code(v.writeFile('/f', 42 as unknown as string)), 'EINVAL');
      assert.equal(await code(v.mkdir('/m', { mode: -1 })), 'EINVAL');
      assert.equal(await code(v.readFile('/ok', { start: -5 })), 'EINVAL');
      // Nothing of the above left anything behind.
      assert.deepEqual((await v.readdir('/')).map((e) => e.name).sort(), ['n'.repeat(255), 'ok'].sort());
    });

    it('resolves relative paths against cwd', async () => {
      const v = await fresh();
      await v.mkdir('/w/sub', { recursive: true });
      v.cwd = '/w';
      await v.writeFile('sub/f', 'rel');
      assert.equal(await v.readText('/w/sub/f'), 'rel');
      assert.equal(await v.readText('./sub/../sub/f'), 'rel');
      v.cwd = '/';
    });

    it('renames atomically with POSIX rules', async () => {
      const v = await fresh();
      await v.writeFile('/d/f', 'one');
      await v.writeFile('/g', 'two');
      await v.rename('/d/f', '/d/h');
      assert.equal(await v.readText('/d/h'), 'one');
      assert.equal(await v.exists('/d/f'), false);
      await v.rename('/g', '/d/h');
      assert.equal(await v.readText('/d/h'), 'two');
      assert.equal(await v.rename('/d/h', '/d/h'), true);
      await v.writeFile('/k', 'k');
      assert.equal(await v.rename('/k', '/d/h', { noClobber: true }), false);
      assert.equal(await v.readText('/d/h'), 'two');
      assert.equal(await code(v.rename('/d', '/d/inner')), 'EINVAL');
      await v.mkdir('/e/full', { recursive: true });
      await v.writeFile('/e/full/x', 'x');
      assert.equal(await code(v.rename('/d', '/e/full')), 'ENOTEMPTY');
      assert.equal(await code(v.rename('/d', '/k')), 'ENOTDIR');
      assert.equal(await code(v.rename('/k', '/e')), 'EISDIR');
      assert.equal(await code(v.rename('/nope', '/x')), 'ENOENT');
      await v.mkdir('/empty');
      await v.rename('/d', '/empty');
      assert.equal(await v.readText('/empty/h'), 'two');
      assert.equal(await code(v.rename('/', '/r')), 'EBUSY');
    });

    it('copies files and folders, sharing content', async () => {
      const v = await fresh();
      await v.writeFile('/src/a', 'A');
      await v.writeFile('/src/deep/b', 'B');
      await v.symlink('a', '/src/link');
      assert.equal(await code(v.copy('/src', '/dst')), 'EISDIR');
      await v.copy('/src', '/dst', { recursive: true });
      assert.equal(await v.readText('/dst/deep/b'), 'B');
      assert.equal(await v.readlink('/dst/link'), 'a');
      assert.equal(await code(v.copy('/src', '/src/inner', { recursive: true })), 'EINVAL');
      await v.writeFile('/dst/a', 'changed');
      assert.equal(await v.readText('/src/a'), 'A', 'a copy is independent');
      assert.equal(await v.copy('/src/a', '/dst/a', { noClobber: true }), false);
      assert.equal(await v.readText('/dst/a'), 'changed');
      await v.copy('/src/a', '/dst/a');
      assert.equal(await v.readText('/dst/a'), 'A');
      assert.equal(await code(v.copy('/src/a', '/src/a')), 'EINVAL');
    });

    it('follows symlinks like POSIX, with ELOOP for loops', async () => {
      const v = await fresh();
      await v.writeFile('/real/dir/file', 'data');
      await v.symlink('/real/dir', '/abs');
      await v.symlink('real/dir', '/rel');
      await v.symlink('../dir/file', '/real/dir/up');
      assert.equal(await v.readText('/abs/file'), 'data');
      assert.equal(await v.readText('/rel/file'), 'data');
      assert.equal(await v.readText('/real/dir/up'), 'data');
      assert.equal(await v.readText('/rel/../real/dir/file'), 'data', 'lexical .. before the walk');
      assert.equal((await v.lstat('/abs')).type, 'symlink');
      assert.equal((await v.stat('/abs')).type, 'directory');
      assert.equal((await v.stat('/abs')).path, '/real/dir');
      assert.equal(await v.readlink('/abs'), '/real/dir');
      assert.equal(await code(v.readlink('/real')), 'EINVAL');
      await v.symlink('/loop2', '/loop1');
      await v.symlink('/loop1', '/loop2');
      assert.equal(await code(v.readFile('/loop1')), 'ELOOP');
      await v.symlink('self', '/self');
      assert.equal(await code(v.stat('/self')), 'ELOOP');
      assert.equal(await code(v.symlink('x', '/abs')), 'EEXIST');
      await v.symlink('/nowhere/file', '/dangling');
      assert.equal(await code(v.stat('/dangling')), 'ENOENT');
      assert.equal((await v.lstat('/dangling')).target, '/nowhere/file');
      // Writing through a symlink writes its target.
      await v.writeFile('/rel/file', 'via link');
      assert.equal(await v.readText('/real/dir/file'), 'via link');
      // Removing a symlink removes the link, not the target.
      await v.rm('/abs');
      assert.equal(await v.readText('/real/dir/file'), 'via link');
      assert.equal(await code(v.symlink('a\0b', '/bad')), 'EINVAL');
    });

    it('keeps times: birthtime fixed, mtime moves with content, folders touched by children', async () => {
      const v = await fresh();
      await v.writeFile('/t', 'a', { mtimeMs: 1_000_000 });
      let st = await v.stat('/t');
      assert.equal(st.mtimeMs, 1_000_000);
      const born = st.birthtimeMs;
      await v.touch('/t');
      st = await v.stat('/t');
      assert.ok(st.mtimeMs > 1_000_000);
      assert.equal(st.birthtimeMs, born);
      await v.utimes('/t', 5_000);
      assert.equal((await v.stat('/t')).mtimeMs, 5_000);
      await v.chmod('/t', 0o600);
      assert.equal((await v.stat('/t')).mode, 0o600);
      await v.touch('/new');
      assert.equal((await v.stat('/new')).size, 0);
      await v.mkdir('/dd');
      await v.utimes('/dd', 1000);
      await v.writeFile('/dd/child', 'c');
      assert.ok((await v.stat('/dd')).mtimeMs > 1000);
    });

    it('lists, walks and finds', async () => {
      const v = await fresh();
      await v.writeFile('/p/b.ts', 'x'.repeat(10));
      await v.writeFile('/p/a.md', 'x'.repeat(2000));
      await v.writeFile('/p/q/c.ts', 'x');
      const ls = await v.list('/p');
      assert.deepEqual(ls.map((s) => s.name), ['a.md', 'b.ts', 'q']);
      assert.equal(ls[0].size, 2000);
      const walked: string[] = [];
      for await (const e of v.walk('/p')) walked.push(`${e.depth}:${e.path}`);
      assert.deepEqual(walked, ['0:/p', '1:/p/a.md', '1:/p/b.ts', '1:/p/q', '2:/p/q/c.ts']);
      const found: string[] = [];
      for await (const e of v.find('/', { name: '*.ts', type: 'file' })) found.push(e.path);
      assert.deepEqual(found, ['/p/b.ts', '/p/q/c.ts']);
      const bigs: string[] = [];
      for await (const e of v.find('/', { minSize: 1000 })) bigs.push(e.path);
      assert.deepEqual(bigs, ['/p/a.md']);
    });

    it('runs a batch as one transaction: all or nothing', async () => {
      const v = await fresh();
      await v.batch(async (b) => {
        for (let i = 0; i < 50; i++) await b.writeFile(`/batch/${i}`, `n${i}`);
      });
      assert.equal((await v.readdir('/batch')).length, 50);
      await assert.rejects(
        v.batch(async (b) => {
          await b.writeFile('/batch/extra', 'x');
          await b.rm('/batch/0');
          throw new Error('changed my mind');
        }),
        /changed my mind/,
      );
      assert.equal(await v.exists('/batch/extra'), false);
      assert.equal(await v.readText('/batch/0'), 'n0');
      assert.equal(await code(v.batch((b) => b.mkdir('/batch'))), 'EEXIST');
      assert.ok((await v.check()).ok);
    });

    it('in one batch, names in a folder the batch made are found or missing as written, through moves in and out', async () => {
      const v = await fresh();
      await v.writeFile('/old/keep', 'k');
      await v.batch(async (b) => {
        await b.mkdir('/made');
        assert.equal(await b.exists('/made/x'), false);
        await b.writeFile('/made/x', 'x');
        assert.equal(await b.exists('/made/x'), true);
        await b.rename('/old/keep', '/made/keep'); // from a folder made before
        assert.equal(await b.readText('/made/keep'), 'k');
        await b.mkdir('/made/sub');
        await b.writeFile('/made/sub/y', 'y');
        await b.rename('/made', '/renamed'); // the made folder moves with its entries
        assert.equal(await b.readText('/renamed/x'), 'x');
        assert.equal(await b.readText('/renamed/sub/y'), 'y');
        assert.equal(await b.exists('/made'), false);
        await b.rm('/renamed/x');
        assert.equal(await b.exists('/renamed/x'), false);
        assert.equal(await code(b.mkdir('/renamed/sub')), 'EEXIST');
        assert.equal(await code(b.readFile('/renamed/nope')), 'ENOENT');
        await b.rename('/renamed/keep', '/old/keep'); // and back out
        assert.equal(await b.exists('/renamed/keep'), false);
      });
      assert.deepEqual((await v.readdir('/renamed')).map((e) => e.name), ['sub']);
      assert.equal(await v.readText('/old/keep'), 'k');
      assert.equal(await v.readText('/renamed/sub/y'), 'y');
      assert.ok((await v.check()).ok);
    });

    it('passes its integrity check after a mix of operations', async () => {
      const v = await fresh();
      await v.writeFile('/a/b/c', randomBytes(150_000));
      await v.copy('/a', '/a2', { recursive: true });
      await v.rename('/a2/b', '/b');
      await v.rm('/a', { recursive: true });
      await v.symlink('/b/c', '/l');
      const r = await v.check();
      assert.deepEqual(r.problems, []);
      assert.equal(r.files, 1);
      assert.equal(r.symlinks, 1);
    });

    it('imports a host folder (symlinks kept, never followed) and exports it byte for byte', async () => {
      const v = await fresh();
      const n = 0;
      const host = join(dir, `host${n}`);
      const outside = join(dir, `outside${n}`);
      mkdirSync(join(host, 'sub', 'deeper'), { recursive: true });
      writeFileSync(outside, 'SECRET outside the folder');
      const bin = randomBytes(200_000);
      writeFileSync(join(host, 'sub', 'bin.dat'), bin);
      writeFileSync(join(host, 'script.sh'), '#!/bin/sh\necho hi\n');
      chmodSync(join(host, 'script.sh'), 0o755);
      writeFileSync(join(host, 'sub', 'deeper', 'empty'), '');
      utimesSync(join(host, 'script.sh'), new Date(1_600_000_000_000), new Date(1_600_000_000_000));
      symlinkSync(outside, join(host, 'escape'));
      symlinkSync('sub/bin.dat', join(host, 'inside'));
      const r = await v.importFrom(host, '/imp', { recursive: true });
      assert.equal(r.files, 3);
      assert.equal(r.symlinks, 2);
      assert.equal((await v.lstat('/imp/escape')).type, 'symlink');
      assert.equal(await v.readlink('/imp/escape'), outside);
      assert.equal(await code(v.readFile('/imp/escape')), 'ENOENT', 'the outside file was never read');
      assert.equal((await v.stat('/imp/script.sh')).mode, 0o755);
      assert.equal((await v.stat('/imp/script.sh')).mtimeMs, 1_600_000_000_000);
      assert.ok((await v.readFile('/imp/inside')).equals(bin));
      assert.equal(await code(v.importFrom(host, '/imp2')), 'EISDIR');

      // Export gives the symlinks back verbatim, the one pointing outside too (never followed).
      await v.symlink('/imp/sub/bin.dat', '/imp/abs-inside');
      const out = join(dir, `out${n}`);
      const e = await v.exportTo('/imp', out, { recursive: true });
      assert.equal(e.files, 3);
      assert.equal(e.symlinks, 3);
      assert.ok(readFileSync(join(out, 'sub', 'bin.dat')).equals(bin));
      assert.equal(readlinkSync(join(out, 'inside')), 'sub/bin.dat');
      assert.equal(readlinkSync(join(out, 'escape')), outside);
      assert.equal(readlinkSync(join(out, 'abs-inside')), '/imp/sub/bin.dat', 'targets are kept verbatim');
      assert.equal(statSync(join(out, 'script.sh')).mode & 0o777, 0o755);
      assert.equal(statSync(join(out, 'script.sh')).mtimeMs, 1_600_000_000_000);
      assert.equal(lstatSync(join(out, 'sub', 'deeper', 'empty')).size, 0);
      // A symlink already in the target folder is never written through.
      const out2 = join(dir, `out2-${n}`);
      mkdirSync(out2);
      symlinkSync(outside, join(out2, 'script.sh'));
      assert.equal(await code(v.exportTo('/imp', out2, { recursive: true })), 'EPERM');
      assert.equal(readFileSync(outside, 'utf8'), 'SECRET outside the folder');
    });

    if (f.persistent) {
      it('keeps everything across close and reopen', async () => {
        const v1 = await fresh();
        const data = randomBytes(100_000);
        await v1.writeFile('/keep/me', data);
        await v1.symlink('me', '/keep/ln');
        const v = await reopen();
        assert.ok((await v.readFile('/keep/ln')).equals(data));
        assert.ok((await v.check()).ok);
      });
    }
  });
}
