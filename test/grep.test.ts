// grep's engine: the pattern rewriting (search/pattern.ts) checked against plain line-by-line
// JavaScript regexes, the trigram queries checked to never rule out a text that matches, the
// matcher's slices and time limits (search/matcher.ts); then the grep suite on every engine.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compilePatterns } from '../src/search/pattern.js';
import { stringTrigrams, type TrigramQuery } from '../src/search/trigram-query.js';
import { Matcher, scanText } from '../src/search/matcher.js';
import { textTrigrams } from '../src/search/trigram.js';
import { isVfsError } from '../src/errors.js';
import { grepSuite } from './suites/grep.suite.js';
import { vaultFactory, ENGINES } from './helpers/vaults.js';
import { rng } from './helpers/rng.js';


/** Lines (1-based) where a compiled pattern matches, searching the whole text at once as grep does. */
function wholeText(source: string, flags: string, anchored: boolean, perLine: boolean, text: string): number[] {
  const out: number[] = [];
  scanText(new RegExp(source, flags + 'gm'), anchored || perLine ? new RegExp(source, flags) : null, perLine, text, Infinity, out);
  const lines: number[] = [];
  for (let i = 0; i < out.length; i += 2) lines.push(text.slice(0, out[i]).split('\n').length);
  return lines;
}

/** Lines where a JavaScript regex matches, one line at a time. */
function lineByLine(re: RegExp, text: string): number[] {
  if (text === '') return [];
  const ls = text.split('\n');
  if (text.endsWith('\n')) ls.pop();
  const out: number[] = [];
  ls.forEach((l, i) => {
    if (re.test(l)) out.push(i + 1);
  });
  return out;
}

function satisfies(q: TrigramQuery, have: Set<number>): boolean {
  switch (q.op) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'tri':
      return have.has(q.t);
    case 'and':
      return q.subs.every((s) => satisfies(s, have));
    case 'or':
      return q.subs.some((s) => satisfies(s, have));
  }
}

const ALPHABET = ['a', 'b', 'c', 'A', 'B', ' ', '\n', '\n', '\r', '-', '_', 'é', 'É', 'ab', 'abc', 'xyz', '\t', '.', '(', ')'];
const PIECES = ['a', 'b', 'c', 'ab', 'abc', 'xyz', '.', '\\w', '\\W', '\\s', '\\S', '\\d', '[^a]', '[a-c]', '[^\\s]', 'é', '\\b', '^', '$', '(?:a|bc)', '(ab|c)', 'x?', 'y*', '(?=a)', '(?!b)'];

function randomPattern(r: () => number): string {
  let p = '';
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    p += PIECES[Math.floor(r() * PIECES.length)];
    const q = r();
    if (q < 0.15) p += '+';
    else if (q < 0.25) p += '*';
    else if (q < 0.3) p += '{1,2}';
  }
  return r() < 0.2 ? `${p}|${PIECES[Math.floor(r() * PIECES.length)]}` : p;
}

/** Random pieces can make a pattern JavaScript refuses (^*, \\b+): those are skipped. */
function valid(p: string): boolean {
  try {
    new RegExp(p);
    return true;
  } catch {
    return false;
  }
}

function randomText(r: () => number): string {
  let t = '';
  const n = Math.floor(r() * 40);
  for (let i = 0; i < n; i++) t += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return t;
}

describe('grep patterns (search/pattern.ts)', () => {
  it('searching whole texts with the rewritten pattern selects exactly the lines a line-by-line search does', () => {
    const r = rng(42);
    for (let k = 0; k < 3000; k++) {
      const pattern = randomPattern(r);
      const ignoreCase = r() < 0.3;
      if (!valid(pattern)) continue;
      const c = compilePatterns({ patterns: [pattern], dialect: 'extended', ignoreCase });
      // '.' is GNU's here (anything but a newline, \r included): the reference says the same.
      const ref = new RegExp(pattern.replaceAll('.', '[^\\n]'), ignoreCase ? 'i' : '');
      for (let j = 0; j < 5; j++) {
        const text = randomText(r);
        assert.deepEqual(wholeText(c.source, c.flags, c.anchored, c.perLine, text), lineByLine(ref, text), `/${pattern}/${ignoreCase ? 'i' : ''} on ${JSON.stringify(text)} (as ${c.source})`);
      }
    }
  });

  it('a trigram query never rules out a text holding a match', () => {
    const r = rng(7);
    for (let k = 0; k < 3000; k++) {
      const pattern = randomPattern(r);
      const ignoreCase = r() < 0.3;
      if (!valid(pattern)) continue;
      const c = compilePatterns({ patterns: [pattern], dialect: 'extended', ignoreCase });
      for (let j = 0; j < 5; j++) {
        const text = randomText(r);
        if (wholeText(c.source, c.flags, c.anchored, c.perLine, text).length === 0) continue;
        const have = new Set(textTrigrams(text));
        assert.ok(satisfies(c.query, have), `/${pattern}/ matches ${JSON.stringify(text)} but its query ${JSON.stringify(c.query)} says no`);
      }
    }
  });

  it('derives selective queries: literals, alternations, small classes, case folding', () => {
    const q = (p: string, o: { ignoreCase?: boolean; dialect?: 'basic' | 'extended' | 'fixed' } = {}): TrigramQuery =>
      compilePatterns({ patterns: [p], dialect: o.dialect ?? 'extended', ignoreCase: o.ignoreCase }).query;
    const tri = (s: string): TrigramQuery => ({ op: 'tri', t: stringTrigrams(s)[0] });
    assert.deepEqual(q('Hello'), { op: 'and', subs: [tri('hel'), tri('ell'), tri('llo')] });
    assert.deepEqual(q('hello', { ignoreCase: true }), q('HELLO'));
    assert.deepEqual(q('foo|bar'), { op: 'or', subs: [tri('foo'), tri('bar')] });
    assert.deepEqual(q('foo\\|bar', { dialect: 'basic' }), q('foo|bar'));
    assert.deepEqual(q('a.b', { dialect: 'fixed' }), tri('a.b'));
    assert.deepEqual(q('x[12]y'), { op: 'or', subs: [tri('x1y'), tri('x2y')] });
    assert.equal(q('[a-z]+').op, 'all');
    assert.equal(q('.*').op, 'all');
    assert.equal(q('a\\nb').op, 'none', 'nothing matches a newline in a line');
  });

  it('BRE is GNU grep\'s; bad patterns are EINVAL with one line in our words', () => {
    const src = (p: string): string => compilePatterns({ patterns: [p], dialect: 'basic' }).source;
    assert.equal(src('a+b?(c)|d{2}'), 'a\\+b\\?\\(c\\)\\|d\\{2\\}');
    assert.equal(src('\\(ab\\)\\{2\\}x\\+y\\?'), '(ab){2}x+y?');
    assert.equal(src('*a^b$c$'), '\\*a\\^b\\$c$');
    assert.equal(src('[]a]'), '[\\]a]');
    assert.equal(src('[\\n]'), '[\\\\n]', 'a backslash in a bracket is itself');
    assert.equal(src('[[:digit:]]x'), '[0-9]x');
    for (const [p, d] of [
      ['(', 'extended'],
      ['a{2,1}', 'extended'],
      ['\\(', 'basic'],
      ['[a', 'basic'],
      ['\\1', 'basic'],
      ['x\\', 'basic'],
    ] as const) {
      assert.throws(
        () => compilePatterns({ patterns: [p], dialect: d }),
        (e) => isVfsError(e, 'EINVAL') && /^grep: invalid regular expression: /.test(e.message) && !e.message.includes('\n'),
        p,
      );
    }
  });
});

describe('grep matcher (search/matcher.ts)', () => {
  it('slices long texts at line ends and keeps offsets right', async () => {
    const lines = Array.from({ length: 60_000 }, (_, i) => (i % 9999 === 0 ? `match ${i}` : `line ${i} of filler text`));
    const text = lines.join('\n') + '\n';
    const m = new Matcher(compilePatterns({ patterns: ['^match'], dialect: 'extended' }));
    assert.equal(m.inThread, true);
    const [pairs] = await m.scan([text], Infinity, () => 'text');
    const found = [];
    for (let i = 0; i < pairs.length; i += 2) found.push(text.slice(pairs[i], pairs[i + 1]));
    assert.deepEqual(found, ['match 0', 'match 9999', 'match 19998', 'match 29997', 'match 39996', 'match 49995', 'match 59994']);
    await m.close();
  });

  it('(a+)+$ on 50,000 a\'s ends within a second; a pattern left to backtracking is stopped by the time limit', async () => {
    const text = 'a'.repeat(50_000) + '\n' + 'a'.repeat(50_000) + 'b\n';
    const c = compilePatterns({ patterns: ['(a+)+$'], dialect: 'extended' });
    const m = new Matcher(c);
    const t0 = Date.now();
    const [pairs] = await m.scan([text], Infinity, () => '/redos');
    assert.deepEqual(pairs, [0, 50_000]);
    assert.ok(Date.now() - t0 < 1000, `${Date.now() - t0} ms`);
    // A lookahead keeps a pattern from the linear-time engine: it runs in a worker, time-limited.
    const w = new Matcher(compilePatterns({ patterns: ['(?=(a+)+$)b'], dialect: 'extended' }), { timeoutMs: 300 });
    assert.equal(w.inThread, false);
    const t1 = Date.now();
    await assert.rejects(w.scan([text], Infinity, () => '/redos'), (e) => isVfsError(e, 'EINVAL') && /took over 300 ms on \/redos.*simplify/.test(e.message));
    assert.ok(Date.now() - t1 < 2000, `${Date.now() - t1} ms`);
    await w.close();
    // The worker gives the same answers as this thread on sane input.
    const w2 = new Matcher(compilePatterns({ patterns: ['b$|^x'], dialect: 'extended' }), { forceWorker: true });
    assert.deepEqual(await w2.scan(['ab\nxa\nc\n', ''], Infinity, () => 't'), [[0, 2, 3, 5], []]);
    await w2.close();
  });
});

for (const kind of ENGINES) grepSuite(vaultFactory(kind));
