// What only the rocksdb engine does: its folder layout and signature, compaction by rewrite, the
// handover of the database between processes, refusing a damaged store in one line, and the
// message when its optional binding is missing. The contract itself is test/storage.test.ts's.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createVault } from '../src/index.js';
import { openEngine } from '../src/storage/engines.js';
import { detectBackend } from '../src/vault/store.js';
import { isVfsError } from '../src/errors.js';
import { runAvfs } from './helpers/cli.js';
import { ROCKS_SKIP } from './helpers/vaults.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ENGINES_JS = pathToFileURL(join(HERE, '..', 'src', 'storage', 'engines.js')).href;
const k = (s: string) => Buffer.from(s);

/** The binding's own database, for writing a store as another version of avfs left it. */
interface RawDb {
  open(o: object): Promise<void>;
  close(): Promise<void>;
  _iterator(o: object): { _nextvSync(n: number, o: object): { rows: Buffer[]; finished: boolean }; _closeSync(): void };
  _chainedBatch(): { _put(k: Buffer, v: Buffer): void; _writeSync(o: object): void; _closeSync(): void };
  _getManySync(keys: Buffer[], o: object): (Buffer | undefined)[];
}

/** Run an ES module script in a child process; resolves with its output once it exits. */
function node(script: string, args: string[] = [], onLine?: (line: string) => void): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (onLine) for (const l of String(d).split('\n')) if (l) onLine(l);
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('rocksdb engine', { skip: ROCKS_SKIP }, () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'avfs-rocksdb-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('makes NAME.rocksdb/ with its signature written last, and is detected by it', async () => {
    const p = join(dir, 'made.rocksdb');
    const v = await createVault(p, { backend: 'rocksdb', home: join(dir, 'home') });
    await v.writeFile('/a', 'x');
    await v.close();
    const lines = readFileSync(join(p, 'avfs-rocksdb'), 'utf8').split('\n');
    assert.equal(lines[0], 'agentvfs rocksdb store');
    assert.deepEqual(JSON.parse(lines[1]), { format: 1, db: 'db-1' });
    assert.ok(existsSync(join(p, 'db-1', 'CURRENT')), 'the database is in db-1/');
    assert.ok(existsSync(join(p, 'waiting')));
    assert.equal(detectBackend(p), 'rocksdb');
    assert.equal(readdirSync(join(p, 'db-1')).filter((f) => f.startsWith('LOG')).length, 0, 'no info log files pile up');
  });

  it('compaction rewrites the database and shrinks it after deletes', async () => {
    const p = join(dir, 'compact.rocksdb');
    const e = await openEngine('rocksdb', { path: p, create: true });
    try {
      for (let round = 0; round < 4; round++) {
        await e.write(async (tx) => {
          for (let i = 0; i < 250; i++) await tx.put('chunks', k(`c${round}-${i}`), randomBytes(4096));
        });
      }
      await e.write((tx) => tx.put('meta', k('kept'), k('yes')));
      await e.write(async (tx) => {
        for (const x of await tx.range('chunks')) await tx.del('chunks', x.key);
      });
      const r = await e.compact();
      assert.ok(r.bytesAfter < r.bytesBefore / 4, `shrank from ${r.bytesBefore} to ${r.bytesAfter}`);
      assert.equal(JSON.parse(readFileSync(join(p, 'avfs-rocksdb'), 'utf8').split('\n')[1]).db, 'db-2');
      assert.equal(existsSync(join(p, 'db-1')), false, 'the old database is removed');
      assert.equal((await e.read((tx) => tx.get('meta', k('kept'))))?.toString(), 'yes');
      assert.equal(await e.read((tx) => tx.count('chunks')), 0);
      await e.write((tx) => tx.put('meta', k('after'), k('1')));
      assert.deepEqual(await e.check(), []);
      const st = await e.stats();
      assert.equal(st.entries.meta, 2);
      assert.equal(st.details.database, 'db-2');
    } finally {
      await e.close();
    }
    const again = await openEngine('rocksdb', { path: p, create: false });
    assert.equal((await again.read((tx) => tx.get('meta', k('after'))))?.toString(), '1');
    await again.close();
  });

  it('a big commit sends its chunks ahead and still lands whole: every value after a reopen, nothing from a failed one', async () => {
    const p = join(dir, 'ahead.rocksdb');
    const e = await openEngine('rocksdb', { path: p, create: true });
    const values = new Map<string, Buffer>();
    try {
      // 12 MiB of chunks in one transaction (more than the 4 MiB a batch ahead holds), one of
      // them written twice and one put then deleted, with other collections beside them.
      await e.write(async (tx) => {
        for (let i = 0; i < 48; i++) {
          const v = randomBytes(256 * 1024);
          values.set(`big${i}`, v);
          await tx.put('chunks', k(`big${i}`), v);
        }
        const again = randomBytes(1000);
        values.set('big7', again);
        await tx.put('chunks', k('big7'), again);
        await tx.put('chunks', k('gone'), randomBytes(300 * 1024));
        await tx.del('chunks', k('gone'));
        await tx.put('meta', k('named'), k('all'));
      });
      await assert.rejects(
        e.write(async (tx) => {
          for (let i = 0; i < 40; i++) await tx.put('chunks', k(`failed${i}`), randomBytes(256 * 1024));
          throw new Error('changed my mind');
        }),
        /changed my mind/,
      );
    } finally {
      await e.close();
    }
    const again = await openEngine('rocksdb', { path: p, create: false });
    try {
      for (const [key, v] of values) assert.ok((await again.read((tx) => tx.get('chunks', k(key))))?.equals(v), key);
      assert.equal(await again.read((tx) => tx.has('chunks', k('gone'))), false);
      assert.equal(await again.read((tx) => tx.count('chunks')), 48);
      assert.equal((await again.read((tx) => tx.get('meta', k('named'))))?.toString(), 'all');
      assert.deepEqual(await again.check(), []);
    } finally {
      await again.close();
    }
  });

  it('format 1 stores (directory entry values as they came) keep working; compaction makes them format 2', async () => {
    const p = join(dir, 'format1.rocksdb');
    const names = Array.from({ length: 300 }, (_, i) => `f${i}-é`);
    const v = await createVault(p, { backend: 'rocksdb', home: join(dir, 'home') });
    await v.mkdir('/d');
    for (const n of names) await v.writeFile(`/d/${n}`, n); // inode numbers past 255: bytes of 0x80 and up
    await v.close();
    // Turn it into the format 1 store an earlier avfs wrote: raw values, the format record 1.
    const { RocksLevel } = (await import('@nxtedition/' + 'rocksdb')) as { RocksLevel: new (p: string) => RawDb };
    const ENC = { keyEncoding: 'buffer', valueEncoding: 'buffer' };
    const raw = async (fn: (db: RawDb) => void) => {
      const db = new RocksLevel(join(p, 'db-1'));
      await db.open({ createIfMissing: false });
      try {
        fn(db);
      } finally {
        await db.close();
      }
    };
    const direntValues = (db: RawDb): Buffer[] => {
      const it = db._iterator({ ...ENC, gte: k('dirents\0'), lt: k('dirents\u0001') });
      const out: Buffer[] = [];
      for (;;) {
        const { rows, finished } = it._nextvSync(1000, ENC);
        for (let i = 1; i < rows.length; i += 2) out.push(rows[i]!);
        if (finished || rows.length === 0) break;
      }
      it._closeSync();
      return out;
    };
    await raw((db) => {
      const it = db._iterator({ ...ENC, gte: k('dirents\0'), lt: k('dirents\u0001') });
      const { rows } = it._nextvSync(100000, ENC);
      it._closeSync();
      const batch = db._chainedBatch();
      let wide = 0;
      for (let i = 0; i < rows.length; i += 2) {
        const text = rows[i + 1]!;
        const was = Buffer.from(text.toString('utf8'), 'latin1');
        if (was.length !== text.length) wide++;
        batch._put(rows[i]!, was);
      }
      assert.ok(wide > 0, 'some values had bytes of 0x80 and up');
      batch._put(k('\0format'), k('{"format":1}'));
      batch._writeSync({ sync: true });
      batch._closeSync();
    });
    const home = join(dir, 'home');
    const { openVault } = await import('../src/index.js');
    const old = await openVault(p, { home });
    assert.deepEqual((await old.readdir('/d')).map((e) => e.name).sort(), [...names].sort());
    assert.equal(await old.readText(`/d/${names[299]}`), names[299]);
    await old.writeFile('/d/new-after', 'x');
    await old.rename(`/d/${names[0]}`, '/d/renamed');
    await old.close();
    await raw((db) => {
      assert.ok(direntValues(db).every((x) => x.length === 9), 'a format 1 store gets format 1 values');
      assert.equal(String(db._getManySync([k('\0format')], ENC)[0]), '{"format":1}');
    });
    const want = [...names.slice(1), 'new-after', 'renamed'].sort();
    const e = await openEngine('rocksdb', { path: p, create: false });
    await e.compact();
    assert.deepEqual(await e.check(), []);
    await e.close();
    const db2 = join(p, JSON.parse(readFileSync(join(p, 'avfs-rocksdb'), 'utf8').split('\n')[1]).db as string);
    const raw2 = new RocksLevel(db2);
    await raw2.open({ createIfMissing: false });
    assert.equal(String(raw2._getManySync([k('\0format')], ENC)[0]), '{"format":2}');
    assert.ok(direntValues(raw2).some((x) => x.length > 9), 'values with bytes of 0x80 and up are stored as text');
    await raw2.close();
    const upgraded = await openVault(p, { home });
    assert.deepEqual((await upgraded.readdir('/d')).map((x) => x.name).sort(), want);
    assert.equal(await upgraded.readText('/d/renamed'), names[0]);
    assert.equal((await upgraded.check()).ok, true);
    await upgraded.close();
  });

  it('refuses a store of an unknown format with one EVERSION line', async () => {
    const p = join(dir, 'format9.rocksdb');
    await (await openEngine('rocksdb', { path: p, create: true })).close();
    const { RocksLevel } = (await import('@nxtedition/' + 'rocksdb')) as { RocksLevel: new (p: string) => RawDb };
    const db = new RocksLevel(join(p, 'db-1'));
    await db.open({ createIfMissing: false });
    const batch = db._chainedBatch();
    batch._put(k('\0format'), k('{"format":9}'));
    batch._writeSync({ sync: true });
    batch._closeSync();
    await db.close();
    await assert.rejects(openEngine('rocksdb', { path: p, create: false }), (e) => isVfsError(e) && e.code === 'EVERSION' && /format 9/.test(e.message));
  });

  it('an idle process hands the database over to another one that needs it', async () => {
    const p = join(dir, 'handover.rocksdb');
    const e = await openEngine('rocksdb', { path: p, create: true });
    try {
      await e.write((tx) => tx.put('meta', k('n'), k('0')));
      // This process now holds the database, idle. A child writes 20 times, then reads ours.
      const script = `
const { openEngine } = await import(${JSON.stringify(ENGINES_JS)});
const e = await openEngine('rocksdb', { path: process.argv[1], create: false });
const t0 = Date.now();
for (let i = 0; i < 20; i++) await e.write((tx) => tx.put('meta', Buffer.from('child' + i), Buffer.from('x')));
const mine = await e.read((tx) => tx.get('meta', Buffer.from('parent')));
await e.close();
console.log(JSON.stringify({ ms: Date.now() - t0, parent: mine?.toString() ?? null }));`;
      const child = node(script, [p]);
      // Meanwhile this process keeps writing now and then: each side gets its turns.
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 30));
        await e.write((tx) => tx.put('meta', k('parent'), k(String(i))));
      }
      const r = await child;
      assert.equal(r.code, 0, r.err);
      const got = JSON.parse(r.out) as { ms: number; parent: string | null };
      assert.ok(got.ms < 20_000, `the child waited ${got.ms} ms`);
      assert.equal(await e.read((tx) => tx.count('meta', { prefix: k('child') })), 20);
      assert.equal((await e.read((tx) => tx.get('meta', k('parent'))))?.toString(), '9');
      assert.deepEqual(readdirSync(join(p, 'waiting')), [], 'no waiting files are left behind');
    } finally {
      await e.close();
    }
  });

  it('refuses a damaged store with one ECORRUPT line, without crashing', async () => {
    const seed = join(dir, 'seed.rocksdb');
    const v = await createVault(seed, { backend: 'rocksdb', home: join(dir, 'home') });
    for (let i = 0; i < 50; i++) await v.writeFile(`/f${i}`, randomBytes(2000));
    await v.close();
    // Reopened once, so the write-ahead log is flushed into a table file.
    await (await openEngine('rocksdb', { path: seed, create: false })).close();
    const db = join(seed, 'db-1');
    const files = readdirSync(db);
    const sst = files.filter((f) => f.endsWith('.sst')).sort((a, b) => statSync(join(db, b)).size - statSync(join(db, a)).size)[0];
    const manifest = files.find((f) => f.startsWith('MANIFEST-'))!;
    const damages: [string, (p: string) => void][] = [
      ['a truncated table file', (p) => truncateSync(join(p, 'db-1', sst), Math.floor(statSync(join(p, 'db-1', sst)).size / 2))],
      ['garbage in the middle of a table file', (p) => {
        const f = join(p, 'db-1', sst);
        const b = readFileSync(f);
        randomBytes(256).copy(b, Math.floor(b.length / 3));
        writeFileSync(f, b);
      }],
      ['a garbage MANIFEST', (p) => writeFileSync(join(p, 'db-1', manifest), randomBytes(300))],
      ['a missing database folder', (p) => rmSync(join(p, 'db-1'), { recursive: true })],
      ['a damaged signature', (p) => writeFileSync(join(p, 'avfs-rocksdb'), 'agentvfs rocksdb store\n{"form')],
    ];
    let n = 0;
    for (const [what, damage] of damages) {
      const p = join(dir, `damaged-${n++}.rocksdb`);
      cpSync(seed, p, { recursive: true });
      damage(p);
      const r = await runAvfs(['--json', '--vault', p, 'vault', 'check'], { env: { AVFS_HOME: join(dir, 'home') } });
      const lines = r.out.split('\n').filter((l) => l);
      assert.equal(r.code, 1, `${what}: exit ${r.code}\n${r.out}\n${r.stderr}`);
      assert.equal(lines.length, 1, `${what}: one JSON answer\n${r.out}`);
      const doc = JSON.parse(lines[0]) as { ok?: boolean; error?: string; message?: string; problems?: string[] };
      if (doc.error !== undefined) assert.equal(doc.error, 'ECORRUPT', `${what}: ${lines[0]}`);
      else assert.equal(doc.ok, false, `${what}: ${lines[0]}`);
      assert.ok(!/\n/.test(doc.message ?? ''), `${what}: one line`);
    }
  });

  it('readOnly: reads, refuses writes with EROFS, and compacts nothing', async () => {
    const p = join(dir, 'ro.rocksdb');
    const rw = await openEngine('rocksdb', { path: p, create: true });
    await rw.write((tx) => tx.put('meta', k('a'), k('b')));
    await rw.close();
    const ro = await openEngine('rocksdb', { path: p, create: false, readOnly: true });
    try {
      assert.equal((await ro.read((tx) => tx.get('meta', k('a'))))?.toString(), 'b');
      await assert.rejects(ro.write((tx) => tx.put('meta', k('a'), k('c'))), (e) => isVfsError(e) && e.code === 'EROFS');
      const c = await ro.compact();
      assert.equal(c.bytesAfter, c.bytesBefore);
    } finally {
      await ro.close();
    }
  });

  it('without its optional binding: one clear EBACKEND line', async () => {
    // A copy of the library beside a node_modules that has every package but the binding.
    const root = join(dir, 'no-binding');
    const repo = join(HERE, '..', '..');
    mkdirSync(join(root, 'node_modules'), { recursive: true });
    cpSync(join(repo, 'dist', 'src'), join(root, 'dist', 'src'), { recursive: true });
    writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }));
    for (const name of readdirSync(join(repo, 'node_modules'))) {
      if (name === '@nxtedition' || name.startsWith('.')) continue;
      symlinkSync(join(repo, 'node_modules', name), join(root, 'node_modules', name));
    }
    const engines = pathToFileURL(join(root, 'dist', 'src', 'storage', 'engines.js')).href;
    const r = await node(
      `const { openEngine } = await import(${JSON.stringify(engines)});
try { await openEngine('rocksdb', { path: process.argv[1], create: true }); console.log('opened'); }
catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`,
      [join(dir, 'never.rocksdb')],
    );
    const got = JSON.parse(r.out.trim()) as { code: string; message: string };
    assert.equal(got.code, 'EBACKEND');
    assert.match(got.message, /optional package @nxtedition\/rocksdb/);
    assert.doesNotMatch(got.message, /\n/);
    assert.equal(existsSync(join(dir, 'never.rocksdb')), false, 'nothing was made');
  });
});
