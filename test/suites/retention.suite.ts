// Retention and space: prune, gc, automatic pruning, limits, usage stats and vault config. Takes
// a factory and runs unchanged on every engine. Old versions are read straight from the
// inode_log rows (src/content/chunks.ts readContent), so these tests do not lean on the
// versions API.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Vault } from '../../src/index.js';
import type { VaultFactory } from './fs.suite.js';
import { scan, type ReadTx } from '../../src/storage/contract.js';
import { META_SEQ, decodeJson, readU64, type Inode, type OpRecord } from '../../src/core/records.js';
import { chunkList, putChunks, readContent, EMPTY_HASH } from '../../src/content/chunks.js';
import { putPendingMarker, listPendingMarkers, PENDING_TTL_MS } from '../../src/content/pending.js';
import { putSnapshot } from '../../src/history/snapshots.js';
import { code } from '../helpers/errors.js';
import { freshVaults } from '../helpers/vaults.js';

const DAY = 24 * 60 * 60 * 1000;

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: (e as { code?: string }).code ?? '?', message: (e as Error).message };
  }
  assert.fail('expected an error');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Row {
  ino: number;
  seq: number;
  node: Inode;
}

async function logRows(v: Vault, ino?: number): Promise<Row[]> {
  return v.engine.read(async (tx) => {
    const out: Row[] = [];
    for await (const e of scan(tx, 'inode_log')) {
      const r = { ino: readU64(e.key), seq: readU64(e.key, 8), node: decodeJson<Inode>(e.value) };
      if (ino === undefined || r.ino === ino) out.push(r);
    }
    return out;
  });
}

/** Every key and value of every collection: to prove that something changed nothing. */
async function dump(v: Vault): Promise<string> {
  return v.engine.read(async (tx) => {
    const parts: string[] = [];
    for (const c of ['meta', 'inodes', 'dirents', 'chunks', 'manifests', 'oplog', 'inode_log', 'dirent_log'] as const) {
      for await (const e of scan(tx, c)) parts.push(`${c} ${e.key.toString('hex')} ${createHash('sha256').update(e.value).digest('hex')}`);
    }
    return parts.join('\n');
  });
}

async function contentKeys(v: Vault): Promise<Map<string, number>> {
  return v.engine.read(async (tx) => {
    const m = new Map<string, number>();
    for (const c of ['chunks', 'manifests'] as const) for await (const e of scan(tx, c)) m.set(`${c}:${e.key.toString('hex')}`, e.value.length);
    return m;
  });
}

/** The content keys (chunks:…, manifests:…) one version needs. */
async function keysOf(tx: ReadTx, node: Inode, chunkSize: number): Promise<string[]> {
  if (node.type !== 'file' || node.size === 0) return [];
  const ref = { hash: node.hash ?? EMPTY_HASH, size: node.size };
  const out = (await chunkList(tx, ref, chunkSize)).map((h) => `chunks:${h.toString('hex')}`);
  if (node.size > chunkSize) out.push(`manifests:${node.hash}`);
  return out;
}

/** Read every remaining file version from its row, and check it against its content id. */
async function readAllVersions(v: Vault): Promise<number> {
  const chunkSize = v.record.chunkSize;
  const rows = await logRows(v);
  return v.engine.read(async (tx) => {
    let n = 0;
    for (const r of rows) {
      if (r.node.type !== 'file') continue;
      const data = await readContent(tx, { hash: r.node.hash ?? EMPTY_HASH, size: r.node.size }, chunkSize);
      assert.equal(data.length, r.node.size);
      if (r.node.size <= chunkSize) assert.equal(createHash('sha256').update(data).digest('hex'), r.node.hash, `row ${r.ino}/${r.seq}`);
      n++;
    }
    return n;
  });
}

async function currentSeq(v: Vault): Promise<number> {
  return v.engine.read(async (tx) => {
    const raw = await tx.get('meta', META_SEQ);
    return raw ? readU64(raw) : 0;
  });
}

/** A snapshot at the current operation (written as the snapshot module stores it). */
async function snapshotNow(v: Vault, name: string): Promise<number> {
  const seq = await currentSeq(v);
  await v.engine.write((tx) => putSnapshot(tx, { name, seq, timeMs: Date.now(), actor: 'test', auto: false }));
  return seq;
}

async function oplog(v: Vault): Promise<OpRecord[]> {
  return v.engine.read(async (tx) => {
    const out: OpRecord[] = [];
    for await (const e of scan(tx, 'oplog')) out.push(decodeJson<OpRecord>(e.value));
    return out;
  });
}

const versionsOf = (rows: Row[]): number[] => [...new Set(rows.map((r) => r.node.version))];

export function retentionSuite(f: VaultFactory): void {
  describe(`retention and space on ${f.kind}`, () => {
    const { fresh, reopen } = freshVaults(f, 'avfs-ret');

    it('prune --keep keeps the current state and snapshot-pinned versions, drops the rest; dry-run changes nothing', async () => {
      const v = await fresh();
      for (let i = 1; i <= 2; i++) await v.writeFile('/a.txt', `a${i}`);
      await v.chmod('/a.txt', 0o600); // a metadata row inside version 2
      await v.writeFile('/a.txt', 'a3');
      const snapSeq = await snapshotNow(v, 'before-4');
      for (let i = 4; i <= 6; i++) await v.writeFile('/a.txt', `a${i}`);
      for (let i = 1; i <= 3; i++) await v.writeFile('/gone.txt', `g${i}`);
      await v.rm('/gone.txt');
      await v.writeFile('/one.txt', 'only');
      await v.mkdir('/d');
      const ino = (await v.stat('/a.txt')).ino;
      const rowsBefore = await logRows(v, ino);
      assert.deepEqual(versionsOf(rowsBefore), [1, 2, 3, 4, 5, 6]);
      assert.equal(rowsBefore.length, 7);
      const otherRows = (await logRows(v)).filter((r) => r.node.type !== 'file');

      const before = await dump(v);
      const dry = await v.prune({ keep: 2, dryRun: true });
      assert.equal(await dump(v), before, 'a dry run changes nothing');
      assert.equal(dry.dryRun, true);

      const r = await v.prune({ keep: 2 });
      assert.deepEqual({ ...dry, dryRun: false }, r, 'the dry run reported exactly what prune did');
      // a.txt: versions 1, 2 (two rows), 4 go; 3 stays for the snapshot; 5 and 6 are the newest two.
      // gone.txt: versions 1 goes (2 and 3 are the newest two; 3 is its last state).
      assert.equal(r.rows, 5);
      assert.equal(r.versions, 4);
      assert.equal(r.pinned, 1);
      assert.deepEqual(
        r.files.map((x) => [x.path, x.current, x.rows, x.versions]),
        [
          ['/a.txt', true, 4, [1, 2, 4]],
          ['/gone.txt', false, 1, [1]],
        ],
      );
      const after = await logRows(v, ino);
      assert.deepEqual(versionsOf(after), [3, 5, 6]);
      const pinned = after.find((x) => x.node.version === 3)!;
      assert.ok(pinned.seq <= snapSeq, 'the pinned row is the state at the snapshot');
      assert.deepEqual((await logRows(v)).filter((x) => x.node.type !== 'file'), otherRows, 'folder rows are never pruned');
      assert.equal(await v.readText('/a.txt'), 'a6');
      assert.equal(await v.readText('/one.txt'), 'only');

      // Pruning again finds nothing; keep 0 acts as keep 1 (the current version always stays).
      assert.equal((await v.prune({ keep: 2 })).rows, 0);
      const r0 = await v.prune({ keep: 0 });
      assert.deepEqual(r0.files.map((x) => [x.path, x.versions]), [['/a.txt', [5]], ['/gone.txt', [2]]]);
      assert.deepEqual(versionsOf(await logRows(v, ino)), [3, 6]);
      assert.equal((await v.check()).ok, true);
      const ops = await oplog(v);
      assert.equal(ops.filter((o) => o.op === 'prune').length, 2, 'each prune that removed rows is one operation');
    });

    it('prune --older-than drops versions replaced more than D days ago', async () => {
      const v = await fresh();
      await v.writeFile('/t.txt', 'v1');
      await sleep(5);
      await v.writeFile('/t.txt', 'v2');
      await sleep(5);
      const mid = Date.now();
      await sleep(5);
      await v.writeFile('/t.txt', 'v3');
      const ino = (await v.stat('/t.txt')).ino;
      assert.equal((await v.prune({ olderThanDays: 1 })).rows, 0, 'nothing is a day old yet');
      // A day after `mid`: v1 was replaced before it, v2 after it (so v2 is still needed).
      const r = await v.prune({ olderThanDays: 1, nowMs: mid + DAY, dryRun: true });
      assert.deepEqual(r.files.map((x) => x.versions), [[1]]);
      await v.prune({ olderThanDays: 1, nowMs: mid + DAY });
      assert.deepEqual(versionsOf(await logRows(v, ino)), [2, 3]);
      await v.prune({ olderThanDays: 0 });
      assert.deepEqual(versionsOf(await logRows(v, ino)), [3], 'older-than 0: every replaced version');
      assert.equal(await v.readText('/t.txt'), 'v3');
    });

    it('prune refuses conflicting or missing rules and bad numbers, changing nothing', async () => {
      const v = await fresh();
      await v.writeFile('/x', '1');
      await v.writeFile('/x', '2');
      const before = await dump(v);
      for (const opts of [{}, { keep: 1, olderThanDays: 1 }, { keep: -1 }, { keep: 1.5 }, { olderThanDays: -2 }, { olderThanDays: Number.NaN }] as const) {
        const e = await failure(v.prune(opts as never));
        assert.equal(e.code, 'EINVAL', JSON.stringify(opts));
        assert.match(e.message, /prune/);
      }
      assert.equal(await dump(v), before);
    });

    it('gc frees exactly the unreferenced content; every remaining version still reads back', async () => {
      const v = await fresh();
      const cs = v.record.chunkSize;
      const big = randomBytes(3 * cs + 100); // a manifest and 4 chunks
      await v.writeFile('/big.bin', big);
      await v.writeAt('/big.bin', cs + 5, Buffer.from('Z')); // one new chunk + a new manifest
      await v.appendFile('/big.bin', randomBytes(10)); // new last chunk + manifest
      await v.writeFile('/s.txt', 'small one');
      await v.writeFile('/s.txt', 'small two');
      await v.writeFile('/shared1', 'shared content');
      await v.writeFile('/shared2', 'shared content');
      await v.writeFile('/shared1', 'shared1 moved on'); // its v1 content is still /shared2's
      await v.writeFile('/e', '');
      await v.writeFile('/e', 'now something');
      // Garbage nothing refers to (a write that never finished, say).
      const [orphan] = await v.engine.write((tx) => putChunks(tx, [Buffer.from('orphan chunk')]));
      await v.prune({ keep: 1 });

      // What gc should leave: the content of every current inode and every remaining row.
      const rows = await logRows(v);
      const keep = await v.engine.read(async (tx) => {
        const s = new Set<string>();
        for (const r of rows) for (const k of await keysOf(tx, r.node, cs)) s.add(k);
        for await (const e of scan(tx, 'inodes')) for (const k of await keysOf(tx, decodeJson<Inode>(e.value), cs)) s.add(k);
        return s;
      });
      const all = await contentKeys(v);
      const gone = [...all].filter(([k]) => !keep.has(k));
      assert.ok(gone.some(([k]) => k === `chunks:${orphan.toString('hex')}`));
      assert.ok(gone.some(([k]) => k.startsWith('manifests:')), 'old manifests are garbage too');

      const before = await dump(v);
      const dry = await v.gc({ dryRun: true });
      assert.equal(await dump(v), before, 'gc --dry-run changes nothing');
      const r = await v.gc();
      assert.deepEqual({ ...dry, dryRun: false }, r);
      const removed = (p: string): [string, number][] => gone.filter(([k]) => k.startsWith(p));
      assert.equal(r.chunks.removed, removed('chunks:').length);
      assert.equal(r.manifests.removed, removed('manifests:').length);
      assert.equal(r.chunks.bytes, removed('chunks:').reduce((s, [, b]) => s + b, 0));
      assert.equal(r.bytesFreed, gone.reduce((s, [, b]) => s + b, 0));
      assert.equal(r.chunks.total, [...all.keys()].filter((k) => k.startsWith('chunks:')).length);
      assert.equal(r.chunksSkipped, false);
      assert.deepEqual([...(await contentKeys(v)).keys()].sort(), [...keep].sort(), 'exactly the referenced content is left');

      const chk = await v.check();
      assert.deepEqual(chk.problems, []);
      assert.equal(await readAllVersions(v), 5, 'one version of each of the five files');
      const expect = Buffer.from(big);
      expect[cs + 5] = 'Z'.charCodeAt(0);
      assert.ok((await v.readFile('/big.bin')).subarray(0, big.length).equals(expect));
      assert.equal(await v.readText('/shared2'), 'shared content');
      assert.equal((await v.gc()).bytesFreed, 0, 'a second gc finds nothing');
      assert.ok((await oplog(v)).some((o) => o.op === 'gc'));
    });

    it('gc keeps content of versions pinned by snapshots and of deleted files\' last state', async () => {
      const v = await fresh();
      await v.writeFile('/p', 'p1');
      await snapshotNow(v, 'snap');
      await v.writeFile('/p', 'p2');
      await v.writeFile('/p', 'p3');
      await v.writeFile('/del', 'last words');
      await v.rm('/del');
      await v.prune({ keep: 1 });
      await v.gc();
      assert.deepEqual((await v.check()).problems, []);
      const rows = await logRows(v);
      const texts = await v.engine.read(async (tx) => {
        const out: string[] = [];
        for (const r of rows) {
          if (r.node.type === 'file') out.push((await readContent(tx, { hash: r.node.hash!, size: r.node.size }, v.record.chunkSize)).toString());
        }
        return out;
      });
      assert.deepEqual(texts.sort(), ['last words', 'p1', 'p3']);
    });

    it('gc leaves chunks alone while a streamed write is in flight, and removes stale markers', async () => {
      const v = await fresh();
      const [orphan] = await v.engine.write((tx) => putChunks(tx, [Buffer.from('unreferenced')]));
      await v.engine.write((tx) => putPendingMarker(tx));
      const r = await v.gc();
      assert.equal(r.chunksSkipped, true);
      assert.equal(r.pendingWrites, 1);
      assert.equal(r.chunks.removed, 0);
      assert.match(r.notes.join(' '), /streamed write/);
      assert.equal(await v.engine.read((tx) => tx.has('chunks', orphan)), true);
      // An hour later the marker is a dead writer's: removed, and the sweep runs.
      const later = await v.gc({ nowMs: Date.now() + PENDING_TTL_MS + 1000 });
      assert.equal(later.staleMarkers, 1);
      assert.equal(later.chunksSkipped, false);
      assert.equal(later.chunks.removed, 1);
      assert.equal(await v.engine.read((tx) => tx.has('chunks', orphan)), false);
      assert.deepEqual(await v.engine.read((tx) => listPendingMarkers(tx)), []);
    });

    it('a streamed write marks itself pending while storing chunks ahead, and cleans up either way', async () => {
      const v = await fresh();
      const cs = v.record.chunkSize;
      const data = randomBytes(70 * cs + 17); // more than one group of 64 chunks: stored ahead
      const seen: { markers: number; gc?: boolean }[] = [];
      async function* pieces(): AsyncGenerator<Buffer> {
        for (let off = 0; off < data.length; off += 8 * cs) {
          if (off >= 64 * cs && seen.length === 0) {
            // The first group is stored, the file does not point at it yet: gc must not take it.
            const markers = (await v.engine.read((tx) => listPendingMarkers(tx))).length;
            const r = await v.gc();
            seen.push({ markers, gc: r.chunksSkipped });
          }
          yield data.subarray(off, off + 8 * cs);
        }
      }
      await v.writeStream('/streamed', pieces());
      assert.deepEqual(seen, [{ markers: 1, gc: true }]);
      assert.ok((await v.readFile('/streamed')).equals(data));
      assert.deepEqual(await v.engine.read((tx) => listPendingMarkers(tx)), [], 'the last transaction removed the marker');

      async function* failing(): AsyncGenerator<Buffer> {
        yield randomBytes(65 * cs);
        throw new Error('input broke');
      }
      await assert.rejects(v.writeStream('/broken', failing()), /input broke/);
      assert.deepEqual(await v.engine.read((tx) => listPendingMarkers(tx)), [], 'a failed write removes its marker');
      assert.equal(await v.exists('/broken'), false);
      const r = await v.gc();
      assert.ok(r.chunks.removed >= 64, 'the abandoned chunks are garbage');
      assert.ok((await v.readFile('/streamed')).equals(data));
      assert.deepEqual((await v.check()).problems, []);
    });

    it('automatic pruning: prune_strategy keep_count prunes each file as it is written', async () => {
      const v = await fresh();
      await v.writeFile('/other', 'o1');
      await v.writeFile('/other', 'o2');
      await v.setConfig('prune_strategy', 'keep_count');
      await v.setConfig('prune_keep_count', 2);
      for (let i = 1; i <= 5; i++) await v.writeFile('/auto.txt', `v${i}`);
      const ino = (await v.stat('/auto.txt')).ino;
      assert.deepEqual(versionsOf(await logRows(v, ino)), [4, 5]);
      assert.deepEqual(versionsOf(await logRows(v, (await v.stat('/other')).ino)), [1, 2], 'files not written are left alone');
      const snap = await snapshotNow(v, 's');
      await v.batch(async (b) => {
        await b.writeFile('/auto.txt', 'v6');
        await b.writeFile('/auto.txt', 'v7');
        await b.writeFile('/auto.txt', 'v8');
      });
      const rows = await logRows(v, ino);
      assert.deepEqual(versionsOf(rows), [5, 7, 8], 'v5 stays for the snapshot; one batch prunes once at its end');
      assert.ok(rows[0].seq <= snap);
      const last = (await oplog(v)).at(-1)!;
      assert.equal(last.info?.pruned, 2, 'v4 and v6');
      assert.equal(await v.readText('/auto.txt'), 'v8');
      // Renames and metadata changes are no new version: nothing is pruned by them.
      await v.chmod('/auto.txt', 0o600);
      assert.deepEqual(versionsOf(await logRows(v, ino)), [5, 7, 8]);
      await v.setConfig('prune_strategy', 'none');
      await v.writeFile('/auto.txt', 'v9');
      assert.deepEqual(versionsOf(await logRows(v, ino)), [5, 7, 8, 9]);
      assert.deepEqual((await v.check()).problems, []);
    });

    it('automatic pruning: prune_strategy older_than drops what was replaced long enough ago', async () => {
      const v = await fresh();
      await v.setConfig('prune_strategy', 'older_than');
      await v.setConfig('prune_older_than_days', 1);
      const realNow = Date.now;
      const t0 = realNow();
      let fake = t0;
      Date.now = () => fake;
      try {
        await v.writeFile('/o.txt', 'v1');
        fake = t0 + 2 * DAY;
        await v.writeFile('/o.txt', 'v2'); // v1 replaced just now: kept
        const ino = (await v.stat('/o.txt')).ino;
        assert.deepEqual(versionsOf(await logRows(v, ino)), [1, 2]);
        fake = t0 + 4 * DAY;
        await v.writeFile('/o.txt', 'v3'); // v1 was replaced two days ago: goes
        assert.deepEqual(versionsOf(await logRows(v, ino)), [2, 3]);
      } finally {
        Date.now = realNow;
      }
    });

    it('maintain prunes by the vault config, then gc, then compact', async () => {
      const v = await fresh();
      for (let i = 1; i <= 4; i++) await v.writeFile('/m.txt', `m${i}`);
      const none = await v.maintain();
      assert.equal(none.prune, null);
      assert.match(none.pruneSkipped ?? '', /no prune_strategy/);
      assert.equal(none.gc.bytesFreed, 0);
      assert.ok(none.compact);
      await v.setConfig('prune_strategy', 'keep_count');
      assert.match((await v.maintain()).pruneSkipped ?? '', /prune_keep_count/);
      await v.setConfig('prune_keep_count', 1);
      const before = await dump(v);
      const dry = await v.maintain({ dryRun: true });
      assert.equal(await dump(v), before);
      assert.equal(dry.compact, null);
      const r = await v.maintain();
      assert.equal(r.prune?.versions, 3);
      assert.equal(r.gc.chunks.removed, 3);
      assert.equal(r.gc.bytesFreed, 6);
      assert.equal(r.compact?.backend, f.kind);
      assert.deepEqual((await v.check()).problems, []);
      assert.equal(await v.readText('/m.txt'), 'm4');
    });

    it('max_file_size_mb: a larger file is EFBIG naming the limit, nothing changes', async () => {
      const v = await fresh();
      await v.setConfig('max_file_size_mb', 0.01); // 10,485 bytes
      await v.writeFile('/ok', Buffer.alloc(10_000, 1));
      const before = await dump(v);
      const e = await failure(v.writeFile('/big', Buffer.alloc(20_000, 2)));
      assert.equal(e.code, 'EFBIG');
      assert.match(e.message, /max_file_size_mb=0\.01/);
      assert.equal(await code(v.appendFile('/ok', Buffer.alloc(1000, 3))), 'EFBIG');
      assert.equal(await code(v.writeAt('/ok', 20_000, Buffer.from('x'))), 'EFBIG');
      assert.equal(await code(v.truncate('/ok', 50_000)), 'EFBIG');
      assert.equal(await code(v.batch(async (b) => {
        await b.writeFile('/fine', 'small');
        await b.writeFile('/big2', Buffer.alloc(11_000));
      })), 'EFBIG');
      assert.equal(await v.exists('/big'), false);
      assert.equal(await v.exists('/fine'), false, 'the whole batch was refused');
      assert.equal((await v.stat('/ok')).size, 10_000);
      const after = await dump(v);
      const strip = (d: string): string => d.split('\n').filter((l) => !l.startsWith('oplog ') && !l.startsWith('meta 736571 ')).join('\n');
      assert.equal(strip(after), strip(before), 'no file, version or entry changed');
      await v.truncate('/ok', 10); // shrinking is always allowed
      assert.equal((await v.stat('/ok')).size, 10);
    });

    it('max_file_size_mb: a streamed write is refused as soon as its input passes the limit', async () => {
      const v = await fresh();
      await v.setConfig('max_file_size_mb', 1);
      let yielded = 0;
      async function* endless(): AsyncGenerator<Buffer> {
        for (let i = 0; i < 1000; i++) {
          yielded++;
          yield Buffer.alloc(64 * 1024, i & 0xff);
        }
      }
      const chunksBefore = (await contentKeys(v)).size;
      const e = await failure(v.writeStream('/huge', endless()));
      assert.equal(e.code, 'EFBIG');
      assert.match(e.message, /max_file_size_mb=1/);
      assert.ok(yielded <= 17, `stopped reading early (read ${yielded} pieces of 1000)`);
      assert.ok((await contentKeys(v)).size - chunksBefore <= 16, 'stored at most the bytes before the limit');
      assert.equal(await v.exists('/huge'), false);
      assert.deepEqual(await v.engine.read((tx) => listPendingMarkers(tx)), []);
      async function* exact(): AsyncGenerator<Buffer> {
        yield Buffer.alloc(1024 * 1024, 7);
      }
      assert.equal((await v.writeStream('/exactly-1mb', exact())).size, 1024 * 1024, 'the limit itself is allowed');
    });

    it('max_files: one file too many is EDQUOT naming the limit; a vault over its quota can still delete', async () => {
      const v = await fresh();
      await v.writeFile('/1', 'a');
      await v.writeFile('/2', 'b');
      await v.setConfig('max_files', 2);
      const e = await failure(v.writeFile('/3', 'c'));
      assert.equal(e.code, 'EDQUOT');
      assert.match(e.message, /max_files=2/);
      assert.equal(await code(v.copy('/1', '/1-copy')), 'EDQUOT');
      assert.equal(await code(v.touch('/t')), 'EDQUOT');
      assert.deepEqual((await v.readdir('/')).map((d) => d.name), ['1', '2']);
      await v.writeFile('/2', 'bb'); // replacing adds no file
      await v.mkdir('/dir'); // folders are not files
      await v.rename('/2', '/dir/2');
      // Over quota (the limit lowered below what is there): removing still works, adding does not.
      await v.setConfig('max_files', 0);
      assert.equal(await code(v.writeFile('/4', 'd')), 'EDQUOT');
      await v.writeFile('/1', 'changed'); // no new file
      await v.rm('/dir/2');
      await v.unlink('/1');
      assert.equal((await v.usageStats()).files, 0);
      await v.unsetConfig('max_files');
      await v.writeFile('/5', 'e');
    });

    it('max_size_mb: growth past the limit is EDQUOT naming it; shrinking and deleting always work', async () => {
      const v = await fresh();
      await v.setConfig('max_size_mb', 0.01); // 10,485 bytes of current content
      await v.writeFile('/a', Buffer.alloc(6000));
      const e = await failure(v.writeFile('/b', Buffer.alloc(6000)));
      assert.equal(e.code, 'EDQUOT');
      assert.match(e.message, /max_size_mb=0\.01/);
      assert.equal(await code(v.appendFile('/a', Buffer.alloc(5000))), 'EDQUOT');
      assert.equal(await code(v.copy('/a', '/a2')), 'EDQUOT');
      assert.equal((await v.stat('/a')).size, 6000);
      assert.equal(await v.exists('/b'), false);
      await v.writeFile('/b', Buffer.alloc(4000));
      await v.setConfig('max_size_mb', 0.001); // now over quota
      assert.equal(await code(v.appendFile('/b', 'x')), 'EDQUOT');
      await v.truncate('/a', 100);
      await v.rm('/b');
      assert.equal((await v.usageStats()).logicalBytes, 100);
    });

    it('stats on a known vault: counts, bytes and the dedup ratio', async () => {
      const v = await fresh();
      const same = Buffer.alloc(1000, 'x');
      await v.writeFile('/d/a', same);
      await v.writeFile('/d/b', same); // identical: stored once
      await v.writeFile('/c', Buffer.alloc(1000, 'y'));
      await v.symlink('/d/a', '/link');
      const s = await v.usageStats();
      assert.equal(s.backend, f.kind);
      assert.equal(s.files, 3);
      assert.equal(s.directories, 2);
      assert.equal(s.symlinks, 1);
      assert.equal(s.versions, 3);
      assert.equal(s.snapshots, 0);
      assert.equal(s.logicalBytes, 3000);
      assert.equal(s.versionBytes, 3000);
      assert.deepEqual(s.chunks, { count: 2, bytes: 2000 });
      assert.deepEqual(s.manifests, { count: 0, bytes: 0 });
      assert.equal(s.storedBytes, 2000);
      assert.equal(s.dedupRatio, 1.5);
      assert.equal(s.topVersions, undefined);
      assert.equal(s.engine, undefined);
      if (f.persistent) assert.ok(s.bytesOnDisk > 0);

      await v.writeFile('/c', Buffer.alloc(500, 'z')); // a second version of /c
      await snapshotNow(v, 'one');
      await v.writeFile('/gone', 'bye');
      await v.rm('/gone');
      const t = await v.usageStats({ versions: true, top: 2, backendInfo: true });
      assert.equal(t.files, 3);
      assert.equal(t.versions, 5);
      assert.equal(t.snapshots, 1);
      assert.equal(t.logicalBytes, 2500);
      assert.equal(t.versionBytes, 3000 + 500 + 3);
      assert.equal(t.storedBytes, 2000 + 500 + 3);
      assert.equal(t.dedupRatio, Math.round((3503 / 2503) * 1000) / 1000);
      assert.deepEqual(t.topVersions?.map((x) => [x.path, x.versions, x.current]), [['/c', 2, true], ['/d/a', 1, true]]);
      assert.equal(t.engine?.engine, f.kind);
      assert.equal(await code(v.usageStats({ top: 0 })), 'EINVAL');
      const empty = await (await fresh()).usageStats();
      assert.equal(empty.dedupRatio, null);
    });

    it('vault config: set, get, unset, validated, each change an operation', async () => {
      const v = await fresh();
      assert.deepEqual(await v.getConfig(), {});
      assert.deepEqual(await v.setConfig('max_files', '10'), { max_files: 10 });
      await v.setConfig('prune_strategy', 'keep_count');
      await v.setConfig('max_size_mb', 2.5);
      assert.deepEqual(await v.getConfig(), { max_files: 10, prune_strategy: 'keep_count', max_size_mb: 2.5 });
      const before = await dump(v);
      for (const [k, val] of [['nope', 1], ['max_files', 'abc'], ['max_files', -1], ['max_files', 1.5], ['max_size_mb', 0], ['prune_strategy', 'sometimes']] as const) {
        const e = await failure(v.setConfig(k, val));
        assert.equal(e.code, 'EINVAL', `${k}=${val}`);
        assert.ok(e.message.includes(k), e.message);
      }
      assert.equal(await code(v.unsetConfig('nope')), 'EINVAL');
      assert.equal(await dump(v), before, 'a refused setting changes nothing');
      assert.deepEqual(await v.unsetConfig('max_files'), { prune_strategy: 'keep_count', max_size_mb: 2.5 });
      const ops = (await oplog(v)).filter((o) => o.op === 'config');
      assert.deepEqual(
        ops.map((o) => o.info),
        [
          { key: 'max_files', value: 10 },
          { key: 'prune_strategy', value: 'keep_count' },
          { key: 'max_size_mb', value: 2.5 },
          { key: 'max_files', unset: true },
        ],
      );
      if (f.persistent) {
        const again = await reopen();
        try {
          assert.deepEqual(await again.getConfig(), { prune_strategy: 'keep_count', max_size_mb: 2.5 });
        } finally {
          await again.close();
        }
      }
    });

    it('compact reports sizes before and after', async () => {
      const v = await fresh();
      // Two versions of 2 MB (more than the 1 MiB of dead bytes log compaction leaves alone); the first goes with prune and gc.
      await v.writeFile('/junk', randomBytes(2_000_000));
      await v.writeFile('/junk', randomBytes(2_000_000));
      await v.rm('/junk');
      await v.prune({ keep: 1 });
      await v.gc();
      const r = await v.compact();
      assert.equal(r.backend, f.kind);
      assert.equal(r.bytesFreed, Math.max(0, r.bytesBefore - r.bytesAfter));
      if (f.kind === 'sqlite') assert.ok(r.bytesAfter < r.bytesBefore, `sqlite shrinks: ${r.bytesBefore} -> ${r.bytesAfter}`);
      else if (f.kind === 'log') assert.ok(r.bytesFreed > 1_500_000, `log gives the removed file's chunks back: freed ${r.bytesFreed}`);
      else assert.ok(r.note);
      assert.deepEqual((await v.check()).problems, []);
    });
  });
}

