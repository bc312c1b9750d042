// The full-text search suite: takes a vault factory and runs unchanged on every engine (SQLite
// answers from FTS5, the others from the shared index that catches up before answering).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Vault } from '../../src/index.js';
import { code } from '../helpers/errors.js';
import type { VaultFactory } from './fs.suite.js';

const SEARCH_WRITER = join(dirname(fileURLToPath(import.meta.url)), '..', 'children', 'search-writer.js');

const paths = async (v: Vault, q: string, opts: Parameters<Vault['search']>[1] = {}): Promise<string[]> =>
  (await v.search(q, { limit: 1000, ...opts })).hits.map((h) => h.path);
const sorted = async (v: Vault, q: string, opts: Parameters<Vault['search']>[1] = {}): Promise<string[]> => (await paths(v, q, opts)).sort();

/** Run the writer child, kill it with SIGKILL after `ms`, return the words it acknowledged. */
function writeAndKill(vaultPath: string, prefix: string, ms: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SEARCH_WRITER, vaultPath, prefix, '100000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d) => {
      out += d;
      // Kill only once some writes are in, at a moment that varies with `ms`.
      if (!timer && out.split('\n').length - 1 >= 3) timer = setTimeout(() => child.kill('SIGKILL'), ms);
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (c, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`writer ended without being killed (${c}): ${err}`));
      const lines = out.split('\n');
      lines.pop();
      resolve(lines.filter((l) => l.startsWith('ack ')).map((l) => l.slice(4)));
    });
  });
}

export function searchSuite(f: VaultFactory): void {
  describe(`search suite (${f.kind})`, () => {
    let dir: string;
    let v: Vault;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `avfs-search-${f.kind}-`));
      v = await f.create(dir);
      await v.writeFile('/docs/fox.txt', 'The quick brown fox jumps over the lazy dog.\nA second line about nothing.\n');
      await v.writeFile('/docs/db.md', 'Databases: SQLite and LMDB.\nThe database index is fast; indexes matter.\n');
      await v.writeFile('/notes/cafe.txt', 'Un café à Paris. Ελληνικά κείμενα. Привет мир.\n');
      await v.writeFile('/notes/tokyo.txt', '私は東京都に住んでいます。\n');
      await v.writeFile('/bin/blob.dat', Buffer.concat([Buffer.from('quick fox '), Buffer.from([0, 1, 2, 255])]));
      await v.writeFile('/bin/latin1.txt', Buffer.from([0x71, 0x75, 0x69, 0x63, 0x6b, 0x20, 0xe9, 0xe9, 0xff]));
    });
    after(async () => {
      await v.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('finds words, ignoring case and accents; every hit has a snippet with the match marked', async () => {
      const r = await v.search('QUICK');
      assert.deepEqual(r.hits.map((h) => h.path), ['/docs/fox.txt']);
      const s = r.hits[0].snippet!;
      assert.equal(s.line, 1);
      assert.equal(s.text, 'The quick brown fox jumps over the lazy dog.');
      assert.deepEqual(s.highlights, [[4, 9]]);
      assert.ok(r.hits[0].score > 0);
      assert.deepEqual(await paths(v, 'cafe'), ['/notes/cafe.txt']);
      assert.deepEqual(await paths(v, 'CAFÉ'), ['/notes/cafe.txt']);
      assert.equal((await v.search('database')).hits[0].snippet!.line, 2);
    });

    it('indexes UTF-8 text in any language and never binary files', async () => {
      assert.deepEqual(await paths(v, 'ελληνικα'), ['/notes/cafe.txt']);
      assert.deepEqual(await paths(v, 'привет'), ['/notes/cafe.txt']);
      // Chinese and Japanese: each character is a word, so a word is found inside a sentence.
      assert.deepEqual(await paths(v, '東京'), ['/notes/tokyo.txt']);
      assert.deepEqual(await paths(v, '京都'), ['/notes/tokyo.txt']);
      assert.deepEqual(await paths(v, '大阪'), []);
      // The binary file and the invalid UTF-8 one hold "quick" too, but are not indexed.
      assert.deepEqual(await paths(v, 'quick'), ['/docs/fox.txt']);
    });

    it('AND, OR, NOT, phrases, prefixes and grouping', async () => {
      assert.deepEqual(await sorted(v, 'quick dog'), ['/docs/fox.txt']);
      assert.deepEqual(await sorted(v, 'quick AND sqlite'), []);
      assert.deepEqual(await sorted(v, 'quick OR sqlite'), ['/docs/db.md', '/docs/fox.txt']);
      assert.deepEqual(await sorted(v, '"lazy dog"'), ['/docs/fox.txt']);
      assert.deepEqual(await sorted(v, '"dog lazy"'), []);
      assert.deepEqual(await sorted(v, 'databas*'), ['/docs/db.md']);
      assert.deepEqual(await sorted(v, 'index*'), ['/docs/db.md']);
      assert.deepEqual(await sorted(v, '"the data*"'), ['/docs/db.md']);
      assert.deepEqual(await sorted(v, '(fox OR sqlite) NOT lmdb'), ['/docs/fox.txt']);
      assert.deepEqual(await sorted(v, 'the NOT (fox OR paris)'), ['/docs/db.md']);
      assert.deepEqual(await sorted(v, 'lazy AND (dog OR cat)'), ['/docs/fox.txt']);
    });

    it('ranks by relevance (more occurrences in a shorter file first)', async () => {
      const dir = mkdtempSync(join(tmpdir(), `avfs-rank-${f.kind}-`));
      const w = await f.create(dir);
      try {
        // Enough other files that the word is rare (FTS5's idf is floored for words in half the files).
        for (let i = 0; i < 20; i++) await w.writeFile(`/other/${i}.txt`, `unrelated text number ${i}\n`);
        await w.writeFile('/one.txt', `apple ${'pear '.repeat(40)}\n`);
        await w.writeFile('/three.txt', 'apple apple apple pear\n');
        await w.writeFile('/two.txt', `apple apple ${'pear '.repeat(10)}\n`);
        const r = await w.search('apple');
        assert.deepEqual(r.hits.map((h) => h.path), ['/three.txt', '/two.txt', '/one.txt']);
        assert.ok(r.hits[0].score > r.hits[1].score && r.hits[1].score > r.hits[2].score);
        // limit, more and count
        const one = await w.search('apple', { limit: 1 });
        assert.deepEqual(one.hits.map((h) => h.path), ['/three.txt']);
        assert.equal(one.more, true);
        assert.equal((await w.search('apple', { limit: 1, count: true })).total, 3);
        assert.equal((await w.search('pear', { count: true, path: '/' })).total, 3);
      } finally {
        await w.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a renamed file is found under its new path only; a deleted one is gone; changes show at once', async () => {
      await v.writeFile('/move/me.txt', 'zebra crossing\n');
      assert.deepEqual(await paths(v, 'zebra'), ['/move/me.txt']);
      await v.rename('/move/me.txt', '/move/renamed.txt');
      assert.deepEqual(await paths(v, 'zebra'), ['/move/renamed.txt']);
      // A folder rename moves every file below it.
      await v.rename('/move', '/moved');
      assert.deepEqual(await paths(v, 'zebra'), ['/moved/renamed.txt']);
      await v.copy('/moved/renamed.txt', '/moved/copy.txt');
      assert.deepEqual(await sorted(v, 'zebra'), ['/moved/copy.txt', '/moved/renamed.txt']);
      // Overwrite: old words gone, new ones in.
      await v.writeFile('/moved/copy.txt', 'giraffe\n');
      assert.deepEqual(await paths(v, 'zebra'), ['/moved/renamed.txt']);
      assert.deepEqual(await paths(v, 'giraffe'), ['/moved/copy.txt']);
      await v.appendFile('/moved/copy.txt', 'and an okapi\n');
      assert.deepEqual(await paths(v, 'giraffe okapi'), ['/moved/copy.txt']);
      await v.unlink('/moved/renamed.txt');
      assert.deepEqual(await paths(v, 'zebra'), []);
      await v.rm('/moved', { recursive: true });
      assert.deepEqual(await paths(v, 'giraffe'), []);
      // Text that becomes binary leaves the index; binary that becomes text enters it.
      await v.writeFile('/flip.txt', 'walrus\n');
      await v.writeFile('/flip.txt', Buffer.from([0x77, 0x61, 0x6c, 0x72, 0x75, 0x73, 0]));
      assert.deepEqual(await paths(v, 'walrus'), []);
      await v.writeFile('/flip.txt', 'walrus again\n');
      assert.deepEqual(await paths(v, 'walrus'), ['/flip.txt']);
      // Inside a batch: the search after it sees everything the batch did.
      await v.batch(async (b) => {
        await b.writeFile('/batch/a.txt', 'narwhal one\n');
        await b.writeFile('/batch/b.txt', 'narwhal two\n');
        await b.rename('/batch/a.txt', '/batch/c.txt');
      });
      assert.deepEqual(await sorted(v, 'narwhal'), ['/batch/b.txt', '/batch/c.txt']);
      // Restoring an earlier version brings its words back.
      await v.writeFile('/flip.txt', 'manatee\n');
      await v.checkout('/flip.txt', 3);
      assert.deepEqual(await paths(v, 'walrus'), ['/flip.txt']);
      assert.deepEqual(await paths(v, 'manatee'), []);
      await v.revert('/flip.txt');
      assert.deepEqual(await paths(v, 'manatee'), ['/flip.txt']);
    });

    it('filters by folder (relative to the working folder) and says so when the folder is not there', async () => {
      assert.deepEqual(await sorted(v, 'the', { path: '/docs' }), ['/docs/db.md', '/docs/fox.txt']);
      assert.deepEqual(await sorted(v, 'the', { path: '/docs/fox.txt' }), ['/docs/fox.txt']);
      assert.deepEqual(await sorted(v, 'the', { path: '/notes' }), []);
      v.cwd = '/docs';
      try {
        assert.deepEqual(await sorted(v, 'sqlite', { path: '.' }), ['/docs/db.md']);
      } finally {
        v.cwd = '/';
      }
      // A folder named like the start of another must not match it (/doc is not /docs).
      await v.writeFile('/doc/x.txt', 'the end\n');
      assert.deepEqual(await sorted(v, 'the', { path: '/doc' }), ['/doc/x.txt']);
      assert.equal(await code(v.search('the', { path: '/nowhere' })), 'ENOENT');
    });

    it('filters by tags (all of them); an unknown tag is ENOENT', async () => {
      await v.tag('/docs/fox.txt', ['Animals', 'draft']);
      await v.tag('/docs/db.md', ['draft']);
      assert.deepEqual(await sorted(v, 'the', { tags: ['draft'] }), ['/docs/db.md', '/docs/fox.txt']);
      assert.deepEqual(await sorted(v, 'the', { tags: ['animals', 'DRAFT'] }), ['/docs/fox.txt']);
      assert.deepEqual(await sorted(v, 'sqlite', { tags: ['animals'] }), []);
      // Tags follow the file through a rename.
      await v.rename('/docs/fox.txt', '/docs/fox2.txt');
      assert.deepEqual(await sorted(v, 'quick', { tags: ['animals'] }), ['/docs/fox2.txt']);
      await v.rename('/docs/fox2.txt', '/docs/fox.txt');
      assert.equal(await code(v.search('the', { tags: ['nosuchtag'] })), 'ENOENT');
      assert.equal(await code(v.search('the', { tags: ['bad tag'] })), 'EINVAL');
      await v.untag('/docs/fox.txt', ['animals', 'draft']);
      await v.untag('/docs/db.md', 'draft');
    });

    it('refuses bad queries and options with one-line EINVAL errors, in our words', async () => {
      for (const q of ['', '   ', '"unclosed', 'a AND', 'OR b', 'NOT b', '(a', 'a)', '()', '*', 'a * b', '"', 'x'.repeat(5000), 'a\0b']) {
        const e = await v.search(q).then(
          () => undefined,
          (err: Error & { code?: string }) => err,
        );
        assert.ok(e, `query ${JSON.stringify(q.slice(0, 20))} must fail`);
        assert.equal(e.code, 'EINVAL', q.slice(0, 20));
        assert.match(e.message, /^query: /);
        assert.ok(!e.message.includes('\n') && !/fts5|sqlite/i.test(e.message), e.message);
      }
      // Punctuation FTS5 would choke on is just a separator to us.
      assert.deepEqual(await paths(v, 'sqlite.'), ['/docs/db.md']);
      assert.deepEqual(await paths(v, 'NEAR(quick dog)'), []);
      assert.deepEqual(await paths(v, 'a-b:c^d'), []);
      for (const limit of [0, -1, 1.5, 10_001, Number.NaN]) assert.equal(await code(v.search('fox', { limit })), 'EINVAL');
      assert.equal(await code(v.search(42 as unknown as string)), 'EINVAL');
    });

    it('status and rebuild: the rebuilt index answers as before', async () => {
      const before = await sorted(v, 'the');
      const st = await v.searchStatus();
      assert.equal(st.fullText, f.kind === 'sqlite' ? 'fts5' : 'shared');
      assert.ok(st.documents >= 5, `documents ${st.documents}`);
      const rebuilt = await v.rebuildSearchIndex();
      assert.equal(rebuilt.documents, st.documents);
      assert.equal(rebuilt.queued, 0);
      assert.equal(rebuilt.indexedSeq, rebuilt.vaultSeq);
      assert.deepEqual(await sorted(v, 'the'), before);
    });

    if (f.persistent) {
      it('the index is kept on disk: after reopening, nothing is rebuilt and everything is found', async () => {
        const d = mkdtempSync(join(tmpdir(), `avfs-reopen-${f.kind}-`));
        let w = await f.create(d);
        for (let i = 0; i < 30; i++) await w.writeFile(`/r/${i}.txt`, `item number${i} of the list\n`);
        await w.search('number1');
        await w.close();
        w = await f.reopen(d);
        try {
          const st = await w.searchStatus();
          assert.ok(st.built && !st.rebuilding);
          // On SQLite the queue holds the changes for grep's index only (FTS5 is written with each change).
          if (f.kind !== 'sqlite') assert.equal(st.queued, 0);
          assert.equal(st.documents, 30);
          assert.deepEqual(await paths(w, 'number17'), ['/r/17.txt']);
        } finally {
          await w.close();
          rmSync(d, { recursive: true, force: true });
        }
      });

      it('a search right after a writer was killed with SIGKILL finds every write that returned', async () => {
        const d = mkdtempSync(join(tmpdir(), `avfs-kill-${f.kind}-`));
        const w = await f.create(d);
        await w.close();
        const vaultPath = (w as unknown as { path: string }).path;
        try {
          for (const [round, ms] of [20, 90, 160].entries()) {
            const acked = await writeAndKill(vaultPath, `k${round}`, ms);
            assert.ok(acked.length >= 3, `round ${round}: ${acked.length} writes acknowledged`);
            const r = await f.reopen(d);
            try {
              for (const word of acked) assert.equal((await paths(r, word)).length, 1, `${word} (round ${round}, ${acked.length} acked)`);
              const check = await r.check();
              assert.deepEqual(check.problems, []);
            } finally {
              await r.close();
            }
          }
        } finally {
          rmSync(d, { recursive: true, force: true });
        }
      });
    }
  });
}
