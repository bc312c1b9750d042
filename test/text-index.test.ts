// The full-text index under agent memory (src/memory/text): the query parser, and the index
// against a brute-force reference on random documents added, replaced and removed in any id
// order (memories only ever append; the search issue's files will not), so block appends,
// inserts, splits and removals all get exercised.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openMemory } from '../src/storage/memory/engine.js';
import { TextIndex } from '../src/text/index.js';
import { formatQuery, parseQuery, type QueryNode } from '../src/text/query.js';
import { ftsWords, tokenize } from '../src/text/tokenize.js';
import { code } from './helpers/errors.js';
import { rng } from './helpers/rng.js';

describe('query language', () => {
  const f = (q: string): string => formatQuery(parseQuery(q));
  it('parses words, phrases, prefixes and operators with FTS5 precedence', () => {
    assert.equal(f('a'), 'a');
    assert.equal(f('a b c'), '(a AND b AND c)');
    assert.equal(f('a AND b OR c'), '((a AND b) OR c)');
    assert.equal(f('a OR b c'), '(a OR (b AND c))');
    assert.equal(f('a NOT b c'), '((a NOT b) AND c)');
    assert.equal(f('a NOT b NOT c'), '((a NOT b) NOT c)');
    assert.equal(f('(a OR b) NOT (c d)'), '((a OR b) NOT (c AND d))');
    assert.equal(f('"Hello,  World"'), '"hello world"');
    assert.equal(f('"a b"*'), '"a b"*');
    assert.equal(f('"a b*"'), '"a b"*');
    assert.equal(f('Dat*'), 'dat*');
    assert.equal(f('foo.bar'), '"foo bar"', 'a word with punctuation is the phrase of its parts');
    assert.equal(f('and or not'), '(and AND or AND not)', 'lower-case operators are words');
    assert.equal(f('Ünïcödé'), 'unicode');
    assert.equal(f('a ... b'), '(a AND b)', 'punctuation alone is dropped');
  });

  it('refuses bad queries with a one-line reason', async () => {
    for (const [q, msg] of [
      ['', /empty/],
      ['"open', /missing closing quote/],
      ['(a', /missing "\)"/],
      ['a)', /unmatched "\)"/],
      ['a OR', /OR at character 3 needs a term after it/],
      ['OR a', /OR at character 1 needs a term before it/],
      ['NOT a', /NOT at character 1 needs a term before it/],
      ['a NOT', /NOT at character 3 needs a term after it/],
      ['*', /needs a word before it/],
      ['a*b', /may only end a word/],
      ['()', /empty parentheses/],
      ['!!!', /no letters or digits/],
      ['x'.repeat(5000), /longer than/],
      ['a\0b', /NUL/],
      ['('.repeat(40) + 'a' + ')'.repeat(40), /nested deeper/],
    ] as const) {
      assert.equal(await code(Promise.resolve().then(() => parseQuery(q))), 'EINVAL', q.slice(0, 20));
      assert.throws(() => parseQuery(q), msg);
    }
  });

  it('tokenizes: letters and digits of any script, folded; CJK characters one by one', () => {
    assert.deepEqual(tokenize("Don't STOP-me_now: café 42x").tokens.map((t) => t.term), ['don', 't', 'stop', 'me', 'now', 'cafe', '42x']);
    assert.deepEqual(tokenize("Don't STOP-me_now: cafe 42x").tokens.map((t) => t.term), ['don', 't', 'stop', 'me', 'now', 'cafe', '42x']);
    assert.deepEqual(tokenize('日本語 テキスト').tokens.map((t) => t.term), ['日', '本', '語', 'テ', 'キ', 'ス', 'ト']);
    assert.deepEqual(tokenize('Straße ΣΊΣΥΦΟΣ').tokens.map((t) => t.term), ['straße', 'σισυφος']);
    // A token too long to index still takes its position.
    const long = tokenize(`a ${'x'.repeat(300)} b`);
    assert.deepEqual(long.tokens.map((t) => [t.term, t.pos]), [['a', 0], ['b', 2]]);
    assert.equal(long.count, 3);
  });

  it('gives FTS5 the same words, a placeholder for each too-long one', () => {
    for (const text of ["Don't STOP-me_now: café 42x", `plain ascii ${'y'.repeat(250)} text`, '日本語 テキスト and more', '']) {
      const { words, length } = ftsWords(text);
      const { tokens, count } = tokenize(text);
      assert.equal(length, count);
      const parts = words === '' ? [] : words.split(' ');
      assert.deepEqual(parts.filter((w) => tokens.some((t) => t.term === w)), tokens.map((t) => t.term));
    }
  });
});

// ---- the index against a reference -------------------------------------------------------

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'alp', 'alpine', 'bet', 'betamax', 'zeta', 'eta', 'theta', 'iota'];


/** Which documents match, by brute force over their token lists. */
function reference(docs: Map<number, string[]>, q: QueryNode): Set<number> {
  const phraseIn = (toks: string[], terms: string[], prefix: boolean): boolean => {
    for (let s = 0; s + terms.length <= toks.length; s++) {
      let ok = true;
      for (let k = 0; k < terms.length && ok; k++) {
        const last = k === terms.length - 1;
        ok = prefix && last ? toks[s + k].startsWith(terms[k]) : toks[s + k] === terms[k];
      }
      if (ok) return true;
    }
    return false;
  };
  const ev = (n: QueryNode): Set<number> => {
    switch (n.kind) {
      case 'phrase':
        return new Set([...docs].filter(([, t]) => phraseIn(t, n.terms, n.prefix)).map(([id]) => id));
      case 'and':
        return n.children.map(ev).reduce((a, b) => new Set([...a].filter((x) => b.has(x))));
      case 'or':
        return n.children.map(ev).reduce((a, b) => new Set([...a, ...b]));
      case 'not': {
        const neg = ev(n.neg);
        return new Set([...ev(n.pos)].filter((x) => !neg.has(x)));
      }
    }
  };
  return ev(q);
}

describe('text index', () => {
  it('answers like a brute-force reference through random adds, replaces and removes', async () => {
    const engine = await openMemory({ path: '', create: true });
    const index = new TextIndex({ terms: 'memory_terms', postings: 'memory_postings' });
    const r = rng(1);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const docs = new Map<number, string>();
    const text = (): string => Array.from({ length: 1 + Math.floor(r() * 12) }, () => pick(WORDS)).join(' ');
    const queries = ['alpha', 'alp*', 'bet*', '"alpha beta"', '"beta gam*"', 'alpha beta', 'alpha OR zeta', 'alpha NOT beta', '(eta OR theta) NOT "iota iota"', 'zeta*', 'nothing'];
    const check = async (round: number): Promise<void> => {
      const toks = new Map([...docs].map(([id, t]) => [id, tokenize(t).tokens.map((x) => x.term)]));
      for (const q of queries) {
        const node = parseQuery(q);
        const got = await engine.read((tx) => index.evaluate(tx, node));
        const want = reference(toks, node);
        assert.deepEqual([...got.keys()].sort((a, b) => a - b), [...want].sort((a, b) => a - b), `round ${round}: ${q}`);
        for (const s of got.values()) assert.ok(s > 0 && Number.isFinite(s));
      }
      const st = await engine.read((tx) => index.stats(tx));
      assert.equal(st.docs, docs.size);
      assert.equal(st.totalLen, [...docs.values()].reduce((a, t) => a + tokenize(t).count, 0));
    };
    // Ids in increasing order first (the memory pattern: appends, several blocks per word)...
    for (let id = 1; id <= 600; id++) {
      const t = text();
      await engine.write((tx) => index.add(tx, id, t));
      docs.set(id, t);
    }
    await check(0);
    // ...then anything: new ids below and between existing ones, replacements, removals.
    for (let round = 1; round <= 6; round++) {
      for (let k = 0; k < 300; k++) {
        const id = 1 + Math.floor(r() * 900);
        const op = r();
        const old = docs.get(id);
        if (old !== undefined && op < 0.5) {
          await engine.write((tx) => index.remove(tx, id, old));
          docs.delete(id);
        } else {
          const t = text();
          await engine.write(async (tx) => {
            if (old !== undefined) await index.remove(tx, id, old);
            await index.add(tx, id, t);
          });
          docs.set(id, t);
        }
      }
      await check(round);
    }
    // Re-adding an id without removing it first replaces its postings (no double count).
    const [someId] = docs.keys();
    await engine.write((tx) => index.add(tx, someId, docs.get(someId)!));
    const df = await engine.read(async (tx) => (await tx.get('memory_terms', Buffer.from(tokenize(docs.get(someId)!).tokens[0].term)))!.readUInt32BE(0));
    const expected = [...docs.values()].filter((t) => tokenize(t).tokens.some((x) => x.term === tokenize(docs.get(someId)!).tokens[0].term)).length;
    assert.equal(df, expected);
    // Everything removed: nothing left but the stats row.
    for (const [id, t] of [...docs]) {
      await engine.write((tx) => index.remove(tx, id, t));
      docs.delete(id);
    }
    assert.equal(await engine.read((tx) => tx.count('memory_postings')), 0);
    assert.equal(await engine.read((tx) => tx.count('memory_terms')), 1);
    await engine.close();
  });

  it('ranks by BM25: more occurrences and shorter documents first, rarer words weigh more', async () => {
    const engine = await openMemory({ path: '', create: true });
    const index = new TextIndex({ terms: 'memory_terms', postings: 'memory_postings' });
    const texts = ['cat', 'cat cat', 'cat dog dog dog dog dog', 'dog', 'bird cat', 'dog dog'];
    await engine.write(async (tx) => {
      for (let i = 0; i < texts.length; i++) await index.add(tx, i + 1, texts[i]);
    });
    const top = async (q: string): Promise<number[]> => TextIndex.top(await engine.read((tx) => index.evaluate(tx, parseQuery(q))), 10).map((s) => s.id);
    assert.deepEqual(await top('cat'), [2, 1, 5, 3]);
    assert.deepEqual((await top('bird OR dog'))[0], 5, 'the rare word wins');
    const fts = new TextIndex({ terms: 'memory_terms', postings: 'memory_postings', idf: 'fts5' });
    const s = await engine.read((tx) => fts.evaluate(tx, parseQuery('cat')));
    assert.ok([...s.values()].every((x) => x > 0 && x < 1e-5), 'FTS5 idf: a word in most documents weighs almost nothing');
    await engine.close();
  });
});
