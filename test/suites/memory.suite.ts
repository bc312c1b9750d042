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
        // All started at once and awaited in turn: one that fails at once must not count as
        // unhandled while an earlier one waits on the network (postgres).
        for (const [, p] of cases) p.catch(() => {});
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

    describe('snapshots with memory, vault check, kv sweep', () => {
      /** Every kind of memory, and a file. */
      async function fill(v: Vault): Promise<void> {
        await v.memoryAdd('apples and pears in the orchard', { tags: ['fruit'] });
        await v.kvSet('k', 'one');
        await v.kvSet('ttl', 'x', { ttlSeconds: 3600 });
        await v.sessionStart({ intent: 'plan', payload: { a: 1 } });
        await v.streamAppend('log', 'aaa');
        await v.stateSet({ step: 1 });
        await v.writeFile('/f', 'one');
      }

      it('snapshot save withMemory, restore brings it back; ids, kv versions, offsets and state versions only grow', async () => {
        const { v } = await fresh();
        await fill(v);
        const snap = await v.saveSnapshot('with-mem', { withMemory: true });
        assert.deepEqual([snap.memory?.memories, snap.memory?.keys, snap.memory?.sessions, snap.memory?.streams], [1, 2, 1, 1]);
        assert.ok((await v.listSnapshots()).find((x) => x.name === 'with-mem')?.memory, 'the list says it holds memory');
        const atSnap = await memoryDigest(v);
        // Change every part of memory, and the file.
        await v.memoryAdd('bananas');
        await v.memoryForget(1);
        const kvAfter = await v.kvSet('k', 'two');
        await v.kvSet('new', 'n');
        await v.sessionStart({ intent: 'other' });
        await v.streamAppend('log', 'bbbb');
        await v.streamAppend('later', 'zz');
        const stAfter = await v.stateSet({ step: 2 });
        await v.writeFile('/f', 'two');
        assert.notEqual(await memoryDigest(v), atSnap);

        const r = await v.restoreSnapshot('with-mem');
        assert.equal(r.memory, true);
        assert.equal((await v.readFile('/f')).toString(), 'one');
        assert.deepEqual((await v.memorySearch('apples')).map((h) => h.id), [1]);
        assert.deepEqual(await v.memorySearch('bananas'), []);
        assert.deepEqual((await v.memoryList({ tags: ['fruit'] })).map((m) => m.id), [1]);
        const k = await v.kvGet('k');
        assert.equal(k.value.toString(), 'one');
        assert.ok(k.version > kvAfter.version, 'a restored key has a new, higher version');
        assert.equal(await code(v.kvSet('k', 'cas', { ifVersion: kvAfter.version })), 'ECONFLICT');
        assert.equal(await code(v.kvGet('new')), 'ENOENT');
        assert.equal((await v.kvGet('ttl')).value.toString(), 'x');
        assert.deepEqual((await v.sessionList()).map((x) => [x.id, x.intent]), [[1, 'plan']]);
        assert.deepEqual((await collect(v.streamEntries('log'), 10)).map((e) => e.data.toString()), ['aaa']);
        assert.equal((await v.streamAppend('log', 'c')).offset, 7, 'offsets are never reused');
        assert.deepEqual(await collect(v.streamEntries('later'), 10), [], 'a stream made after the snapshot is empty');
        assert.equal((await v.streamAppend('later', 'y')).offset, 2);
        const st = await v.stateGet();
        assert.deepEqual(st?.value, { step: 1 });
        assert.ok(st!.version > stAfter.version, 'watchers see the restored state as a new one');
        assert.equal((await v.memoryAdd('next')).id, 3, 'memory ids are never reused');
        assert.equal((await v.sessionStart()).id, 3, 'session ids are never reused');
        assert.deepEqual((await v.check()).problems, []);

        // The automatic snapshot holds the memory as it was: the restore can be undone whole.
        assert.ok(r.saved.memory);
        const back = await v.restoreSnapshot(r.saved.name);
        assert.equal(back.memory, true);
        assert.deepEqual((await v.memorySearch('bananas')).map((h) => h.id), [2]);
        assert.equal((await v.kvGet('k')).value.toString(), 'two');
        assert.equal((await v.readFile('/f')).toString(), 'two');
        assert.deepEqual((await v.check()).problems, []);
      });

      it('keepMemory, and snapshots without memory, leave memory alone; unchanged memory is stored once', async () => {
        const { v } = await fresh();
        await fill(v);
        const before = await rows(v, 'chunks');
        const a = await v.saveSnapshot('a', { withMemory: true });
        const after1 = await rows(v, 'chunks');
        const b = await v.saveSnapshot('b', { withMemory: true });
        assert.equal(b.memory?.hash, a.memory?.hash, 'the same memory, the same content');
        assert.equal(await rows(v, 'chunks'), after1);
        assert.ok(after1 > before);
        await v.saveSnapshot('plain');
        await v.kvSet('k', 'changed');
        const digest = await memoryDigest(v);
        const r1 = await v.restoreSnapshot('a', { keepMemory: true });
        assert.equal(r1.memory, false);
        assert.equal(r1.saved.memory, undefined, 'nothing to undo in memory, none saved');
        assert.equal(await memoryDigest(v), digest);
        const r2 = await v.restoreSnapshot('plain');
        assert.equal(r2.memory, false);
        assert.equal(await memoryDigest(v), digest);
        assert.equal(await code(v.saveSnapshot('bad name!', { withMemory: true })), 'EINVAL');
        assert.equal(await code(v.saveSnapshot('a', { withMemory: true })), 'EEXIST');
      });

      it('gc keeps the memory a snapshot holds and sweeps it once the snapshot is deleted; check sees it missing', async () => {
        const { v } = await fresh();
        await fill(v);
        await v.memoryAdd('x'.repeat(200_000)); // over one chunk: a manifest and several chunks
        const snap = await v.saveSnapshot('keep', { withMemory: true });
        assert.ok(snap.memory!.size > 200_000);
        await v.memoryForget(2);
        await v.gc();
        assert.deepEqual((await v.check()).problems, []);
        assert.equal((await v.restoreSnapshot('keep')).memory, true);
        assert.equal((await v.memoryGet(2)).text.length, 200_000);
        // Damaged saved memory is reported by check.
        const key = Buffer.from(snap.memory!.hash, 'hex');
        const saved = await v.engine.read((tx) => tx.get('manifests', key));
        await v.engine.write(async (tx) => tx.del('manifests', key));
        assert.match((await v.check()).problems.join('\n'), /snapshot keep: saved memory/);
        await v.engine.write(async (tx) => tx.put('manifests', key, saved!));
        assert.deepEqual((await v.check()).problems, []);
        for (const s of await v.listSnapshots()) await v.deleteSnapshot(s.name);
        const g = await v.gc();
        assert.ok(g.manifests.removed >= 1, 'the saved memory went with its snapshots');
        assert.deepEqual((await v.check()).problems, []);
      });

      it('vault check reports each damaged memory index', async () => {
        const { v } = await fresh();
        await fill(v);
        await v.memoryAdd('second memory about pears', { tags: ['fruit', 'two'] });
        await v.streamAppend('log', 'bb');
        assert.deepEqual((await v.check()).problems, []);
        const damage: [string, (tx: import('../../src/storage/contract.js').WriteTx) => Promise<void>, RegExp][] = [
          ['a posting removed', async (tx) => {
            const [e] = await tx.range('memory_postings', { limit: 1 });
            await tx.del('memory_postings', e.key);
          }, /memory_postings/],
          ['a document frequency changed', async (tx) => {
            const [e] = await tx.range('memory_terms', { gte: Buffer.from('a'), limit: 1 });
            await tx.put('memory_terms', e.key, Buffer.from([0, 0, 0, 9]));
          }, /memory_terms/],
          ['the corpus stats changed', async (tx) => tx.put('memory_terms', Buffer.from('\0stats', 'latin1'), Buffer.from('{"docs":7,"totalLen":1}')), /memory_terms/],
          ['a memory removed under its index', async (tx) => {
            const [e] = await tx.range('memories', { limit: 1 });
            await tx.del('memories', e.key);
          }, /memory_postings|memory_tags/],
          ['a tag row removed', async (tx) => {
            const [e] = await tx.range('memory_tags', { limit: 1 });
            await tx.del('memory_tags', e.key);
          }, /memory_tags/],
          ['a stray tag row', async (tx) => tx.put('memory_tags', Buffer.concat([Buffer.from('ghost'), Buffer.from([0]), Buffer.alloc(7), Buffer.from([9])]), Buffer.alloc(0)), /memory_tags/],
          ['an expiry row removed', async (tx) => {
            const [e] = await tx.range('kv_expiry', { limit: 1 });
            await tx.del('kv_expiry', e.key);
          }, /kv_expiry/],
          ['a stray expiry row', async (tx) => tx.put('kv_expiry', Buffer.concat([Buffer.alloc(7), Buffer.from([1]), Buffer.from('nokey')]), Buffer.alloc(0)), /kv_expiry/],
          ['an intent row removed', async (tx) => {
            const [e] = await tx.range('session_intents', { limit: 1 });
            await tx.del('session_intents', e.key);
          }, /session_intents/],
          ['a stray intent row', async (tx) => tx.put('session_intents', Buffer.concat([Buffer.from('plan'), Buffer.from([0]), Buffer.alloc(7), Buffer.from([42])]), Buffer.alloc(0)), /session_intents/],
          ['a stream head miscounted', async (tx) => {
            const raw = (await tx.get('stream_heads', Buffer.from('log')))!;
            await tx.put('stream_heads', Buffer.from('log'), Buffer.from(JSON.stringify({ ...JSON.parse(raw.toString()), count: 5 })));
          }, /stream_heads/],
          ['a stream head removed', async (tx) => tx.del('stream_heads', Buffer.from('log')), /stream_heads/],
          ['the first append removed under its head', async (tx) => {
            const [e] = await tx.range('streams', { limit: 1 });
            await tx.del('streams', e.key);
          }, /stream_heads/],
        ];
        for (const [what, hurt, re] of damage) {
          const saved = new Map<string, [Buffer, Buffer][]>();
          for (const c of MEMORY_COLLECTIONS) saved.set(c, await v.engine.read(async (tx) => (await tx.range(c, {})).map((e): [Buffer, Buffer] => [e.key, e.value])));
          await v.engine.write(hurt);
          const problems = (await v.check()).problems;
          assert.ok(problems.length > 0, `${what}: reported`);
          assert.match(problems.join('\n'), re, what);
          for (const p of problems) assert.match(p, /^memory index: /, `${what}: ${p}`);
          // Put the collections back as they were.
          await v.engine.write(async (tx) => {
            for (const c of MEMORY_COLLECTIONS) {
              for (const e of await tx.range(c, {})) await tx.del(c, e.key);
              for (const [k, val] of saved.get(c)!) await tx.put(c, k, val);
            }
          });
          assert.deepEqual((await v.check()).problems, [], `${what}: repaired`);
        }
      });

      it('kvSweep deletes every expired key, also more than one batch', async () => {
        const { v } = await fresh();
        await v.kvSet('stays', 'y', { ttlSeconds: 3600 });
        // 1,203 keys that expired while nobody wrote (so no write swept them), as kv stores them.
        const past = Date.now() - 60_000;
        await v.engine.write(async (tx) => {
          for (let i = 0; i < 1203; i++) {
            const head = Buffer.alloc(24);
            head.writeBigUInt64BE(BigInt(i + 1), 0);
            head.writeBigUInt64BE(BigInt(past - 1000), 8);
            head.writeBigUInt64BE(BigInt(past), 16);
            await tx.put('kv', Buffer.from(`e${i}`), Buffer.concat([head, Buffer.from('x')]));
            const ek = Buffer.alloc(8);
            ek.writeBigUInt64BE(BigInt(past));
            await tx.put('kv_expiry', Buffer.concat([ek, Buffer.from(`e${i}`)]), Buffer.alloc(0));
          }
        });
        assert.deepEqual((await v.check()).problems, []);
        assert.deepEqual((await v.kvList()).map((k) => k.key), ['stays'], 'expired keys are invisible');
        assert.equal(await v.kvSweep(), 1203);
        assert.equal(await rows(v, 'kv'), 1);
        assert.equal(await rows(v, 'kv_expiry'), 1);
        assert.equal(await v.kvSweep(), 0);
        assert.deepEqual((await v.check()).problems, []);
      });
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
