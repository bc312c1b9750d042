// Search across engines and vault life events: the same files ranked the same on SQLite's FTS5
// and on the shared index; a vault made before the search index existed gets one on its first
// search; a fork answers for its own tree.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVault, forkVault, openVault, type Vault } from '../src/index.js';
import { META_SEARCH } from '../src/core/indexing.js';
import { inodeKey } from '../src/core/records.js';
import { ENGINES, STORE_NAME, storeRef } from './helpers/vaults.js';

const dir = mkdtempSync(join(tmpdir(), 'avfs-search-engines-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A small corpus with a skewed vocabulary, the same for every engine (seeded). */
function corpus(): Map<string, string> {
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const words = Array.from({ length: 300 }, (_, i) => `w${i.toString(36)}`);
  const files = new Map<string, string>();
  for (let f = 0; f < 120; f++) {
    const n = 5 + Math.floor(rnd() * 200);
    const text: string[] = [];
    // Zipf-like: low word numbers are common.
    for (let i = 0; i < n; i++) text.push(words[Math.floor(words.length * rnd() ** 3)]);
    files.set(`/c/${f % 7}/f${f}.txt`, text.join(rnd() < 0.5 ? ' ' : '\n'));
  }
  return files;
}

async function make(kind: (typeof ENGINES)[number], name: string): Promise<Vault> {
  if (kind === 'postgres') return createVault(storeRef(kind, dir, name), { backend: kind, home: join(dir, 'home') });
  return kind === 'memory' ? openVault(':memory:') : createVault(join(dir, name + (kind === 'sqlite' ? '.avfs' : '.lmdb')), { backend: kind, home: join(dir, 'home') });
}

describe('search ranks alike on every engine', () => {
  it('the same hits, in the same order, with the same scores', async () => {
    const files = corpus();
    const queries = ['w1', 'w2 w5', 'w3 OR w40', '"w1 w2"', 'w1*', 'w0 NOT w1', '(w4 OR w7) w2', 'w5k', '"w1 w1"', 'w2 AND w3 AND w9'];
    const results = new Map<string, string[][]>();
    for (const kind of ENGINES) {
      const v = await make(kind, `rank-${kind}`);
      // Some files in batches, some one by one; a few rewritten and removed, so the index saw changes.
      await v.batch(async (b) => {
        for (const [p, t] of [...files].slice(0, 60)) await b.writeFile(p, t);
      });
      for (const [p, t] of [...files].slice(60)) await v.writeFile(p, t);
      await v.writeFile('/c/0/f0.txt', files.get('/c/1/f1.txt')!);
      await v.unlink('/c/2/f2.txt');
      await v.rename('/c/3', '/c/33');
      const out: string[][] = [];
      for (const q of queries) {
        const r = await v.search(q, { limit: 30, count: true });
        out.push([`total ${r.total}`, ...r.hits.map((h) => `${h.path} ${h.score.toPrecision(9)}`)]);
      }
      results.set(kind, out);
      await v.close();
    }
    const [first, ...rest] = ENGINES;
    for (const kind of rest) {
      for (let i = 0; i < queries.length; i++) {
        assert.deepEqual(results.get(kind)![i], results.get(first)![i], `${kind} vs ${first}: ${queries[i]}`);
      }
    }
    assert.ok(results.get(first)!.every((r) => r.length > 1), 'every query finds something');
  });
});

describe('search over a vault life', () => {
  for (const kind of ENGINES.filter((k) => k !== 'memory')) {
    it(`${kind}: a vault without a search index (made before search) gets one on its first search`, async () => {
      const path = kind === 'postgres' ? storeRef(kind, dir, 'old') : join(dir, `old-${kind}${kind === 'sqlite' ? '.avfs' : '.lmdb'}`);
      const v = await createVault(path, { backend: kind, home: join(dir, 'home') });
      await v.writeFile('/a/old.txt', 'ancient scroll\n');
      await v.writeFile('/b/new.txt', 'modern tablet\n');
      // What a vault of the previous format looks like: no search state, no index, no parent pointers.
      await v.engine.write(async (tx) => {
        await tx.del('meta', META_SEARCH);
        if (tx.fullText) await tx.fullText.clear();
        for (const c of ['parents', 'search_queue', 'search_terms', 'search_postings', 'search_docs'] as const) {
          for (const e of await tx.range(c)) await tx.del(c, e.key);
        }
      });
      await v.close();
      const r = await openVault(path, { home: join(dir, 'home') });
      try {
        assert.equal((await r.searchStatus()).built, false);
        assert.deepEqual((await r.search('scroll')).hits.map((h) => h.path), ['/a/old.txt']);
        const st = await r.searchStatus();
        assert.equal(st.built, true);
        assert.equal(st.documents, 2);
      } finally {
        await r.close();
      }
    });

    it(`${kind}: a fork from an earlier point finds what its tree holds, not what came later`, async () => {
      const v = await createVault(kind === 'postgres' ? storeRef(kind, dir, 'src') : join(dir, `src-${kind}${STORE_NAME[kind].slice(1)}`), { backend: kind, home: join(dir, 'home') });
      await v.writeFile('/x.txt', 'before the fork\n');
      const snap = await v.saveSnapshot('s1');
      await v.writeFile('/x.txt', 'after the fork\n');
      await v.writeFile('/y.txt', 'later file\n');
      const forked = await forkVault(v, join(dir, `fork-${kind}${STORE_NAME[kind].slice(1)}`), { at: snap.name, home: join(dir, 'home') });
      const fv = await openVault(forked.path, { home: join(dir, 'home') });
      try {
        assert.deepEqual((await fv.search('before')).hits.map((h) => h.path), ['/x.txt']);
        assert.deepEqual((await fv.search('after OR later')).hits, []);
        // The source is unchanged.
        assert.deepEqual((await v.search('later')).hits.map((h) => h.path), ['/y.txt']);
      } finally {
        await fv.close();
        await v.close();
      }
    });
  }
});

describe('vault check looks at the search index', () => {
  for (const kind of ENGINES) {
    it(`${kind}: a sound index passes; a stale entry or a lost parent pointer is reported; rebuild mends it`, async () => {
      const v = await make(kind, `check-${kind}`);
      try {
        await v.writeFile('/a/one.txt', 'first text\n');
        await v.writeFile('/a/two.txt', 'second text\n');
        await v.search('text');
        assert.deepEqual((await v.check()).problems, []);
        // Damage: the index forgets that a file changed, and a parent pointer goes missing.
        await v.engine.write(async (tx) => {
          const raw = await tx.get('search_docs', inodeKey(2 + 1));
          assert.ok(raw, 'the file has an index record');
          await tx.put('search_docs', inodeKey(3), Buffer.from(JSON.stringify({ h: '00'.repeat(32), s: 1 })));
          await tx.del('parents', inodeKey(4));
        });
        const problems = (await v.check()).problems;
        assert.ok(problems.some((p) => /search index: holds inode 3/.test(p)), problems.join('\n'));
        assert.ok(problems.some((p) => /inode 4 has no parent pointer/.test(p)), problems.join('\n'));
        await v.rebuildSearchIndex();
        assert.deepEqual((await v.check()).problems, []);
        assert.deepEqual((await v.search('second')).hits.map((h) => h.path), ['/a/two.txt']);
      } finally {
        await v.close();
      }
    });
  }
});
