// The agent-memory suite: memories (ranked search), key/value, sessions, streams, agent state,
// bad input and the audit log. Runs unchanged on every engine.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Vault } from '../../src/index.js';
import type { Collection } from '../../src/storage/contract.js';
import { scan } from '../../src/storage/contract.js';
import type { VaultFactory } from './fs.suite.js';
import { code } from '../helpers/errors.js';

const MEMORY_COLLECTIONS: Collection[] = [
  'memories',
  'memory_tags',
  'memory_terms',
  'memory_postings',
  'kv',
  'kv_expiry',
  'sessions',
  'session_intents',
  'streams',
  'stream_heads',
  'agent_state',
];

/** A digest of everything agent memory stores (and the vault's id counters): "nothing changed" checks. */
async function memoryDigest(v: Vault): Promise<string> {
  const h = createHash('sha256');
  await v.engine.read(async (tx) => {
    for (const c of MEMORY_COLLECTIONS) {
      for await (const e of scan(tx, c)) h.update(c).update(e.key).update(e.value);
    }
    for (const k of ['memory/next_id', 'session/next_id']) h.update((await tx.get('meta', Buffer.from(k))) ?? 'none');
  });
  return h.digest('hex');
}

async function rows(v: Vault, c: Collection): Promise<number> {
  return v.engine.read((tx) => tx.count(c));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function collect<T>(it: AsyncIterable<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) {
    out.push(x);
    if (out.length >= n) break;
  }
  return out;
}

export function memorySuite(f: VaultFactory): void {
  describe(`agent memory on ${f.kind}`, () => {
    let dir: string;
    let n = 0;
    const open: Vault[] = [];
    before(() => {
      dir = mkdtempSync(join(tmpdir(), `avfs-mem-${f.kind}-`));
    });
    after(async () => {
      for (const v of open) await v.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    });
    const fresh = async (): Promise<{ v: Vault; d: string }> => {
      const d = join(dir, String(n++));
      mkdirSync(d);
      const v = await f.create(d);
      open.push(v);
      return { v, d };
    };

    describe('memories', () => {
      it('adds with tags, numbers 1, 2, 3..., gets, lists newest first and forgets', async () => {
        const { v } = await fresh();
        const a = await v.memoryAdd('The user prefers tabs over spaces', { tags: ['prefs', 'style'] });
        const b = await v.memoryAdd('Deploys happen on Fridays', { tags: ['ops'] });
        const c = await v.memoryAdd('The style guide lives in /docs/style.md', { tags: ['style', 'style'] });
        assert.deepEqual([a.id, b.id, c.id], [1, 2, 3]);
        assert.deepEqual(c.tags, ['style'], 'duplicate tags are kept once');
        assert.equal(typeof a.timeMs, 'number');
        assert.equal((await v.memoryGet(2)).text, 'Deploys happen on Fridays');
        assert.equal((await v.memoryGet('2')).id, 2, 'an id may come as text, as the CLI passes it');
        assert.deepEqual((await v.memoryList()).map((m) => m.id), [3, 2, 1]);
        assert.deepEqual((await v.memoryList({ tags: ['style'] })).map((m) => m.id), [3, 1]);
        assert.deepEqual((await v.memoryList({ tags: ['style', 'prefs'] })).map((m) => m.id), [1]);
        assert.deepEqual((await v.memoryList({ tags: ['nope'] })).map((m) => m.id), []);
        assert.deepEqual((await v.memoryList({ limit: 2 })).map((m) => m.id), [3, 2]);
        assert.deepEqual((await v.memoryList({ since: Date.now() + 60_000 })).map((m) => m.id), []);
        assert.deepEqual((await v.memoryList({ since: '1h' })).map((m) => m.id), [3, 2, 1]);
        assert.deepEqual((await v.memoryList({ since: new Date(b.timeMs) })).map((m) => m.id)[0], 3);

        const gone = await v.memoryForget(3);
        assert.equal(gone.id, 3);
        assert.equal(await code(v.memoryGet(3)), 'ENOENT');
        assert.equal(await code(v.memoryForget(3)), 'ENOENT');
        assert.deepEqual((await v.memoryList({ tags: ['style'] })).map((m) => m.id), [1]);
        assert.deepEqual((await v.memorySearch('guide')).map((h) => h.id), [], 'a forgotten memory is not found');
        assert.deepEqual((await v.memorySearch('tabs')).map((h) => h.id), [1]);
        const d = await v.memoryAdd('after the forget');
        assert.equal(d.id, 4, 'ids are never reused');
      });

      it('ranks by relevance (BM25) and answers the full query language', async () => {
        const { v } = await fresh();
        const texts = [
          'sqlite is an embedded database', // 1
          'lmdb is a fast embedded key value store', // 2
          'the database of the database team: database tuning notes', // 3
          'PostgreSQL runs as a server process', // 4
          'Café au lait and crème brûlée', // 5
          'embedded systems programming in C', // 6
          'notes on data structures and databases', // 7
        ];
        for (const t of texts) await v.memoryAdd(t, { tags: t.includes('embedded') ? ['embedded'] : [] });
        const ids = async (q: string, o = {}): Promise<number[]> => (await v.memorySearch(q, o)).map((h) => h.id);

        const db = await v.memorySearch('database');
        assert.deepEqual(db.map((h) => h.id), [3, 1], 'the memory saying it three times first');
        assert.ok(db[0].score > db[1].score && db[1].score > 0);
        assert.deepEqual(await ids('embedded database'), [1], 'words are ANDed');
        assert.deepEqual(await ids('embedded AND database'), [1]);
        assert.deepEqual((await ids('sqlite OR lmdb')).sort(), [1, 2]);
        assert.deepEqual((await ids('embedded NOT database')).sort(), [2, 6]);
        assert.deepEqual(await ids('"key value store"'), [2]);
        assert.deepEqual(await ids('"value key"'), [], 'a phrase keeps its order');
        assert.deepEqual((await ids('data*')).sort(), [1, 3, 7], 'prefix');
        assert.deepEqual(await ids('"embedded ke*"'), [2], 'phrase with a prefix at the end');
        assert.deepEqual(await ids('"embedded ke"*'), [2], 'FTS5 spelling');
        assert.deepEqual(await ids('"embedded val*"'), []);
        assert.deepEqual(await ids('"an embedded data*"'), [1]);
        assert.deepEqual((await ids('(sqlite OR postgresql) AND (server OR embedded)')).sort(), [1, 4]);
        assert.deepEqual(await ids('CAFE'), [5], 'case and accents fold');
        assert.deepEqual(await ids('brulee'), [5]);
        assert.deepEqual(await ids('EMBEDDED', { tags: ['embedded'], limit: 2 }), (await ids('embedded', { tags: ['embedded'] })).slice(0, 2));
        assert.deepEqual((await ids('embedded', { tags: ['embedded'] })).sort(), [1, 2, 6]);
        assert.deepEqual(await ids('database', { tags: ['embedded'] }), [1]);
        assert.deepEqual(await ids('nothing-like-this'), []);
        assert.deepEqual(await ids('embedded and database'), [], 'lower-case "and" is a word');
        const hit = (await v.memorySearch('lmdb'))[0];
        assert.equal(hit.text, texts[1]);
        assert.deepEqual(hit.tags, ['embedded']);

        for (const bad of ['', '   ', '"unclosed', 'a OR', 'NOT a', 'a AND', '(a', 'a)', '()', '*', 'a*b', '...']) {
          assert.equal(await code(v.memorySearch(bad)), 'EINVAL', `query ${JSON.stringify(bad)}`);
        }
        assert.equal(await code(v.memorySearch('x', { limit: 0 })), 'EINVAL');
      });

      it('keeps the index exact: forgetting removes every posting', async () => {
        const { v } = await fresh();
        for (let i = 0; i < 30; i++) await v.memoryAdd(`note ${i} about topic${i % 3} and the shared words`, { tags: [`t${i % 2}`] });
        assert.equal((await v.memorySearch('shared', { limit: 100 })).length, 30);
        for (let i = 1; i <= 30; i += 2) await v.memoryForget(i);
        assert.equal((await v.memorySearch('shared', { limit: 100 })).length, 15);
        assert.deepEqual((await v.memorySearch('topic0', { limit: 100 })).map((h) => h.id).sort((a, b) => a - b), [4, 10, 16, 22, 28]);
        for (let i = 2; i <= 30; i += 2) await v.memoryForget(i);
        for (const c of ['memories', 'memory_tags', 'memory_postings'] as const) assert.equal(await rows(v, c), 0, c);
        assert.equal(await rows(v, 'memory_terms'), 1, 'only the corpus stats row is left');
        assert.deepEqual(await v.memorySearch('shared'), []);
      });

      it('does a rare AND common word query correctly at scale', async () => {
        const { v } = await fresh();
        for (let i = 0; i < 400; i++) await v.memoryAdd(`common filler text number ${i}${i % 100 === 7 ? ' rareword' : ''}`);
        assert.deepEqual((await v.memorySearch('rareword common', { limit: 10 })).map((h) => h.id).sort((a, b) => a - b), [8, 108, 208, 308]);
        assert.deepEqual((await v.memorySearch('common NOT rareword', { limit: 1000 })).length, 396);
        assert.deepEqual((await v.memorySearch('"filler text number 7 rareword"')).map((h) => h.id), [8]);
      });
    });

    describe('key/value', () => {
      it('stores bytes, versions every write, lists by prefix', async () => {
        const { v } = await fresh();
        const bin = Buffer.from([0, 1, 2, 255, 0, 10]);
        const a = await v.kvSet('bin', bin);
        assert.ok((await v.kvGet('bin')).value.equals(bin));
        assert.equal((await v.kvGet('bin')).version, a.version);
        const b = await v.kvSet('bin', 'text value');
        assert.ok(b.version > a.version);
        assert.equal((await v.kvGet('bin')).value.toString(), 'text value');
        await v.kvSet('cfg/b', '2');
        await v.kvSet('cfg/a', '1');
        await v.kvSet('cfh', '3');
        await v.kvSet('ключ', 'unicode key');
        assert.deepEqual((await v.kvList('cfg/')).map((k) => k.key), ['cfg/a', 'cfg/b']);
        assert.deepEqual((await v.kvList()).map((k) => k.key), ['bin', 'cfg/a', 'cfg/b', 'cfh', 'ключ']);
        assert.equal((await v.kvGet('ключ')).value.toString(), 'unicode key');
        await v.kvDelete('cfh');
        assert.equal(await code(v.kvGet('cfh')), 'ENOENT');
        assert.equal(await code(v.kvDelete('cfh')), 'ENOENT');
        await v.kvSet('empty', '');
        assert.equal((await v.kvGet('empty')).size, 0);
      });

      it('compare-and-set: --if-version wins once, conflicts clearly, survives delete + re-create', async () => {
        const { v } = await fresh();
        assert.equal(await code(v.kvSet('k', 'x', { ifVersion: 5 })), 'ECONFLICT');
        const first = await v.kvSet('k', 'one', { ifVersion: 0 });
        assert.equal(await code(v.kvSet('k', 'again', { ifVersion: 0 })), 'ECONFLICT', 'create-only fails on an existing key');
        const second = await v.kvSet('k', 'two', { ifVersion: first.version });
        const before = await memoryDigest(v);
        let err: Error | undefined;
        try {
          await v.kvSet('k', 'stale', { ifVersion: first.version });
        } catch (e) {
          err = e as Error;
        }
        assert.match(String(err?.message), /version conflict: expected version \d+, but its version is \d+ \(nothing changed\)/);
        assert.equal(await memoryDigest(v), before, 'nothing changed');
        assert.equal((await v.kvGet('k')).value.toString(), 'two');
        assert.equal(await code(v.kvDelete('k', { ifVersion: first.version })), 'ECONFLICT');
        await v.kvDelete('k', { ifVersion: second.version });
        const again = await v.kvSet('k', 'three');
        assert.ok(again.version > second.version, 'a re-created key never gets an old version back (no ABA)');
        assert.equal(await code(v.kvSet('k', 'x', { ifVersion: second.version })), 'ECONFLICT');
        const rec = (await v.audit({ ops: ['kv.set'], limit: 20 })).find((r) => r.outcome === 'ECONFLICT');
        assert.ok(rec, 'the refused compare-and-set is in the audit log');
      });

      it('honours a TTL on read and cleans expired keys up', async () => {
        const { v } = await fresh();
        await v.kvSet('short', 'x', { ttlSeconds: 0.05 });
        await v.kvSet('long', 'y', { ttlSeconds: 3600 });
        await v.kvSet('forever', 'z');
        const info = (await v.kvList()).find((k) => k.key === 'long');
        assert.ok(info?.expiresMs && info.expiresMs > Date.now() + 3500_000);
        assert.equal((await v.kvGet('short')).value.toString(), 'x');
        await sleep(80);
        assert.equal(await code(v.kvGet('short')), 'ENOENT');
        assert.deepEqual((await v.kvList()).map((k) => k.key), ['forever', 'long']);
        assert.equal(await rows(v, 'kv'), 3, 'expired, but its row is still there');
        await v.kvSet('other', 'w');
        assert.equal(await rows(v, 'kv'), 3, 'the next kv write deleted the expired row');
        assert.equal(await rows(v, 'kv_expiry'), 1);
        // Setting an expired key starts it afresh (create-only works on it).
        await v.kvSet('gone', 'g', { ttlSeconds: 0.02 });
        await sleep(40);
        await v.kvSet('gone', 'back', { ifVersion: 0 });
        assert.equal((await v.kvGet('gone')).value.toString(), 'back');
        assert.equal((await v.kvGet('gone')).expiresMs, undefined);
        await v.kvSet('s2', 'x', { ttlSeconds: 0.01 });
        await sleep(30);
        assert.equal(await v.kvSweep(), 1);
        assert.equal(await v.kvSweep(), 0);
        assert.ok((await v.audit({ ops: ['kv.expire'] })).length === 1);
      });
    });

    describe('sessions', () => {
      it('start, get, list newest first (by intent, limited), end', async () => {
        const { v } = await fresh();
        const s1 = await v.sessionStart({ intent: 'fix-bug', payload: { ticket: 42, tags: ['a'] } });
        const s2 = await v.sessionStart();
        const s3 = await v.sessionStart({ intent: 'fix-bug' });
        const s4 = await v.sessionStart({ intent: 'write-docs', payload: 'just text' });
        assert.deepEqual([s1.id, s2.id, s3.id, s4.id], [1, 2, 3, 4]);
        assert.deepEqual((await v.sessionGet(1)).payload, { ticket: 42, tags: ['a'] });
        assert.equal((await v.sessionGet(4)).payload, 'just text');
        assert.equal((await v.sessionGet(2)).intent, undefined);
        assert.deepEqual((await v.sessionList()).map((s) => s.id), [4, 3, 2, 1]);
        assert.deepEqual((await v.sessionList({ intent: 'fix-bug' })).map((s) => s.id), [3, 1]);
        assert.deepEqual((await v.sessionList({ limit: 2 })).map((s) => s.id), [4, 3]);
        assert.deepEqual((await v.sessionList({ intent: 'fix-bug', limit: 1 })).map((s) => s.id), [3]);
        assert.deepEqual(await v.sessionList({ intent: 'none' }), []);
        const ended = await v.sessionEnd(1);
        assert.ok(ended.endedMs! >= ended.startedMs);
        assert.equal((await v.sessionGet(1)).endedMs, ended.endedMs);
        assert.equal(await code(v.sessionEnd(1)), 'EINVAL');
        assert.equal(await code(v.sessionGet(99)), 'ENOENT');
        assert.equal(await code(v.sessionEnd(99)), 'ENOENT');
      });
    });

    describe('streams', () => {
      it('appends in order at byte offsets, reads whole appends from an offset, lists and trims', async () => {
        const { v } = await fresh();
        const r1 = await v.streamAppend('log', 'hello\n');
        const r2 = await v.streamAppend('log', Buffer.from([0, 1, 2]));
        const r3 = await v.streamAppend('log', 'world\n');
        assert.deepEqual([r1.offset, r2.offset, r3.offset, r3.next], [0, 6, 9, 15]);
        const all = await collect(v.streamEntries('log'), 100);
        assert.deepEqual(all.map((e) => e.offset), [0, 6, 9]);
        assert.ok(Buffer.concat(all.map((e) => e.data)).equals(Buffer.concat([Buffer.from('hello\n'), Buffer.from([0, 1, 2]), Buffer.from('world\n')])));
        assert.deepEqual((await collect(v.streamEntries('log', { from: 6 }), 100)).map((e) => e.offset), [6, 9]);
        assert.deepEqual((await collect(v.streamEntries('log', { from: 7 }), 100)).map((e) => e.offset), [9], 'from inside an append: the next whole one');
        assert.deepEqual(await collect(v.streamEntries('log', { from: 15 }), 100), []);
        await v.streamAppend('other', 'x');
        const heads = await v.streamList();
        assert.deepEqual(heads.map((h) => [h.name, h.count, h.first, h.next]), [['log', 3, 0, 15], ['other', 1, 0, 1]]);
        const t = await v.streamTrim('log', 9);
        assert.deepEqual([t.removed, t.bytes, t.first], [2, 9, 9]);
        assert.deepEqual((await collect(v.streamEntries('log'), 100)).map((e) => e.offset), [9]);
        const r4 = await v.streamAppend('log', 'more');
        assert.equal(r4.offset, 15, 'offsets continue after a trim');
        assert.deepEqual(await v.streamInfo('log').then((h) => [h.first, h.next, h.count]), [9, 19, 2]);
        await v.streamTrim('log', 1000);
        assert.deepEqual(await v.streamInfo('log').then((h) => [h.first, h.next, h.count]), [19, 19, 0]);
        assert.equal(await code(collect(v.streamEntries('nope'), 1)), 'ENOENT');
        assert.equal(await code(v.streamTrim('nope', 1)), 'ENOENT');
        const many = await v.streamAppendMany('batch', ['a', 'bb', 'ccc']);
        assert.deepEqual(many.map((r) => r.offset), [0, 1, 3]);
      });

      it('reads big appends whole, a few at a time', async () => {
        const { v } = await fresh();
        const big = (i: number): Buffer => Buffer.alloc(900 * 1024, 65 + i);
        for (let i = 0; i < 12; i++) await v.streamAppend('big', big(i));
        await v.streamAppend('big', 'tail');
        const got = await collect(v.streamEntries('big'), 100);
        assert.equal(got.length, 13);
        for (let i = 0; i < 12; i++) assert.ok(got[i].data.equals(big(i)), `append ${i} whole`);
        assert.equal(got[12].data.toString(), 'tail');
      });

      it('reads as a Node Readable, and follows new appends in this process', async () => {
        const { v } = await fresh();
        await v.streamAppend('s', 'abc');
        await v.streamAppend('s', 'def');
        const r = await v.streamReader('s');
        const chunks: Buffer[] = [];
        for await (const c of r) chunks.push(c as Buffer);
        assert.equal(Buffer.concat(chunks).toString(), 'abcdef');

        const ac = new AbortController();
        const seen: string[] = [];
        const follower = (async () => {
          for await (const e of v.streamEntries('s', { from: 3, follow: true, signal: ac.signal })) {
            seen.push(e.data.toString());
            if (seen.length === 3) break;
          }
        })();
        await sleep(20);
        await v.streamAppend('s', 'ghi');
        await v.streamAppend('s', 'jkl');
        await follower;
        assert.deepEqual(seen, ['def', 'ghi', 'jkl']);

        // Following a stream that does not exist yet waits for it; abort ends the wait.
        const got: string[] = [];
        const waiting = (async () => {
          for await (const e of v.streamEntries('later', { follow: true, signal: ac.signal })) got.push(e.data.toString());
        })();
        await sleep(20);
        await v.streamAppend('later', 'first');
        const t0 = Date.now();
        while (got.length === 0 && Date.now() - t0 < 2000) await sleep(5);
        ac.abort();
        await waiting;
        assert.deepEqual(got, ['first']);

        // A following Readable ends its wait when destroyed.
        const rf = await v.streamReader('s', { follow: true });
        const first = await new Promise<Buffer>((res) => rf.once('data', res));
        assert.equal(first.toString(), 'abc');
        rf.destroy();
        await new Promise((res) => rf.once('close', res));
      });
    });

    describe('agent state', () => {
      it('set and get; a watcher sees the current state first, then each new one in order', async () => {
        const { v } = await fresh();
        assert.equal(await v.stateGet(), undefined);
        const s1 = await v.stateSet({ status: 'planning', step: 1 });
        assert.deepEqual((await v.stateGet())?.value, { status: 'planning', step: 1 });
        assert.equal((await v.stateGet())?.version, s1.version);
        const s2 = await v.stateSet({ status: 'working', step: 2 });
        assert.ok(s2.version > s1.version);

        const ac = new AbortController();
        const seen: unknown[] = [];
        const watcher = (async () => {
          for await (const s of v.stateWatch({ signal: ac.signal })) {
            seen.push(s.value);
            if (seen.length === 3) break;
          }
        })();
        await sleep(20);
        await v.stateSet({ status: 'working', step: 3 });
        await v.stateSet('done');
        await watcher;
        assert.deepEqual(seen, [{ status: 'working', step: 2 }, { status: 'working', step: 3 }, 'done']);
        ac.abort();
      });

      it('a watch ends when its signal aborts, also while waiting', async () => {
        const { v } = await fresh();
        const ac = new AbortController();
        const seen: unknown[] = [];
        const w = (async () => {
          for await (const s of v.stateWatch({ signal: ac.signal })) seen.push(s.value);
        })();
        await sleep(30);
        ac.abort();
        await w;
        assert.deepEqual(seen, []);
        await v.stateSet(null);
        await v.stateSet([1, 2]);
        assert.deepEqual((await v.stateGet())?.value, [1, 2]);
      });
    });

    describe('bad input changes nothing', () => {
      it('refuses NUL, empty and over-long names, bad ids, bad JSON, and values over the size limit', async () => {
        const { v } = await fresh();
        await v.memoryAdd('seed memory', { tags: ['t'] });
        await v.kvSet('k', 'v');
        await v.sessionStart({ intent: 'i' });
        await v.streamAppend('s', 'x');
        await v.stateSet({ a: 1 });
        await v.setConfig('memory_max_value_kb', 1);
        const before = await memoryDigest(v);
        const big = 'x'.repeat(1025);
        const cases: [string, Promise<unknown>, string][] = [
          ['kv key with NUL', v.kvSet('a\0b', 'x'), 'EINVAL'],
          ['kv get key with NUL', v.kvGet('a\0b'), 'EINVAL'],
          ['empty kv key', v.kvSet('', 'x'), 'EINVAL'],
          ['long kv key', v.kvSet('k'.repeat(401), 'x'), 'ENAMETOOLONG'],
          ['stream name with NUL', v.streamAppend('s\0', 'x'), 'EINVAL'],
          ['empty append', v.streamAppend('s', ''), 'EINVAL'],
          ['tag with NUL', v.memoryAdd('text', { tags: ['a\0'] }), 'EINVAL'],
          ['intent with NUL', v.sessionStart({ intent: '\0' }), 'EINVAL'],
          ['empty memory', v.memoryAdd('   '), 'EINVAL'],
          ['memory over the limit', v.memoryAdd(big), 'EFBIG'],
          ['kv value over the limit', v.kvSet('k', big), 'EFBIG'],
          ['append over the limit', v.streamAppend('s', big), 'EFBIG'],
          ['state over the limit', v.stateSet({ big }), 'EFBIG'],
          ['payload over the limit', v.sessionStart({ payload: big }), 'EFBIG'],
          ['state that is not JSON', v.stateSet(undefined), 'EINVAL'],
          ['state that is a function', v.stateSet(() => 1), 'EINVAL'],
          ['payload with a BigInt', v.sessionStart({ payload: { n: 1n } }), 'EINVAL'],
          ['unknown memory', v.memoryGet(999), 'ENOENT'],
          ['forget unknown memory', v.memoryForget(999), 'ENOENT'],
          ['memory id 0', v.memoryGet(0), 'EINVAL'],
          ['memory id text', v.memoryForget('abc'), 'EINVAL'],
          ['memory id 1.5', v.memoryGet(1.5), 'EINVAL'],
          ['unknown session', v.sessionEnd(77), 'ENOENT'],
          ['session id -1', v.sessionGet(-1), 'EINVAL'],
          ['unknown kv key', v.kvDelete('nope'), 'ENOENT'],
          ['bad ttl', v.kvSet('k', 'x', { ttlSeconds: -1 }), 'EINVAL'],
          ['bad if-version', v.kvSet('k', 'x', { ifVersion: -2 }), 'EINVAL'],
          ['negative trim', v.streamTrim('s', -1), 'EINVAL'],
          ['unknown stream trim', v.streamTrim('zz', 1), 'ENOENT'],
          ['bad since', v.memoryList({ since: 'yesterday-ish' }), 'EINVAL'],
        ];
        for (const [what, p, want] of cases) assert.equal(await code(p), want, what);
        assert.equal(await memoryDigest(v), before, 'nothing changed');
        // Exactly at the limit is fine.
        await v.kvSet('k', 'y'.repeat(1024));
        await v.unsetConfig('memory_max_value_kb');
        await v.kvSet('k', big);
      });
    });

    it('logs every mutation in the audit log', async () => {
      const { v } = await fresh();
      await v.memoryAdd('m');
      await v.memoryForget(1);
      await v.kvSet('k', 'v');
      await v.kvDelete('k');
      const s = await v.sessionStart();
      await v.sessionEnd(s.id);
      await v.streamAppend('s', 'x');
      await v.streamTrim('s', 1);
      await v.stateSet(1);
      const ops = (await v.audit({ limit: 100 })).map((r) => r.op).filter((op) => op !== 'vault.create').reverse();
      assert.deepEqual(ops, ['memory.add', 'memory.forget', 'kv.set', 'kv.del', 'session.start', 'session.end', 'stream.append', 'stream.trim', 'state.set']);
      const rec = (await v.audit({ ops: ['memory.add'] }))[0];
      assert.equal(rec.info?.target, 'memory 1');
      assert.deepEqual(rec.paths, []);
      assert.deepEqual((await v.changesBelow('/')).filter((r) => r.op !== 'vault.create'), [], 'memory operations are not changes to the tree');
    });

    if (f.persistent) {
      it('keeps everything across a reopen', async () => {
        const { v, d } = await fresh();
        await v.memoryAdd('persistent memory about giraffes', { tags: ['zoo'] });
        await v.kvSet('k', Buffer.from([1, 2, 3]));
        await v.sessionStart({ intent: 'x', payload: [1] });
        await v.streamAppend('s', 'abc');
        await v.stateSet({ ok: true });
        await v.close();
        const w = await f.reopen(d);
        open.push(w);
        assert.deepEqual((await w.memorySearch('giraffes')).map((h) => h.id), [1]);
        assert.deepEqual([...(await w.kvGet('k')).value], [1, 2, 3]);
        assert.deepEqual((await w.sessionGet(1)).payload, [1]);
        assert.equal((await collect(w.streamEntries('s'), 10))[0].data.toString(), 'abc');
        assert.deepEqual((await w.stateGet())?.value, { ok: true });
        assert.equal((await w.memoryAdd('next')).id, 2);
        assert.deepEqual((await w.check()).problems, []);
      });
    }
  });
}
