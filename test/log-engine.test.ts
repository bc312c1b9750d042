// The log engine's own promises, beyond the conformance suite: a torn tail is dropped at every
// byte where a crash could cut the last record, damage earlier in the log is refused, checkpoints
// move the store to a new generation that every process follows, a lock left by a killed
// process is broken, and check() finds a flipped byte wherever it is.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isVfsError } from '../src/errors.js';
import { openEngine } from '../src/storage/engines.js';
import { cutAtEveryByte, logFile } from './helpers/log-cuts.js';
import type { Engine } from '../src/storage/contract.js';
import { STUCK_IN_WRITE_SCRIPT, runChild, startChild, writeScript } from '../src/storage/conformance/children.js';
import { OpWriter, encodeRecord, parseRecord } from '../src/storage/log/format.js';

const k = (s: string) => Buffer.from(s);
const open = (p: string, create = false, settings?: Record<string, unknown>) => openEngine('log', { path: p, create, settings });

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'avfs-logeng-'));
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const refused = (code: string) => (e: unknown) => {
  assert.ok(isVfsError(e), `expected a VfsError, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.ok(!e.message.includes('\n'));
  return true;
};

/** Every key and value of the collections the tests use, as text. */
async function dump(e: Engine): Promise<string[]> {
  return e.read(async (tx) => {
    const out: string[] = [];
    for (const c of ['meta', 'chunks', 'inodes'] as const) {
      for (const en of await tx.range(c)) out.push(`${c}:${en.key.toString()}=${en.value.length}:${en.value.subarray(0, 8).toString('hex')}`);
    }
    return out;
  });
}


describe('log engine', () => {
  it('drops a torn last record at every byte offset, and keeps everything before it', () =>
    withDir(async (dir) => {
      const store = path.join(dir, 'v.log');
      const e = await open(store, true);
      await e.write(async (tx) => {
        await tx.put('meta', k('a'), k('first'));
        await tx.put('chunks', k('big1'), Buffer.alloc(5000, 1));
      });
      await e.write(async (tx) => {
        await tx.put('inodes', k('i1'), Buffer.alloc(300, 2));
        await tx.del('meta', k('a'));
      });
      const before = await dump(e);
      const start = fs.statSync(logFile(store)).size;
      await e.write(async (tx) => {
        await tx.put('meta', k('last'), k('the last record'));
        await tx.put('chunks', k('big2'), Buffer.alloc(400, 3)); // small: every byte offset of the record is a case
        await tx.put('inodes', k('i1'), Buffer.alloc(200, 4));
      });
      const after = await dump(e);
      await e.close();
      const end = fs.statSync(logFile(store)).size;
      assert.ok(end - start > 24, 'the last record has a header and a payload');
      await cutAtEveryByte({ dir, store, start, end, before, after, open, dump, next: (tx) => tx.put('meta', k('next'), k('x')), reopened: (d, cut) => assert.ok(d.includes('meta:next=1:78'), `a write after the cut at ${cut} survives reopening`) });
    }));

  it('refuses a log damaged before its last record (ECORRUPT), and check() names it', () =>
    withDir(async (dir) => {
      const store = path.join(dir, 'v.log');
      const e = await open(store, true);
      for (let i = 0; i < 5; i++) await e.write((tx) => tx.put('meta', k(`key${i}`), k(`value number ${i}`)));
      await e.close();
      const log = logFile(store);
      const bytes = fs.readFileSync(log);
      bytes[40] ^= 0x01; // inside the first record's payload
      fs.writeFileSync(log, bytes);
      await assert.rejects(open(store), refused('ECORRUPT'));
    }));

  it('checkpoints into new generations, removes the old ones, and reopens from the newest', () =>
    withDir(async (dir) => {
      const store = path.join(dir, 'v.log');
      const settings = { checkpoint_bytes: '8KiB' };
      const e = await open(store, true, settings);
      // A second handle stays on the first generation until it reads again: it must follow.
      const other = await open(store, false, settings);
      for (let i = 0; i < 200; i++) {
        await e.write(async (tx) => {
          await tx.put('inodes', k(`n${String(i).padStart(4, '0')}`), Buffer.alloc(100, i & 0xff));
          if (i % 10 === 0) await tx.put('chunks', k(`c${i}`), Buffer.alloc(2000, i & 0xff));
          if (i % 7 === 0 && i > 0) await tx.del('inodes', k(`n${String(i - 7).padStart(4, '0')}`));
        });
      }
      const d = (await e.stats()).details;
      assert.ok(Number(d.generation) > 3, `several checkpoints were written (generation ${d.generation})`);
      const names = fs.readdirSync(store);
      assert.deepEqual(names.filter((f) => f.startsWith('ckpt-')), [`ckpt-${String(d.generation).padStart(8, '0')}`], 'only the newest checkpoint is kept');
      assert.equal(names.filter((f) => f.startsWith('log-')).length, 1, 'only the newest log is kept');
      const want = await dump(e);
      assert.deepEqual(await dump(other), want, 'a handle left on an old generation catches up');
      await other.write((tx) => tx.put('meta', k('from-other'), k('1')));
      assert.equal((await e.read((tx) => tx.get('meta', k('from-other'))))?.toString(), '1');
      await e.close();
      await other.close();
      const re = await open(store);
      try {
        assert.deepEqual((await dump(re)).filter((x) => !x.startsWith('meta:from-other')), want);
        assert.deepEqual(await re.check(), []);
        const c = await re.compact();
        assert.ok(c.bytesAfter <= c.bytesBefore, 'compact writes a checkpoint and an empty log');
        assert.ok(Number((await re.stats()).details.generation) > Number(d.generation));
      } finally {
        await re.close();
      }
    }));

  it('finishes a checkpoint that a killed process left half done', () =>
    withDir(async (dir) => {
      const store = path.join(dir, 'v.log');
      const e = await open(store, true);
      await e.write((tx) => tx.put('meta', k('a'), k('1')));
      await e.write((tx) => tx.put('chunks', k('c'), Buffer.alloc(3000, 5)));
      await e.close();
      // A checkpointer killed right after sealing log 1: the seal is there, checkpoint 2 and log 2 are not.
      const log = logFile(store);
      const bytes = fs.readFileSync(log);
      let o = 0;
      let seq = 0;
      for (let r = parseRecord(bytes, o); r.kind === 'record'; r = parseRecord(bytes, o)) {
        seq = r.seq;
        o = r.end;
      }
      assert.equal(seq, 2);
      const w = new OpWriter();
      w.seal(2);
      fs.appendFileSync(log, encodeRecord(seq + 1, w.take()));
      const ro = await open(store);
      assert.equal((await ro.read((tx) => tx.get('meta', k('a'))))?.toString(), '1', 'a reader follows the seal without a checkpoint');
      await ro.write((tx) => tx.put('meta', k('b'), k('2')));
      await ro.close();
      assert.ok(fs.existsSync(path.join(store, 'ckpt-00000002')), 'the next writer wrote the missing checkpoint');
      assert.ok(!fs.existsSync(log), 'and removed the sealed log');
      const re = await open(store);
      try {
        const d = await dump(re);
        assert.ok(d.includes('meta:a=1:31') && d.includes('meta:b=1:32') && d.includes(`chunks:c=3000:${'05'.repeat(8)}`), d.join(' '));
        assert.deepEqual(await re.check(), []);
      } finally {
        await re.close();
      }
    }));

  it('two processes see each other\'s writes', () =>
    withDir(async (dir) => {
      const store = path.join(dir, 'v.log');
      const e = await open(store, true);
      const script = writeScript(
        dir,
        'pingpong',
        `const e = await openEngine(kind, { path: storePath, create: false });
const wait = async (key) => { for (;;) { const v = await e.read((tx) => tx.get('meta', Buffer.from(key))); if (v) return v.toString(); await new Promise((r) => setTimeout(r, 5)); } };
for (let i = 0; i < 20; i++) {
  await wait('parent-' + i);
  await e.write((tx) => tx.put('meta', Buffer.from('child-' + i), Buffer.from('c' + i)));
}
await e.close();
console.log('ok');
`,
      );
      const child = runChild(script, 'log', store);
      const wait = async (key: string) => {
        for (;;) {
          const v = await e.read((tx) => tx.get('meta', k(key)));
          if (v) return v.toString();
          await new Promise((r) => setTimeout(r, 5));
        }
      };
      for (let i = 0; i < 20; i++) {
        await e.write((tx) => tx.put('meta', k(`parent-${i}`), k(`p${i}`)));
        assert.equal(await wait(`child-${i}`), `c${i}`);
      }
      const r = await child;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'ok');
      assert.equal(await e.read((tx) => tx.count('meta')), 40);
      await e.close();
    }));

  it('breaks the lock of a writer killed with SIGKILL', () =>
    withDir(async (dir) => {
      const store = path.join(dir, 'v.log');
      const e = await open(store, true);
      const stuck = startChild(writeScript(dir, 'stuck', STUCK_IN_WRITE_SCRIPT), 'log', store, 'inside');
      await stuck.ready;
      const lock = path.join(store, 'lock');
      assert.equal(fs.readFileSync(lock, 'latin1'), String(stuck.child.pid), 'the writer holds the lock file');
      stuck.child.kill('SIGKILL');
      await stuck.done;
      assert.ok(fs.existsSync(lock), 'SIGKILL left the lock file behind');
      await e.write((tx) => tx.put('meta', k('after'), k('1')));
      assert.ok(!fs.existsSync(lock), 'the stale lock was broken and ours released');
      assert.equal(await e.read((tx) => tx.has('meta', k('ghost'))), false);
      await e.close();
    }));

  it('check() finds a flipped byte in a chunk file and in a checkpoint', () =>
    withDir(async (dir) => {
      const store = path.join(dir, 'v.log');
      // inline_tx_max 0: the values go to chunks-000001 at commit, not in the log record.
      const e = await open(store, true, { inline_tx_max: 0 });
      await e.write(async (tx) => {
        for (let i = 0; i < 5; i++) await tx.put('chunks', k(`c${i}`), Buffer.alloc(5000, i + 1));
        await tx.put('meta', k('m'), k('some value'));
      });
      await e.compact();
      assert.deepEqual(await e.check(), []);
      const flip = (file: string, at: number) => {
        const b = fs.readFileSync(file);
        b[at] ^= 0x40;
        fs.writeFileSync(file, b);
      };
      flip(path.join(store, 'chunks-000001'), 5000 * 2 + 17);
      const p1 = await e.check();
      assert.equal(p1.length, 1, p1.join('; '));
      assert.match(p1[0], /chunks-000001: checksum mismatch/);
      const ckpt = fs.readdirSync(store).find((f) => f.startsWith('ckpt-'))!;
      flip(path.join(store, ckpt), fs.statSync(path.join(store, ckpt)).size - 3);
      const p2 = await e.check();
      assert.ok(p2.some((p) => p.includes(ckpt) && p.includes('checksum')), p2.join('; '));
      await e.close();
      await assert.rejects(open(store), refused('ECORRUPT'));
    }));

  it('refuses what is not a log store, and a truncated chunk file', () =>
    withDir(async (dir) => {
      await assert.rejects(open(path.join(dir, 'missing.log')), refused('ENOVAULT'));
      const other = path.join(dir, 'other.log');
      fs.mkdirSync(other);
      fs.writeFileSync(path.join(other, 'notes.txt'), 'mine');
      await assert.rejects(open(other, true), refused('ENOTVAULT'));
      fs.writeFileSync(path.join(other, 'avfs-log'), 'something else\n{}');
      await assert.rejects(open(other, true), refused('ENOTVAULT'));
      const store = path.join(dir, 'v.log');
      const e = await open(store, true, { inline_tx_max: 0 });
      await e.write((tx) => tx.put('chunks', k('c'), Buffer.alloc(10_000, 9)));
      await e.close();
      fs.truncateSync(path.join(store, 'chunks-000001'), 5000);
      await assert.rejects(open(store), refused('ECORRUPT'));
    }));
  // compact() copies the live values into a fresh chunk file and removes the older files, so the
  // space of values nothing refers to any more (overwritten, or removed by gc) goes back to the
  // disk; it must never remove a file that another opener may still read.
  const chunkFiles = (store: string) => fs.readdirSync(store).filter((f) => f.startsWith('chunks-')).sort();
  const chunkBytes = (store: string) => chunkFiles(store).reduce((n, f) => n + fs.statSync(path.join(store, f)).size, 0);
  async function withDeadValues(store: string, settings?: Record<string, unknown>, passphrase?: string): Promise<Engine> {
    const e = await openEngine('log', { path: store, create: true, settings, ...(passphrase ? { passphrase } : {}) });
    for (let i = 0; i < 8; i++) await e.write((tx) => tx.put('chunks', k('overwritten'), Buffer.alloc(300_000, i + 1)));
    await e.write(async (tx) => {
      await tx.put('chunks', k('kept'), Buffer.alloc(100_000, 0xaa));
      await tx.put('meta', k('small'), k('inline value'));
      await tx.put('chunks', k('removed'), Buffer.alloc(200_000, 0xbb));
    });
    await e.write((tx) => tx.del('chunks', k('removed')));
    return e;
  }

  it('compact gives back the space of values nothing refers to, and keeps every live value', () =>
    withDir(async (dir) => {
      const store = path.join(dir, 'v.log');
      const e = await withDeadValues(store);
      const before = await dump(e);
      const bytesBefore = chunkBytes(store);
      assert.equal(bytesBefore, 2_700_000, "every value written is on disk");
      const r = await e.compact();
      assert.equal(r.note, undefined, r.note);
      assert.ok(r.bytesAfter < 500_000, `${r.bytesBefore} -> ${r.bytesAfter}`);
      assert.deepEqual(chunkFiles(store), ['chunks-000002'], 'the live values moved to one fresh file');
      assert.equal(chunkBytes(store), 400_000, 'only the live values are left');
      assert.deepEqual(await dump(e), before);
      assert.deepEqual(await e.check(), []);
      await e.write((tx) => tx.put('chunks', k('after'), Buffer.alloc(50_000, 7)));
      await e.close();
      const again = await open(store);
      try {
        const d = await dump(again);
        assert.deepEqual(d.filter((x) => !x.startsWith('chunks:after=')), before);
        assert.ok(d.includes('chunks:after=50000:0707070707070707'));
        assert.deepEqual(await again.check(), []);
        // Little dead space: nothing is rewritten. ('after' rode inline in its log record; the
        // checkpoint keeps that log as chunks-000003, where the value is.)
        const r2 = await again.compact();
        assert.equal(r2.note, undefined);
        assert.deepEqual(chunkFiles(store), ['chunks-000002', 'chunks-000003']);
        assert.equal(fs.statSync(path.join(store, 'chunks-000002')).size, 400_000);
        assert.ok(d.includes('chunks:after=50000:0707070707070707'));
        assert.deepEqual(await again.check(), []);
      } finally {
        await again.close();
      }
    }));

  it('compact keeps the chunk files while another opener has the vault open, in this process or another', () =>
    withDir(async (dir) => {
      const store = path.join(dir, 'v.log');
      const e = await withDeadValues(store);
      const before = await dump(e);
      const files = chunkFiles(store);
      const other = await open(store);
      const r = await e.compact();
      assert.match(r.note ?? '', /chunk files kept \(1 other opener has the vault open\)/);
      assert.deepEqual(chunkFiles(store), files);
      assert.deepEqual(await dump(other), before, 'the other opener still reads every value');
      await other.close();

      const child = startChild(writeScript(dir, 'holder', `const e = await openEngine(kind, { path: storePath }); console.log('open'); setInterval(() => {}, 1000);`), 'log', store, 'open');
      try {
        await child.ready;
        const r2 = await e.compact();
        assert.match(r2.note ?? '', /1 other opener/);
        assert.deepEqual(chunkFiles(store), files);
      } finally {
        child.child.kill('SIGKILL');
        await child.done;
      }
      // The killed holder left its mark behind: stale, so it is removed and the space comes back.
      assert.equal(fs.readdirSync(path.join(store, 'openers')).length, 2, 'ours and the dead child\'s');
      const r3 = await e.compact();
      assert.equal(r3.note, undefined, r3.note);
      assert.deepEqual(chunkFiles(store), [`chunks-${String(files.length + 1).padStart(6, '0')}`]);
      assert.equal(fs.readdirSync(path.join(store, 'openers')).length, 1);
      assert.deepEqual(await dump(e), before);
      await e.close();
      assert.deepEqual(fs.readdirSync(path.join(store, 'openers')), [], 'close removes the mark');
      const again = await open(store);
      assert.deepEqual(await dump(again), before);
      assert.deepEqual(await again.check(), []);
      await again.close();
    }));

  it('compact of an encrypted store seals the moved values again, at their new places', () =>
    withDir(async (dir) => {
      const store = path.join(dir, 'v.log');
      const e = await withDeadValues(store, undefined, 'correct horse');
      const before = await dump(e);
      const r = await e.compact();
      assert.equal(r.note, undefined, r.note);
      assert.equal(chunkFiles(store).length, 1);
      await e.close();
      const again = await openEngine('log', { path: store, create: false, passphrase: 'correct horse' });
      try {
        assert.deepEqual(await dump(again), before);
        assert.deepEqual(await again.check(), []);
      } finally {
        await again.close();
      }
    }));
});
