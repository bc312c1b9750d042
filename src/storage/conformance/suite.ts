// The storage conformance suite: every engine runs these tests unchanged. What an engine cannot
// do (persist, share a store between processes) it declares in the factory, and those tests skip.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { isVfsError } from '../../errors.js';
import type { Collection, Engine, EngineKind, RangeOptions, ReadTx, WriteTx } from '../contract.js';
import { COLLECTION_NAMES, MAX_KEY_BYTES, getMany, hasMany, putNew, rangeTexts, scan } from '../contract.js';
import {
  BIG_WRITES_SCRIPT,
  COUNTER_SCRIPT,
  KILLED_AFTER_WRITE_SCRIPT,
  OPEN_AND_READ_SCRIPT,
  SET_COUNTER_SCRIPT,
  STUCK_IN_WRITE_SCRIPT,
  runChild,
  startChild,
  writeScript,
  type ChildResult,
} from './children.js';
import {
  TRICKY_KEYS,
  b,
  boundCombinations,
  expectedRange,
  hex,
  prefixAndMixedCombinations,
  readU32,
  sleep,
  sortKeys,
  tick,
  u32,
} from './reference.js';

export interface StorageFactory {
  open(dir: string, create: boolean): Promise<Engine>;
  persistent: boolean;
  multiProcess: boolean;
  kind: EngineKind;
}

/**
 * Where a store of this kind lives in a test folder; factories and child processes use it.
 * postgres: a schema named after the folder on the test cluster ($AVFS_TEST_PG_URL), so each
 * test folder has a store of its own and a reopen finds it again.
 */
export function storePath(dir: string, kind: EngineKind): string {
  if (kind === 'postgres') {
    const url = process.env.AVFS_TEST_PG_URL;
    if (!url) throw new Error('postgres tests need AVFS_TEST_PG_URL (a server to create schemas on)');
    const schema = 't_' + createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 24);
    return `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`;
  }
  return path.join(dir, kind === 'lmdb' ? 'vault.lmdb' : kind === 'log' ? 'vault.log' : kind === 'rocksdb' ? 'vault.rocksdb' : 'vault.avfs');
}

/** The file holding the data, for tests that damage it. */
function dataFile(dir: string, kind: EngineKind): string {
  if (kind === 'lmdb') return path.join(storePath(dir, kind), 'data.mdb');
  // The log engine's log drops a torn tail by design; its chunk files have nothing to drop (the
  // largest: a small transaction's values reach one only when a checkpoint links its log as one).
  if (kind === 'log') {
    const store = storePath(dir, kind);
    const chunks = fs.readdirSync(store).filter((f) => f.startsWith('chunks-')).map((f) => path.join(store, f));
    return chunks.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
  }
  // RocksDB's write-ahead log drops a torn tail by design too: its largest table file, else its MANIFEST.
  if (kind === 'rocksdb') {
    const db = path.join(storePath(dir, kind), 'db-1');
    const files = fs.readdirSync(db).map((f) => path.join(db, f));
    const ssts = files.filter((f) => f.endsWith('.sst')).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size);
    return ssts[0] ?? files.find((f) => path.basename(f).startsWith('MANIFEST-'))!;
  }
  return storePath(dir, kind);
}

const COUNTER = b(...Buffer.from('counter'));

function childOk(r: ChildResult, what: string): void {
  assert.equal(r.signal, null, `${what}: killed by ${r.signal}\n${r.stderr}`);
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);
  assert.equal(r.stderr.trim(), '', `${what}: wrote to stderr`);
}

function assertRefused(e: unknown, codes: string[]): true {
  assert.ok(isVfsError(e), `expected a VfsError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  assert.ok(codes.includes(e.code), `expected ${codes.join('/')}, got ${e.code}: ${e.message}`);
  assert.ok(!e.message.includes('\n'), 'message is one line');
  return true;
}

async function putAll(e: Engine, coll: Collection, keys: Buffer[]): Promise<void> {
  await e.write(async (tx) => {
    for (const k of keys) await tx.put(coll, k, Buffer.concat([b(0xee), k]));
  });
}

export function storageSuite(name: string, factory: StorageFactory): void {
  const { kind } = factory;

  /** A fresh folder and a store in it for one test; both gone afterwards. */
  async function withStore(fn: (e: Engine, dir: string) => Promise<void>): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `avfs-${kind}-`));
    let e: Engine | undefined;
    try {
      e = await factory.open(dir, true);
      await fn(e, dir);
    } finally {
      await e?.close().catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `avfs-${kind}-`));
    try {
      await fn(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  describe(`storage conformance: ${name}`, () => {
    it('gets, puts, deletes, tests and counts', () =>
      withStore(async (e) => {
        const k = b(1, 2, 3);
        assert.equal(await e.read((tx) => tx.get('inodes', k)), undefined);
        assert.equal(await e.read((tx) => tx.has('inodes', k)), false);
        await e.write(async (tx) => {
          await tx.put('inodes', k, b(9));
          await tx.put('inodes', b(1, 2, 4), b(8));
        });
        await e.read(async (tx) => {
          assert.deepEqual(await tx.get('inodes', k), b(9));
          assert.ok(Buffer.isBuffer(await tx.get('inodes', k)), 'values are Buffers');
          assert.equal(await tx.has('inodes', k), true);
          assert.equal(await tx.count('inodes'), 2);
          assert.equal(await tx.count('dirents'), 0);
        });
        await e.write((tx) => tx.put('inodes', k, b(7, 7)));
        assert.deepEqual(await e.read((tx) => tx.get('inodes', k)), b(7, 7), 'put replaces');
        await e.write(async (tx) => {
          await tx.del('inodes', k);
          await tx.del('inodes', b(5, 5, 5)); // absent: no error
        });
        await e.read(async (tx) => {
          assert.equal(await tx.get('inodes', k), undefined);
          assert.equal(await tx.has('inodes', k), false);
          assert.equal(await tx.count('inodes'), 1);
        });
      }));

    it('keeps collections apart', () =>
      withStore(async (e) => {
        await e.write(async (tx) => {
          for (const c of COLLECTION_NAMES) await tx.put(c, b(1), Buffer.from(c));
        });
        await e.read(async (tx) => {
          for (const c of COLLECTION_NAMES) {
            assert.equal((await tx.get(c, b(1)))?.toString(), c);
            assert.equal(await tx.count(c), 1);
          }
        });
      }));

    it('accepts Uint8Array keys and values, not only Buffers', () =>
      withStore(async (e) => {
        const backing = new Uint8Array([0, 5, 6, 7, 0]);
        const key = backing.subarray(1, 3);
        await e.write((tx) => tx.put('meta', key, backing.subarray(2, 4)));
        assert.deepEqual(await e.read((tx) => tx.get('meta', b(5, 6))), b(6, 7));
      }));

    it('orders binary keys bytewise, unsigned, with 0x00 and 0xff bytes', () =>
      withStore(async (e) => {
        const shuffled = [...TRICKY_KEYS].sort(() => Math.random() - 0.5);
        await putAll(e, 'dirents', shuffled);
        const all = await e.read((tx) => tx.range('dirents'));
        assert.deepEqual(all.map((x) => hex(x.key)), sortKeys(TRICKY_KEYS).map(hex));
        for (const x of all) assert.deepEqual(x.value, Buffer.concat([b(0xee), x.key]));
        const rev = await e.read((tx) => tx.range('dirents', { reverse: true }));
        assert.deepEqual(rev.map((x) => hex(x.key)), sortKeys(TRICKY_KEYS).reverse().map(hex));
        assert.equal(await e.read((tx) => tx.get('dirents', b(0x00))).then((v) => v && hex(v)), 'ee00');
        assert.equal(await e.read((tx) => tx.get('dirents', b(0xff, 0xff, 0xff))).then((v) => v && hex(v)), 'eeffffff');
      }));

    it('stores values of 0 bytes and of 2 MiB', () =>
      withStore(async (e) => {
        const big = Buffer.alloc(2 * 1024 * 1024);
        for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);
        await e.write(async (tx) => {
          await tx.put('meta', b(1), Buffer.alloc(0));
          await tx.put('chunks', b(2), big);
        });
        await e.read(async (tx) => {
          const empty = await tx.get('meta', b(1));
          assert.ok(empty !== undefined, 'an empty value is not a missing one');
          assert.equal(empty.length, 0);
          assert.equal(await tx.has('meta', b(1)), true);
          assert.ok((await tx.get('chunks', b(2)))!.equals(big));
          const [entry] = await tx.range('chunks');
          assert.ok(entry.value.equals(big));
        });
        // Several more, so engines that map their file must grow past a small initial map.
        for (let i = 0; i < 4; i++) await e.write((tx) => tx.put('chunks', b(3, i), big));
        assert.equal(await e.read((tx) => tx.count('chunks')), 5);
      }));

    it('returns exactly the keys of every bound combination, forwards, backwards and limited', () =>
      withStore(async (e) => {
        await putAll(e, 'oplog', TRICKY_KEYS);
        const sorted = sortKeys(TRICKY_KEYS);
        await e.read(async (tx) => {
          for (const bounds of [...boundCombinations(), ...prefixAndMixedCombinations()]) {
            for (const reverse of [false, true]) {
              for (const limit of [undefined, 0, 1, 3]) {
                const o: RangeOptions = { ...bounds, reverse, limit };
                const got = (await tx.range('oplog', o)).map((x) => hex(x.key));
                assert.deepEqual(got, expectedRange(sorted, o), `range ${JSON.stringify(o)}`);
              }
            }
            const n = expectedRange(sorted, bounds).length;
            assert.equal(await tx.count('oplog', bounds), n, `count ${JSON.stringify(bounds)}`);
            assert.equal(await tx.count('oplog', { ...bounds, limit: 2 }), Math.min(n, 2), 'count is capped by limit');
          }
        });
      }));

    it('handles prefixes that end in 0xff bytes', () =>
      withStore(async (e) => {
        await putAll(e, 'dirents', TRICKY_KEYS);
        const keys = (o: RangeOptions) => e.read(async (tx) => (await tx.range('dirents', o)).map((x) => hex(x.key)));
        assert.deepEqual(await keys({ prefix: b(0x61, 0xff) }), ['61ff', '61ffff']);
        assert.deepEqual(await keys({ prefix: b(0x61) }), ['61', '6100', '6162', '61ff', '61ffff']);
        assert.deepEqual(await keys({ prefix: b(0xff) }), ['ff', 'ff00', 'ffff', 'ffffff']);
        assert.deepEqual(await keys({ prefix: b(0xff, 0xff) }), ['ffff', 'ffffff']);
        assert.deepEqual(await keys({ prefix: b(0xff, 0xff), reverse: true }), ['ffffff', 'ffff']);
        assert.deepEqual(await keys({ prefix: b(0x7f) }), ['7f', '7fff']);
        assert.deepEqual(await keys({ prefix: b(0x00), reverse: true, limit: 2 }), ['0001', '0000']);
      }));

    // The second prefix ends inside a UTF-8 sequence (E2 82 80 is one character, C3 starts
    // another that the names' first bytes do not continue): an engine that reads keys as text
    // must still split prefix and name exactly.
    for (const prefix of [b(0, 0, 0, 0, 0, 0, 0, 7), b(0, 0, 0, 0, 0xe2, 0x82, 0x80, 0xc3)])
    it(`lists text keys under a prefix (rangeTexts) exactly as range() does, in reads and in writes (prefix ${hex(prefix)})`, () =>
      withStore(async (e) => {
        const names = ['a', 'b b', 'é', 'z'.repeat(200), '日本', 'x\u{1F600}', ...Array.from({ length: 300 }, (_, i) => `f${String(i).padStart(4, '0')}`)];
        const val = (i: number) => Buffer.from([i >> 8, i & 0xff, 1, 2, 3, 4, 5, 6, 0x66]);
        await e.write(async (tx) => {
          for (const [i, n] of names.entries()) await tx.put('dirents', Buffer.concat([prefix, Buffer.from(n)]), val(i));
          // Neighbours on both sides that must not show up.
          const before = Buffer.from(prefix);
          before[7]--;
          const after = Buffer.from(prefix);
          after[7]++;
          await tx.put('dirents', Buffer.concat([before, b(0x61)]), val(0));
          await tx.put('dirents', after, val(0));
        });
        const check = async (tx: ReadTx, opts: { after?: string; limit?: number }) => {
          const want = (await tx.range('dirents', opts.after === undefined ? { prefix, limit: opts.limit } : { prefix, gt: Buffer.concat([prefix, Buffer.from(opts.after)]), limit: opts.limit }))
            .map((x) => [x.key.subarray(8).toString(), hex(x.value)]);
          const got = await rangeTexts(tx, 'dirents', prefix, 9, opts);
          assert.equal(got.values.length, got.texts.length * 9);
          assert.deepEqual(got.texts.map((t, i) => [t, hex(got.values.subarray(i * 9, i * 9 + 9))]), want, JSON.stringify(opts));
          return got.texts.length;
        };
        await e.read(async (tx) => {
          assert.equal(await check(tx, {}), names.length);
          assert.equal(await check(tx, { limit: 5 }), 5);
          assert.equal(await check(tx, { after: 'f0100', limit: 50 }), 50);
          assert.equal(await check(tx, { after: 'é' }), 1);
          assert.equal(await check(tx, { limit: 0 }), 0);
          assert.deepEqual((await rangeTexts(tx, 'dirents', b(0, 0, 0, 0, 0, 0, 0, 9, 9), 9)).texts, []);
        });
        await e.write(async (tx) => {
          await tx.del('dirents', Buffer.concat([prefix, Buffer.from('a')]));
          await tx.put('dirents', Buffer.concat([prefix, Buffer.from('aa')]), val(1));
          assert.equal(await check(tx, {}), names.length, 'a write transaction sees its own changes');
        });
        // A value of another size is damage, not a listing.
        await e.write((tx) => tx.put('dirents', Buffer.concat([prefix, Buffer.from('bad')]), b(1, 2)));
        await assert.rejects(e.read((tx) => rangeTexts(tx, 'dirents', prefix, 9)));
      }));

    it('gets many keys at once (getMany) exactly as get() one by one, in reads and in writes', () =>
      withStore(async (e) => {
        const big = Buffer.alloc(300_000, 7);
        big[12345] = 0;
        const stored: [Buffer, Buffer][] = [
          [b(1), b(0xff, 0x00, 0x80)],
          [b(2, 0), big],
          [b(0xff), Buffer.alloc(0)],
          [Buffer.alloc(MAX_KEY_BYTES, 0xab), b(9)],
        ];
        await e.write(async (tx) => {
          for (const [k, v] of stored) await tx.put('chunks', k, v);
          await tx.put('meta', b(3), b(3)); // another collection's key of the same bytes as an absent one
        });
        const asked = [b(2, 0), b(3), b(1), b(2, 0), b(0xff), Buffer.alloc(MAX_KEY_BYTES, 0xab), b(4)];
        const same = async (tx: ReadTx, what: string) => {
          const want: (string | undefined)[] = [];
          for (const k of asked) want.push((await tx.get('chunks', k))?.toString('hex'));
          const got = await getMany(tx, 'chunks', asked);
          assert.equal(got.length, asked.length, what);
          assert.deepEqual(got.map((v) => v?.toString('hex')), want, what);
          assert.deepEqual(await getMany(tx, 'chunks', []), [], what);
        };
        await e.read((tx) => same(tx, 'a read'));
        await e.read(async (tx) => {
          // Twice in one transaction (a cache, where there is one, answers the second).
          await getMany(tx, 'chunks', asked);
          await same(tx, 'asked again');
        });
        await e.write(async (tx) => {
          await tx.put('chunks', b(3), b(0x33));
          await tx.del('chunks', b(1));
          await tx.put('chunks', b(2, 0), b(0x20));
          const got = await getMany(tx, 'chunks', [b(1), b(3), b(2, 0), b(0xff)]);
          assert.deepEqual(got.map((v) => v?.toString('hex')), [undefined, '33', '20', ''], 'a write sees its own changes');
        });
        await e.read(async (tx) => {
          const got = await getMany(tx, 'chunks', [b(1), b(3), b(2, 0)]);
          assert.deepEqual(got.map((v) => v?.toString('hex')), [undefined, '33', '20'], 'and so does the next read');
        });
      }));

    it('asks for many keys at once (hasMany) exactly as has() one by one, in reads and in writes', () =>
      withStore(async (e) => {
        await e.write(async (tx) => {
          await tx.put('chunks', b(1), b(1));
          await tx.put('chunks', b(2), Buffer.alloc(0));
          await tx.put('meta', b(3), b(3));
        });
        const asked = [b(3), b(1), b(2), b(1), Buffer.alloc(0), Buffer.alloc(MAX_KEY_BYTES + 1, 1), b(4)];
        const want = [false, true, true, true, false, false, false];
        await e.read(async (tx) => {
          assert.deepEqual(await hasMany(tx, 'chunks', asked), want);
          assert.deepEqual(await hasMany(tx, 'chunks', asked), want, 'asked again');
          assert.deepEqual(await hasMany(tx, 'chunks', []), []);
        });
        await e.write(async (tx) => {
          await tx.del('chunks', b(1));
          await tx.put('chunks', b(4), b(4));
          assert.deepEqual(await hasMany(tx, 'chunks', [b(1), b(2), b(4)]), [false, true, true], 'a write sees its own changes');
        });
        await e.read(async (tx) => assert.deepEqual(await hasMany(tx, 'chunks', [b(1), b(2), b(4)]), [false, true, true]));
      }));

    it('puts a key unless it is there (putNew, for content-addressed values)', () =>
      withStore(async (e) => {
        const v = (n: number, size = 10) => Buffer.alloc(size, n);
        await e.write(async (tx) => {
          await tx.put('chunks', b(1), v(1));
          await tx.put('chunks', b(2), v(2));
        });
        await e.write(async (tx) => {
          await putNew(tx, 'chunks', b(1), v(1)); // there: left as it is
          await putNew(tx, 'chunks', b(3), v(3, 70_000)); // not there
          await tx.del('chunks', b(2));
          await putNew(tx, 'chunks', b(2), v(2)); // deleted by this transaction: put again
          await tx.put('chunks', b(4), v(4));
          await putNew(tx, 'chunks', b(4), v(4)); // put by this transaction
          await putNew(tx, 'chunks', b(5), v(5));
          await putNew(tx, 'chunks', b(5), v(5)); // twice
          for (const n of [1, 2, 3, 4, 5]) assert.equal(hex((await tx.get('chunks', b(n)))!), hex(v(n, n === 3 ? 70_000 : 10)), `in the write, key ${n}`);
        });
        await e.read(async (tx) => {
          const got = await tx.range('chunks');
          assert.deepEqual(got.map((x) => hex(x.key)), [1, 2, 3, 4, 5].map((n) => hex(b(n))));
          assert.ok(got[2].value.equals(v(3, 70_000)));
          assert.equal(await tx.count('chunks'), 5);
        });
        await assert.rejects(e.write((tx) => putNew(tx, 'chunks', Buffer.alloc(0), v(1))), 'an empty key is refused as put() refuses it');
        await assert.rejects(
          e.write(async (tx) => {
            await putNew(tx, 'chunks', b(6), v(6));
            throw new Error('changed my mind');
          }),
          /changed my mind/,
        );
        assert.equal(await e.read((tx) => tx.has('chunks', b(6))), false, 'a failed transaction stores nothing');
      }));

    it('keeps what was committed when the writer changes its buffers afterwards (put holds them only until the commit)', () =>
      withStore(async (e) => {
        const sizes = [10, 3_000, 70_000, 300_000];
        const values = sizes.map((n, i) => Buffer.alloc(n, i + 1));
        const views = sizes.map((n, i) => new Uint8Array(Buffer.alloc(n + 8, 0x40 + i).buffer, 8, n)); // Uint8Arrays at an offset
        await e.write(async (tx) => {
          for (let i = 0; i < sizes.length; i++) {
            await tx.put('chunks', b(1, i), values[i]);
            await tx.put('manifests', b(2, i), views[i]);
            await putNew(tx, 'meta', b(3, i), values[i]);
          }
        });
        for (const x of [...values, ...views]) x.fill(0xff);
        const check = async (what: string) =>
          e.read(async (tx) => {
            for (let i = 0; i < sizes.length; i++) {
              assert.ok((await tx.get('chunks', b(1, i)))!.equals(Buffer.alloc(sizes[i], i + 1)), `${what}: put ${sizes[i]} bytes`);
              assert.ok((await tx.get('manifests', b(2, i)))!.equals(Buffer.alloc(sizes[i], 0x40 + i)), `${what}: put of a Uint8Array view, ${sizes[i]} bytes`);
              assert.ok((await tx.get('meta', b(3, i)))!.equals(Buffer.alloc(sizes[i], i + 1)), `${what}: putNew ${sizes[i]} bytes`);
              assert.ok((await getMany(tx, 'chunks', [b(1, i)]))[0]!.equals(Buffer.alloc(sizes[i], i + 1)), `${what}: getMany ${sizes[i]} bytes`);
            }
          });
        await check('read at once');
        await check('read again');
      }));

    it('returns nothing for empty ranges', () =>
      withStore(async (e) => {
        await putAll(e, 'meta', TRICKY_KEYS);
        await e.read(async (tx) => {
          for (const o of [
            { gt: b(0x80), lt: b(0x7f) },
            { gte: b(0x61), lt: b(0x61) },
            { gt: b(0x61), lte: b(0x61) },
            { gt: b(0xff, 0xff, 0xff) },
            { lt: b(0x00) },
            { prefix: b(0x99) },
            { prefix: b(0x61), gte: b(0x62) },
            { limit: 0 },
          ] as RangeOptions[]) {
            assert.deepEqual(await tx.range('meta', o), [], JSON.stringify(o));
            assert.deepEqual(await tx.range('meta', { ...o, reverse: true }), [], JSON.stringify(o));
            assert.equal(await tx.count('meta', o), 0, JSON.stringify(o));
          }
          assert.deepEqual((await tx.range('meta', { gte: b(0x61), lte: b(0x61) })).map((x) => hex(x.key)), ['61']);
          assert.deepEqual(await tx.range('inode_log'), [], 'an untouched collection is empty');
        });
      }));

    it('pages through ranges with scan()', () =>
      withStore(async (e) => {
        const keys = Array.from({ length: 25 }, (_, i) => b(0x10, i, 0xff));
        await putAll(e, 'inode_log', [...keys, b(0x11), b(0x0f)]);
        await e.read(async (tx) => {
          const all = async (o: RangeOptions, page: number) => {
            const out: string[] = [];
            for await (const x of scan(tx, 'inode_log', o, page)) out.push(hex(x.key));
            return out;
          };
          const want = keys.map(hex);
          assert.deepEqual(await all({ prefix: b(0x10) }, 4), want);
          assert.deepEqual(await all({ prefix: b(0x10) }, 5), want, 'page size dividing the count');
          assert.deepEqual(await all({ prefix: b(0x10), reverse: true }, 4), [...want].reverse());
          assert.deepEqual(await all({ prefix: b(0x10), limit: 7 }, 3), want.slice(0, 7));
          assert.deepEqual(await all({ gt: keys[3], lte: keys[9] }, 2), want.slice(4, 10));
          assert.deepEqual(await all({ gt: keys[3], lte: keys[9], reverse: true }, 2), want.slice(4, 10).reverse());
          assert.deepEqual(await all({ prefix: b(0x12) }, 4), []);
        });
      }));

    it('takes keys of 1 to 511 bytes and refuses 0 or more', () =>
      withStore(async (e) => {
        const longest = Buffer.alloc(MAX_KEY_BYTES, 0xab);
        await e.write((tx) => tx.put('inodes', longest, b(1)));
        assert.deepEqual(await e.read((tx) => tx.get('inodes', longest)), b(1));
        await assert.rejects(e.write((tx) => tx.put('inodes', Buffer.alloc(0), b(1))));
        await assert.rejects(e.write((tx) => tx.put('inodes', Buffer.alloc(MAX_KEY_BYTES + 1, 1), b(1))));
        await assert.rejects(e.write((tx) => tx.put('inodes', Buffer.alloc(4096, 1), b(1))));
        await e.read(async (tx) => {
          assert.equal(await tx.get('inodes', Buffer.alloc(0)), undefined);
          assert.equal(await tx.has('inodes', Buffer.alloc(MAX_KEY_BYTES + 1, 1)), false);
          assert.equal(await tx.count('inodes'), 1, 'refused puts left nothing');
        });
      }));

    it('commits nothing from a transaction that throws, across collections', () =>
      withStore(async (e) => {
        await e.write((tx) => tx.put('meta', b(1), b(1)));
        const boom = new Error('boom');
        await assert.rejects(
          e.write(async (tx) => {
            await tx.put('meta', b(1), b(2));
            await tx.put('inodes', b(2), b(2));
            await tick();
            await tx.put('chunks', b(3), Buffer.alloc(70_000, 3));
            await tx.del('meta', b(1));
            throw boom;
          }),
          (err) => err === boom,
        );
        await assert.rejects(
          e.write(async (tx) => {
            await tx.put('oplog', b(4), b(4));
            await sleep(5);
            return Promise.reject(new Error('late'));
          }),
          /late/,
        );
        await e.read(async (tx) => {
          assert.deepEqual(await tx.get('meta', b(1)), b(1));
          assert.equal(await tx.has('inodes', b(2)), false);
          assert.equal(await tx.has('chunks', b(3)), false);
          assert.equal(await tx.count('oplog'), 0);
        });
        // The store still takes writes after a failed one.
        await e.write((tx) => tx.put('meta', b(5), b(5)));
        assert.deepEqual(await e.read((tx) => tx.get('meta', b(5))), b(5));
      }));

    it('shows a write transaction its own puts and deletes', () =>
      withStore(async (e) => {
        await putAll(e, 'dirents', [b(1), b(2), b(3)]);
        const result = await e.write(async (tx: WriteTx) => {
          await tx.put('dirents', b(2, 5), b(25));
          await tx.del('dirents', b(2));
          await tx.put('dirents', b(4), b(4));
          await tick();
          return {
            got: await tx.get('dirents', b(2, 5)),
            gone: await tx.get('dirents', b(2)),
            has: await tx.has('dirents', b(4)),
            hasGone: await tx.has('dirents', b(2)),
            keys: (await tx.range('dirents')).map((x) => hex(x.key)),
            rev: (await tx.range('dirents', { reverse: true, limit: 2 })).map((x) => hex(x.key)),
            count: await tx.count('dirents'),
            prefixed: (await tx.range('dirents', { prefix: b(2) })).map((x) => hex(x.key)),
          };
        });
        assert.deepEqual(result.got, b(25));
        assert.equal(result.gone, undefined);
        assert.equal(result.has, true);
        assert.equal(result.hasGone, false);
        assert.deepEqual(result.keys, ['01', '0205', '03', '04']);
        assert.deepEqual(result.rev, ['04', '03']);
        assert.equal(result.count, 4);
        assert.deepEqual(result.prefixed, ['0205']);
      }));

    it('keeps a read snapshot while a write commits', () =>
      withStore(async (e) => {
        await e.write((tx) => tx.put('meta', COUNTER, u32(1)));
        let writeDone = false;
        const seen = await e.read(async (tx) => {
          const first = readU32(await tx.get('meta', COUNTER));
          // Started, not awaited: engines that interleave run it now, others after this read.
          const w = e.write(async (wtx) => {
            await wtx.put('meta', COUNTER, u32(2));
            await wtx.put('meta', b(0x7a), b(1));
            await sleep(30);
          });
          w.then(() => (writeDone = true), () => {});
          await sleep(10); // the write, if it runs, is open and uncommitted now
          const during = readU32(await tx.get('meta', COUNTER));
          const duringHas = await tx.has('meta', b(0x7a));
          await sleep(60); // and committed by now
          const after = readU32(await tx.get('meta', COUNTER));
          const keys = (await tx.range('meta')).map((x) => hex(x.key));
          return { first, during, duringHas, after, keys, w: { w } };
        });
        assert.deepEqual(
          { ...seen, w: undefined },
          { first: 1, during: 1, duringHas: false, after: 1, keys: [hex(COUNTER)], w: undefined },
        );
        await seen.w.w;
        assert.ok(writeDone);
        assert.equal(await e.read(async (tx) => readU32(await tx.get('meta', COUNTER))), 2, 'a later read sees the write');
      }));

    it('serialises 100 concurrent read-modify-write transactions', () =>
      withStore(async (e) => {
        await Promise.all(
          Array.from({ length: 100 }, () =>
            e.write(async (tx) => {
              const n = readU32(await tx.get('meta', COUNTER));
              await tick();
              await tx.put('meta', COUNTER, u32(n + 1));
            }),
          ),
        );
        assert.equal(await e.read(async (tx) => readU32(await tx.get('meta', COUNTER))), 100);
      }));

    it('runs concurrent reads beside writes without mixing them up', () =>
      withStore(async (e) => {
        const jobs: Promise<unknown>[] = [];
        for (let i = 0; i < 50; i++) {
          jobs.push(e.write((tx) => tx.put('inodes', u32(i), u32(i))));
          jobs.push(
            e.read(async (tx) => {
              const all = await tx.range('inodes');
              await tick();
              assert.equal(await tx.count('inodes'), all.length, 'one snapshot for the whole read');
              for (const x of all) assert.deepEqual(x.key, x.value);
            }),
          );
        }
        await Promise.all(jobs);
        assert.equal(await e.read((tx) => tx.count('inodes')), 50);
      }));

    it('fails cleanly once closed', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `avfs-${kind}-`));
      try {
        const e = await factory.open(dir, true);
        await e.write((tx) => tx.put('meta', b(1), b(1)));
        await e.close();
        await assert.rejects(e.read((tx) => tx.get('meta', b(1))), Error);
        await assert.rejects(e.write((tx) => tx.put('meta', b(1), b(2))), Error);
        await e.close(); // twice is fine
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('reports stats, checks clean, compacts and syncs', () =>
      withStore(async (e) => {
        await putAll(e, 'meta', TRICKY_KEYS);
        await e.write(async (tx) => {
          for (let i = 0; i < 40; i++) await tx.put('chunks', u32(i), Buffer.alloc(65536, i));
        });
        await e.write(async (tx) => {
          for (let i = 0; i < 40; i++) await tx.del('chunks', u32(i));
        });
        await e.sync();
        const s = await e.stats();
        assert.equal(s.engine, kind);
        assert.equal(s.entries.meta, TRICKY_KEYS.length);
        assert.equal(s.entries.chunks ?? 0, 0);
        assert.ok(factory.persistent ? s.bytesOnDisk > 0 : s.bytesOnDisk === 0);
        assert.deepEqual(await e.check(), []);
        const c = await e.compact();
        assert.ok(c.bytesAfter >= 0 && c.bytesAfter <= c.bytesBefore, JSON.stringify(c));
        assert.equal(await e.read((tx) => tx.count('meta')), TRICKY_KEYS.length, 'compaction kept the data');
        assert.deepEqual(await e.check(), []);
      }));

    it('copies the whole store to a new path, as one committed state (copyTo, where offered)', (t) =>
      withStore(async (e, dir) => {
        if (!e.copyTo) {
          t.skip(`the ${kind} engine offers no copyTo`);
          return;
        }
        await putAll(e, 'meta', TRICKY_KEYS);
        await e.write(async (tx) => {
          for (let i = 0; i < 2000; i++) await tx.put('inodes', u32(i), Buffer.alloc(50, i & 0xff));
          for (let i = 0; i < 3; i++) await tx.put('chunks', u32(i), Buffer.alloc(100_000, i + 1));
        });
        // Freed space the copy need not carry.
        await e.write(async (tx) => {
          for (let i = 0; i < 2000; i += 2) await tx.del('inodes', u32(i));
        });
        const copyDir = path.join(dir, 'copy');
        fs.mkdirSync(copyDir);
        const dest = storePath(copyDir, kind);
        // A write racing the copy lands wholly in it or wholly outside it.
        const [, raced] = await Promise.all([
          e.copyTo(dest),
          e.write(async (tx) => {
            for (let i = 0; i < 100; i++) await tx.put('oplog', u32(i), u32(i));
          }),
        ]);
        assert.equal(raced, undefined);
        const dump = (x: Engine, coll: Collection) =>
          x.read(async (tx) => {
            const out: string[] = [];
            for await (const en of scan(tx, coll)) out.push(`${hex(en.key)}=${hex(en.value)}`);
            return out;
          });
        const copy = await factory.open(copyDir, false);
        try {
          for (const c of COLLECTION_NAMES) {
            if (c === 'oplog') continue;
            assert.deepEqual(await dump(copy, c), await dump(e, c), `collection ${c} copied whole`);
          }
          const n = await copy.read((tx) => tx.count('oplog'));
          assert.ok(n === 0 || n === 100, `the racing write is all in or all out of the copy (${n} of 100 keys)`);
          assert.deepEqual(await copy.check(), []);
          // Two stores from here on: a write to one does not show in the other.
          await copy.write((tx) => tx.put('meta', b(0xc0), b(1)));
          await e.write((tx) => tx.put('meta', b(0xc1), b(2)));
          assert.equal(await e.read((tx) => tx.has('meta', b(0xc0))), false);
          assert.equal(await copy.read((tx) => tx.has('meta', b(0xc1))), false);
        } finally {
          await copy.close();
        }
        await assert.rejects(e.copyTo(dest), (err) => assertRefused(err, ['EEXIST']));
        await assert.rejects(e.copyTo(storePath(path.join(dir, 'no', 'such'), kind)), (err) => assertRefused(err, ['ENOENT']));
        assert.ok(!fs.existsSync(path.join(dir, 'no')), 'a refused copy leaves nothing');
        assert.equal(await e.read((tx) => tx.count('oplog')), 100, 'the store is still in use after copying');
      }));

    describe('persistence', { skip: !factory.persistent && 'not persistent' }, () => {
      it('keeps data across close and reopen', () =>
        withDir(async (dir) => {
          const e1 = await factory.open(dir, true);
          await putAll(e1, 'dirents', TRICKY_KEYS);
          await e1.write((tx) => tx.put('chunks', b(1), Buffer.alloc(100_000, 7)));
          await e1.close();
          const e2 = await factory.open(dir, false);
          try {
            const keys = await e2.read(async (tx) => (await tx.range('dirents')).map((x) => hex(x.key)));
            assert.deepEqual(keys, sortKeys(TRICKY_KEYS).map(hex));
            assert.ok((await e2.read((tx) => tx.get('chunks', b(1))))!.equals(Buffer.alloc(100_000, 7)));
          } finally {
            await e2.close();
          }
        }));

      it('refuses a missing store when not creating (ENOVAULT)', () =>
        withDir(async (dir) => {
          await assert.rejects(factory.open(dir, false), (err) => assertRefused(err, ['ENOVAULT']));
          assert.ok(!fs.existsSync(storePath(dir, kind)), 'nothing was created');
        }));

      // A server-side store has no file to plant garbage in or truncate (postgres).
      const files = kind !== 'postgres';
      it('refuses garbage where the store should be (ENOTVAULT/ECORRUPT)', { skip: !files && 'no store file' }, async () => {
        const random = Buffer.alloc(65536);
        for (let i = 0; i < random.length; i++) random[i] = (i * 7919 + (i >> 3) * 31) & 0xff;
        const text = Buffer.from('this is a text file, not a vault\n'.repeat(200));
        const plants: [string, (dir: string) => void][] = [
          ['random bytes as the store', (dir) => fs.writeFileSync(storePath(dir, kind), random)],
          ['a text file as the store', (dir) => fs.writeFileSync(storePath(dir, kind), text)],
          ['a tiny file as the store', (dir) => fs.writeFileSync(storePath(dir, kind), 'hi\n')],
        ];
        if (kind === 'lmdb' || kind === 'log' || kind === 'rocksdb') {
          const inFolder = (data: Buffer | string) => (dir: string) => {
            fs.mkdirSync(storePath(dir, kind));
            const signature = kind === 'log' ? 'avfs-log' : kind === 'rocksdb' ? 'avfs-rocksdb' : undefined;
            fs.writeFileSync(signature ? path.join(storePath(dir, kind), signature) : dataFile(dir, kind), data);
          };
          plants.push(['random data.mdb', inFolder(random)], ['text data.mdb', inFolder(text)], ['tiny data.mdb', inFolder('hi\n')]);
          plants.push(['a folder of other files', (dir) => {
            fs.mkdirSync(storePath(dir, kind));
            fs.writeFileSync(path.join(storePath(dir, kind), 'notes.txt'), text);
          }]);
        } else {
          plants.push(['a folder as the store', (dir) => fs.mkdirSync(storePath(dir, kind))]);
        }
        for (const [what, plant] of plants) {
          await withDir(async (dir) => {
            plant(dir);
            for (const create of [false, true]) {
              await assert.rejects(factory.open(dir, create), (err) => assertRefused(err, ['ENOTVAULT', 'ECORRUPT']), `${what}, create=${create}`);
            }
          });
        }
      });

      it('refuses a truncated store without crashing (ECORRUPT/ENOTVAULT)', { skip: !files && 'no store file' }, () =>
        withDir(async (dir) => {
          const e = await factory.open(dir, true);
          for (let round = 0; round < 8; round++) {
            await e.write(async (tx) => {
              for (let i = 0; i < 40; i++) {
                await tx.put('chunks', u32(round * 100 + i), Buffer.alloc(4096, i));
                await tx.put('inodes', u32(round * 100 + i), Buffer.alloc(100, i));
              }
            });
          }
          await e.close();
          const file = dataFile(dir, kind);
          fs.truncateSync(file, Math.floor(fs.statSync(file).size / 3));
          // In a child: an engine that trusts a damaged file may take its process down with it.
          const r = await runChild(writeScript(dir, 'open-read', OPEN_AND_READ_SCRIPT), kind, storePath(dir, kind));
          childOk(r, 'opening a truncated store');
          const out = JSON.parse(r.stdout) as { ok?: boolean; code?: string; name?: string; message?: string; problems?: string[] };
          assert.equal(out.ok, undefined, `opened and read a truncated store; check() said ${JSON.stringify(out.problems)}`);
          assert.equal(out.name, 'VfsError', out.message);
          assert.ok(['ECORRUPT', 'ENOTVAULT'].includes(out.code!), `${out.code}: ${out.message}`);
        }));
    });

    describe('several processes', { skip: !factory.multiProcess && 'single process only' }, () => {
      it('serialises read-modify-write transactions from 4 processes: 4 x 200 = 800', () =>
        withStore(async (e, dir) => {
          await e.write((tx) => tx.put('meta', COUNTER, u32(0)));
          const script = writeScript(dir, 'counter', COUNTER_SCRIPT);
          const runs = await Promise.all([1, 2, 3, 4].map(() => runChild(script, kind, storePath(dir, kind), ['200'])));
          runs.forEach((r, i) => childOk(r, `process ${i + 1}`));
          assert.equal(await e.read(async (tx) => readU32(await tx.get('meta', COUNTER))), 800);
        }));

      it('grows the store from several processes writing large values at once', () =>
        withStore(async (e, dir) => {
          const script = writeScript(dir, 'big', BIG_WRITES_SCRIPT);
          const runs = await Promise.all(['p1', 'p2', 'p3'].map((p) => runChild(script, kind, storePath(dir, kind), [p, '4', String(1 << 20)])));
          runs.forEach((r, i) => childOk(r, `process ${i + 1}`));
          await e.read(async (tx) => {
            assert.equal(await tx.count('chunks'), 12);
            for (const p of ['p1', 'p2', 'p3']) {
              for (let i = 0; i < 4; i++) assert.ok((await tx.get('chunks', Buffer.from(`${p}-${i}`)))!.equals(Buffer.alloc(1 << 20, i + 1)));
            }
          });
        }));

      it('keeps a read snapshot while another process commits', () =>
        withStore(async (e, dir) => {
          await e.write((tx) => tx.put('meta', COUNTER, u32(1)));
          const script = writeScript(dir, 'set', SET_COUNTER_SCRIPT);
          const seen = await e.read(async (tx) => {
            const before = readU32(await tx.get('meta', COUNTER));
            const r = await runChild(script, kind, storePath(dir, kind), ['2']);
            childOk(r, 'writer process');
            return { before, after: readU32(await tx.get('meta', COUNTER)) };
          });
          assert.deepEqual(seen, { before: 1, after: 1 });
          assert.equal(await e.read(async (tx) => readU32(await tx.get('meta', COUNTER))), 2);
        }));

      it('recovers when a writer is killed in the middle of its transaction', () =>
        withStore(async (e, dir) => {
          await e.write((tx) => tx.put('meta', COUNTER, u32(1)));
          const stuck = startChild(writeScript(dir, 'stuck', STUCK_IN_WRITE_SCRIPT), kind, storePath(dir, kind), 'inside');
          await stuck.ready;
          stuck.child.kill('SIGKILL');
          assert.equal((await stuck.done).signal, 'SIGKILL');
          await e.write((tx) => tx.put('meta', COUNTER, u32(2)));
          await e.read(async (tx) => {
            assert.equal(readU32(await tx.get('meta', COUNTER)), 2);
            assert.equal(await tx.has('meta', b(...Buffer.from('ghost'))), false, 'the killed transaction left nothing');
          });
          assert.deepEqual(await e.check(), []);
        }));

      it('keeps a write that returned when its process is killed right after', () =>
        withDir(async (dir) => {
          await (await factory.open(dir, true)).close();
          const r = await runChild(writeScript(dir, 'killed', KILLED_AFTER_WRITE_SCRIPT), kind, storePath(dir, kind), ['25']);
          assert.equal(r.signal, 'SIGKILL', r.stderr);
          const e = await factory.open(dir, false);
          try {
            assert.equal(await e.read(async (tx) => readU32(await tx.get('meta', b(...Buffer.from('durable'))))), 25);
            assert.deepEqual(await e.check(), []);
          } finally {
            await e.close();
          }
        }));
    });
  });
}
