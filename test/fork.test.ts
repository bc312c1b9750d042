// Forks (`vault fork`, forkVault): the new vault is the source's tree at a point, with the
// source's history up to that point and nothing after it, made by copying the store where the
// engine can (same backend) and by streaming otherwise; the source is only read.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVault, forkVault, listVaults, openVault, type ForkResult, type Vault } from '../src/index.js';
import type { Collection, Engine } from '../src/storage/contract.js';
import { scan } from '../src/storage/contract.js';
import { currentSeq } from '../src/history/at.js';
import { listSnapshots } from '../src/history/snapshots.js';
import { decodeJson, readU64, type OpRecord } from '../src/core/records.js';
import { cliHome } from './helpers/cli.js';
import { dump, tree } from './helpers/tree.js';
import { ROCKS_SKIP } from './helpers/vaults.js';

type Kind = 'sqlite' | 'lmdb' | 'log' | 'rocksdb' | 'memory';
const SUFFIX: Record<Kind, string> = { sqlite: '.avfs', lmdb: '.lmdb', log: '.log', rocksdb: '.rocksdb', memory: '' };

async function rows(e: Engine, coll: Collection): Promise<Buffer[]> {
  return e.read(async (tx) => {
    const out: Buffer[] = [];
    for await (const r of scan(tx, coll)) out.push(r.key);
    return out;
  });
}

async function ops(e: Engine): Promise<OpRecord[]> {
  return e.read(async (tx) => {
    const out: OpRecord[] = [];
    for await (const r of scan(tx, 'oplog')) out.push(decodeJson<OpRecord>(r.value));
    return out;
  });
}

async function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return { code: err.code ?? 'none', message: String(err.message) };
  }
  assert.fail('expected an error');
}

interface Built {
  early: number;
  mid: number;
  late: number;
  /** Content id of a file first written after the snapshot "mid". */
  laterContent: string;
}

/** Writes, renames, deletes, modes and symlinks; snapshot "mid"; more of each after it. */
async function build(v: Vault): Promise<Built> {
  await v.mkdir('/src');
  await v.mkdir('/docs/deep', { recursive: true });
  await v.writeFile('/src/a.txt', 'alpha\n');
  await v.writeFile('/src/big.bin', randomBytes(200_000)); // several chunks: a manifest
  await v.writeFile('/docs/readme.md', '# readme\n', { mode: 0o600 });
  await v.writeFile('/docs/deep/empty', '');
  await v.symlink('../src/a.txt', '/docs/link');
  await v.chmod('/src', 0o700);
  const early = await v.engine.read(currentSeq);
  await v.writeFile('/src/a.txt', 'alpha, second version\n');
  await v.rename('/docs/readme.md', '/docs/README.md');
  await v.rm('/docs/deep', { recursive: true });
  await v.writeFile('/src/big.bin', randomBytes(150_000));
  await v.rename('/src', '/lib');
  await v.batch(async (b) => {
    for (let i = 0; i < 30; i++) await b.writeFile(`/many/f${i}`, `file ${i}\n`);
  });
  const mid = (await v.saveSnapshot('mid')).seq;
  await v.writeFile('/lib/a.txt', 'alpha, third version\n');
  await v.writeFile('/later.bin', randomBytes(150_000));
  await v.rm('/docs', { recursive: true });
  await v.rename('/many/f1', '/many/renamed');
  await v.mkdir('/new');
  await v.symlink('/later.bin', '/new/l');
  const late = (await v.saveSnapshot('late')).seq;
  await v.writeFile('/lib/c.txt', 'c');
  await v.chmod('/lib/c.txt', 0o640);
  return { early, mid, late, laterContent: (await v.stat('/later.bin')).hash! };
}

const PAIRS: [Kind, Kind][] = [
  ['sqlite', 'sqlite'],
  ['lmdb', 'lmdb'],
  ['sqlite', 'lmdb'],
  ['lmdb', 'sqlite'],
  ['memory', 'sqlite'],
  ['log', 'log'],
  ['sqlite', 'log'],
  ['log', 'lmdb'],
  // The optional rocksdb binding: only where it loads.
  ...(ROCKS_SKIP ? [] : ([['rocksdb', 'rocksdb'], ['sqlite', 'rocksdb'], ['rocksdb', 'log']] as [Kind, Kind][])),
];

for (const [from, to] of PAIRS) {
  describe(`fork ${from} -> ${to}`, () => {
    let dir: string;
    let home: string;
    let src: Vault;
    let built: Built;
    let atMid: ForkResult;
    let atNow: ForkResult;
    const method = from === to ? 'copy' : 'stream';
    // A persistent source is named by path (forkVault opens it); a memory one can only be handed over.
    const source = (): string | Vault => (from === 'memory' ? src : src.path);
    const sourceRef = (): string => (from === 'memory' ? ':memory:' : src.path);

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `avfs-fork-${from}-${to}-`));
      home = join(dir, 'home');
      src = from === 'memory' ? await openVault(':memory:') : await createVault(join(dir, `src${SUFFIX[from]}`), { backend: from, home });
      built = await build(src);
    });
    after(async () => {
      await src.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('forks at a snapshot: the tree then, the history until then, nothing after', async () => {
      const sourceBefore = await dump(src.engine);
      const t0 = Date.now();
      atMid = await forkVault(source(), 'at-mid', { home, at: 'mid', backend: to, actor: 'forker' });
      const ms = Date.now() - t0;
      assert.ok(ms < 30_000, `fork took ${ms} ms`);
      assert.equal(atMid.method, method, 'same backend copies the store; another backend streams');
      assert.equal(atMid.seq, built.mid);
      assert.equal(atMid.name, 'at-mid');
      assert.equal(atMid.backend, to);
      assert.equal(atMid.from, sourceRef());
      assert.equal(atMid.at, 'snapshot mid');
      assert.ok(atMid.path.endsWith(join('vaults', `at-mid${SUFFIX[to]}`)));
      assert.ok(listVaults({ home }).some((x) => x.name === 'at-mid' && x.backend === to && x.path === atMid.path));
      assert.deepEqual(await dump(src.engine), sourceBefore, 'the source was only read');

      const f = await openVault('at-mid', { home });
      try {
        assert.equal(f.backend, to);
        assert.notEqual(f.record.id, src.record.id, 'a fork is a vault of its own');
        assert.equal(f.record.chunkSize, src.record.chunkSize);
        assert.deepEqual(await tree(f), await tree(src, built.mid), 'current tree = source at the snapshot');
        assert.equal(await f.readText('/lib/a.txt'), 'alpha, second version\n');
        assert.equal(await f.exists('/later.bin'), false);
        assert.equal(await f.readlink('/docs/link'), '../src/a.txt');
        assert.equal((await f.stat('/docs/README.md')).mode, 0o600);
        assert.equal((await f.stat('/lib')).mode, 0o700);
        // History up to the point came along: earlier points look the same on both.
        assert.deepEqual(await tree(f, built.early), await tree(src, built.early), 'the tree at an earlier point');
        assert.deepEqual(await tree(f, built.mid), await tree(src, built.mid));
        assert.equal((await f.readText('/docs/deep/empty').catch(() => 'gone')), 'gone');
        // ... and nothing after it.
        const log = await ops(f.engine);
        assert.deepEqual(log.map((o) => o.seq), Array.from({ length: built.mid + 1 }, (_, i) => i + 1));
        assert.deepEqual(log.slice(0, -1), (await ops(src.engine)).slice(0, built.mid), 'operations 1..S as in the source');
        const forkOp = log[log.length - 1];
        assert.equal(forkOp.op, 'vault.fork');
        assert.equal(forkOp.actor, 'forker');
        assert.equal(forkOp.info?.seq, built.mid);
        assert.equal(forkOp.info?.from, sourceRef());
        assert.equal(forkOp.info?.method, method);
        assert.ok((await rows(f.engine, 'inode_log')).every((k) => readU64(k, 8) <= built.mid), 'no inode_log row after S');
        assert.ok((await rows(f.engine, 'dirent_log')).every((k) => readU64(k, k.length - 8) <= built.mid), 'no dirent_log row after S');
        assert.deepEqual((await f.engine.read(listSnapshots)).map((s) => s.name), ['mid'], 'snapshots after S are not carried');
        const usage = await f.engine.read(async (tx) => decodeJson<{ files: number; bytes: number }>((await tx.get('meta', Buffer.from('usage')))!));
        const files = (await tree(f)).filter((n) => n.type === 'file');
        assert.deepEqual(usage, { files: files.length, bytes: files.reduce((a, n) => a + n.size!, 0) });
        if (method === 'stream') {
          const later = await f.engine.read((tx) => tx.get('manifests', Buffer.from(built.laterContent, 'hex')));
          assert.equal(later, undefined, 'content written after S is not carried');
          assert.ok((await f.engine.read((tx) => tx.count('chunks'))) < (await src.engine.read((tx) => tx.count('chunks'))));
        }
        const chk = await f.check();
        assert.deepEqual(chk.problems, []);
        assert.ok(chk.ok);
      } finally {
        await f.close();
      }
    });

    it('forks at now, by path', async () => {
      const last = await src.engine.read(currentSeq);
      const dst = join(dir, 'forks', `now${SUFFIX[to]}`);
      atNow = await forkVault(source(), dst, { home, ...(from === to ? {} : { backend: to }) });
      assert.equal(atNow.method, method);
      assert.equal(atNow.seq, last);
      assert.equal(atNow.name, undefined);
      assert.equal(atNow.path, dst);
      assert.ok(!listVaults({ home }).some((x) => x.path === dst), 'a fork by path is not registered');
      const f = await openVault(dst, { home }); // backend detected from the store
      try {
        assert.equal(f.backend, to);
        assert.deepEqual(await tree(f), await tree(src));
        assert.deepEqual(await tree(f, built.mid), await tree(src, built.mid));
        assert.deepEqual(await tree(f, built.late), await tree(src, built.late));
        assert.deepEqual((await f.engine.read(listSnapshots)).map((s) => s.name), ['mid', 'late']);
        const log = await ops(f.engine);
        assert.equal(log.length, last + 1);
        assert.equal(log[last].op, 'vault.fork');
        assert.deepEqual((await f.audit({})).map((o) => o.op)[0], 'vault.fork', 'audit on the fork shows where it came from');
        assert.deepEqual((await f.check()).problems, []);
      } finally {
        await f.close();
      }
    });

    it('lets the fork and the source change independently', async () => {
      const f = await openVault('at-mid', { home });
      try {
        const srcTree = await tree(src);
        await f.writeFile('/lib/a.txt', 'changed in the fork\n');
        await f.writeFile('/only-in-fork', 'f');
        await f.rm('/many', { recursive: true });
        assert.deepEqual(await tree(src), srcTree, 'writes to the fork leave the source alone');
        const forkTree = await tree(f);
        await src.writeFile('/only-in-source', 's');
        await src.rm('/lib/a.txt');
        assert.deepEqual(await tree(f), forkTree, 'writes to the source leave the fork alone');
        assert.equal(await src.exists('/only-in-fork'), false);
        assert.equal(await f.exists('/only-in-source'), false);
        // The fork's own operations continue after vault.fork.
        const log = await ops(f.engine);
        assert.equal(log[built.mid].op, 'vault.fork');
        assert.ok(log.length >= built.mid + 3);
        assert.ok((await f.check()).ok);
        assert.ok((await src.check()).ok);
      } finally {
        await f.close();
      }
    });

    it('refuses unknown points and existing destinations, leaving nothing behind', async () => {
      const listing = () => [
        ...readdirSync(join(home, 'vaults')).sort(),
        ...(existsSync(join(dir, 'forks')) ? readdirSync(join(dir, 'forks')).sort() : []),
      ];
      const before = listing();
      const sourceBefore = await dump(src.engine);
      const cases: [ForkOptionsLike, string, RegExp][] = [
        [{ at: 'no-such-snapshot' }, 'EINVAL', /"no-such-snapshot" is not a snapshot/],
        [{ at: 'snap:no-such-snapshot' }, 'ENOENT', /no snapshot named "no-such-snapshot"/],
        [{ at: '99999' }, 'EINVAL', /no operation 99999/],
        [{ at: 0 }, 'EINVAL', /no operation 0/],
        [{ at: '1999-01-01' }, 'EINVAL', /did not exist yet/],
        [{ backend: 'nosuch' }, 'EBACKEND', /unknown backend/],
        [{ backend: 'memory' }, 'EINVAL', /memory/],
      ];
      for (const [opts, code, msg] of cases) {
        const e = await errorOf(forkVault(source(), 'bad', { home, ...opts }));
        assert.equal(e.code, code, `${JSON.stringify(opts)}: ${e.message}`);
        assert.match(e.message, msg);
        assert.ok(!e.message.includes('\n'), 'one line');
        const p = await errorOf(forkVault(source(), join(dir, 'forks', `bad${SUFFIX[to]}`), { home, ...opts }));
        assert.equal(p.code, code);
      }
      assert.equal((await errorOf(forkVault(source(), 'at-mid', { home }))).code, 'EEXIST', 'a registered name');
      assert.equal((await errorOf(forkVault(source(), atNow.path, { home, backend: to }))).code, 'EEXIST', 'an existing path');
      assert.equal((await errorOf(forkVault(source(), 'bad name!', { home }))).code, 'EINVAL');
      assert.deepEqual(listing(), before, 'no destination, no temporary store left');
      assert.ok(!listVaults({ home }).some((x) => x.name === 'bad'));
      assert.deepEqual(await dump(src.engine), sourceBefore);
    });
  });
}

type ForkOptionsLike = { at?: string | number; backend?: string };

describe('fork: library edge cases', () => {
  let dir: string;
  let home: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'avfs-fork-edge-'));
    home = join(dir, 'home');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('forks a registered vault by name, at an operation number and at a time', async () => {
    const v = await createVault('origin', { home });
    await v.writeFile('/a', '1');
    await v.writeFile('/a', '2');
    const two = await v.engine.read(currentSeq);
    await new Promise((r) => setTimeout(r, 20));
    const between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await v.writeFile('/a', '3');
    await v.close();
    const byNumber = await forkVault('origin', 'by-number', { home, at: two });
    assert.equal(byNumber.from, 'origin');
    assert.equal(byNumber.seq, two);
    const byTime = await forkVault('origin', 'by-time', { home, at: between });
    assert.equal(byTime.seq, two);
    for (const name of ['by-number', 'by-time']) {
      const f = await openVault(name, { home });
      assert.equal(await f.readText('/a'), '2');
      await f.close();
    }
    // A fork of a fork.
    const again = await forkVault('by-number', 'grandchild', { home, at: 'seq:2', backend: 'lmdb' });
    assert.equal(again.method, 'stream');
    const g = await openVault('grandchild', { home });
    assert.equal(await g.readText('/a'), '1');
    assert.deepEqual((await g.check()).problems, []);
    await g.close();
  });

  it('a fork at a snapshot saved with memory gets that memory (copy and stream); at any other point, the memory as it is now', async () => {
    const v = await createVault('mem-src', { home });
    await v.memoryAdd('remember the giraffes', { tags: ['zoo'] });
    await v.kvSet('k', 'then');
    await v.streamAppend('s', 'then');
    await v.stateSet({ at: 'then' });
    await v.memoryAdd('x'.repeat(150_000)); // saved memory over one chunk: a manifest to carry
    await v.saveSnapshot('mem', { withMemory: true });
    await v.saveSnapshot('plain');
    await v.memoryAdd('later memory about okapis');
    await v.kvSet('k', 'now');
    await v.stateSet({ at: 'now' });
    await v.close();
    for (const backend of ['sqlite', 'lmdb'] as const) {
      const r = await forkVault('mem-src', `mem-${backend}`, { home, at: 'mem', backend });
      assert.equal(r.memory, true);
      const f = await openVault(`mem-${backend}`, { home });
      assert.deepEqual((await f.memorySearch('giraffes')).map((h) => h.id), [1]);
      assert.deepEqual(await f.memorySearch('okapis'), []);
      assert.equal((await f.kvGet('k')).value.toString(), 'then');
      assert.deepEqual((await f.stateGet())?.value, { at: 'then' });
      assert.equal((await f.memoryAdd('in the fork')).id, 3);
      assert.deepEqual((await f.check()).problems, []);
      // The fork keeps the snapshot and its memory: restoring it there works too.
      assert.equal((await f.restoreSnapshot('mem')).memory, true);
      await f.close();
      const p = await forkVault('mem-src', `plain-${backend}`, { home, at: 'plain', backend });
      assert.equal(p.memory, false);
      const g = await openVault(`plain-${backend}`, { home });
      assert.equal((await g.kvGet('k')).value.toString(), 'now', 'no memory saved: the memory as it is now');
      assert.deepEqual((await g.check()).problems, []);
      await g.close();
    }
  });

  it('keeps the vault settings and carries a large tree across in bounded batches', async () => {
    const v = await openVault(':memory:');
    await v.setConfig('max_files', 100_000);
    let third = 0;
    for (let i = 0; i < 12_000; i += 2000) {
      await v.batch(async (b) => {
        for (let j = i; j < i + 2000; j++) await b.writeFile(`/d${j % 7}/f${j}`, `content ${j % 500}`);
      });
      if (i === 4000) third = await v.engine.read(currentSeq);
    }
    const mid = (await v.saveSnapshot('mid')).seq;
    await v.batch(async (b) => {
      for (let j = 0; j < 6000; j++) await b.rm(`/d${j % 7}/f${j}`);
    });
    for (const backend of ['sqlite', 'lmdb']) {
      const r = await forkVault(v, `big-${backend}`, { home, at: 'mid', backend });
      assert.equal(r.seq, mid);
      const f = await openVault(`big-${backend}`, { home });
      assert.equal((await f.getConfig()).max_files, 100_000);
      assert.deepEqual(await tree(f), await tree(v, mid));
      assert.equal((await f.info()).files, 12_000);
      assert.ok((await f.check()).ok);
      // Same backend from here: a copy, trimmed back (more rows than one batch) to an earlier S.
      const r2 = await forkVault(f, join(dir, `big-copy-${backend}${SUFFIX[backend as Kind]}`), { home, at: third });
      assert.equal(r2.method, 'copy');
      const g = await openVault(r2.path, { home });
      assert.equal((await g.info()).files, 6000);
      assert.deepEqual(await tree(g), await tree(v, third));
      assert.ok((await g.check()).ok);
      await g.close();
      await f.close();
    }
    await v.close();
  });
});

describe('avfs vault fork', () => {
  const { home, run } = cliHome('avfs-cli-fork-');
  after(() => rmSync(home, { recursive: true, force: true }));

  const oneLine = (r: { stderr: string }, re: RegExp) => {
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
    assert.match(r.stderr, /^avfs: /);
    assert.match(r.stderr, re);
    assert.ok(!/\bat .*\.js:\d+/.test(r.stderr), 'no stack trace');
  };

  it('forks by name at an operation number, and prints JSON', async () => {
    assert.equal((await run(['vault', 'create', 's'])).code, 0);
    assert.equal((await run(['--vault', 's', 'write', '/a.txt', 'one'])).code, 0); // op 2
    assert.equal((await run(['--vault', 's', 'write', '/a.txt', 'two'])).code, 0); // op 3
    assert.equal((await run(['--vault', 's', 'write', '/b.txt', 'bee'])).code, 0); // op 4
    const r = await run(['--json', 'vault', 'fork', 's', 't', '--snapshot', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const out = JSON.parse(r.out);
    assert.deepEqual(Object.keys(out).sort(), ['backend', 'from', 'name', 'path', 'seq']);
    assert.deepEqual({ ...out, path: undefined }, { name: 't', backend: 'sqlite', from: 's', seq: 2, path: undefined });
    assert.ok(existsSync(out.path));
    const cat = await run(['--vault', 't', 'cat', '/a.txt']);
    assert.equal(cat.out, 'one');
    assert.equal((await run(['--vault', 't', 'cat', '/b.txt'])).code, 1);
    const plain = await run(['vault', 'fork', 's', 'u', '--backend', 'lmdb']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.out, /^forked s at now \(operation 4\) into vault u \(lmdb\)/);
    assert.equal((await run(['--vault', 'u', 'cat', '/b.txt'])).out, 'bee');
    assert.equal((await run(['-q', 'vault', 'fork', 's', join(home, 'p.avfs')])).out, '', '--quiet says nothing');
    assert.equal((await run(['--vault', join(home, 'p.avfs'), 'cat', '/a.txt'])).out, 'two');
    const list = JSON.parse((await run(['--json', 'vault', 'list'])).out) as { name: string }[];
    assert.deepEqual(list.map((x) => x.name), ['s', 't', 'u']);
  });

  it('refuses bad input with one line and the right exit code, leaving nothing behind', async () => {
    const files = () => readdirSync(join(home, 'vaults')).sort();
    const before = files();
    const cases: [string[], number, RegExp][] = [
      [['vault', 'fork', 's'], 2, /missing argument/],
      [['vault', 'fork', 's', 'x', 'y'], 2, /./],
      [['vault', 'fork', 's', 'x', '--snapshot'], 2, /./],
      [['vault', 'fork', 's', 'x', '--bogus'], 2, /./],
      [['vault', 'fork', 's', 't'], 1, /a vault named "t" already exists/],
      [['vault', 'fork', 's', 'x', '--snapshot', 'nope'], 1, /"nope" is not a snapshot/],
      [['vault', 'fork', 's', 'x', '--snapshot', 'snap:nope'], 1, /no snapshot named "nope"/],
      [['vault', 'fork', 's', 'x', '--snapshot', '99'], 1, /no operation 99/],
      [['vault', 'fork', 's', 'x', '--backend', 'bogus'], 1, /unknown backend "bogus"/],
      [['vault', 'fork', 'nosuch', 'x'], 1, /no vault named "nosuch"/],
      [['vault', 'fork', 's', 'bad name'], 1, /bad vault name/],
      [['vault', 'fork', 's', join(home, 'vaults', 't.avfs')], 1, /already exists/],
    ];
    for (const [args, code, re] of cases) {
      const r = await run(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      oneLine(r, re);
      const j = await run(['--json', ...args]);
      assert.equal(j.code, code);
      assert.equal(j.stderr, '', '--json errors go to stdout');
      assert.ok(JSON.parse(j.out).error, j.out);
    }
    assert.deepEqual(files(), before);
    const list = JSON.parse((await run(['--json', 'vault', 'list'])).out) as { name: string }[];
    assert.ok(!list.some((x) => x.name === 'x'));
  });
});
