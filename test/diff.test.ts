// The line diff behind `avfs diff`: diff -u's format exactly, minimal edit scripts (checked
// against an LCS table), hunks that apply back (as structures and as parsed text), and a
// bounded cost on large or hostile inputs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyHunks, diffLines, formatHunks, hunkHeader, splitLines, toHunks, unifiedDiff, type Hunk } from '../src/util/diff.js';

/** A tiny seeded generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

function randomLines(r: () => number, alphabet: number, maxLen: number): string[] {
  const n = Math.floor(r() * (maxLen + 1));
  return Array.from({ length: n }, () => `${String.fromCharCode(97 + Math.floor(r() * alphabet))}\n`);
}

/** Length of the longest common subsequence (O(NM), for checking minimality). */
function lcs(a: readonly string[], b: readonly string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    prev = cur;
  }
  return prev[b.length];
}

/** Parse formatHunks() text back into hunks (the way patch(1) reads them). */
function parseHunks(text: string): Hunk[] {
  const rows = text.split('\n');
  if (rows[rows.length - 1] === '') rows.pop();
  const hunks: Hunk[] = [];
  let h: Hunk | undefined;
  for (const row of rows) {
    const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$/.exec(row);
    if (m) {
      const ol = m[2] === undefined ? 1 : Number(m[2]);
      const nl = m[4] === undefined ? 1 : Number(m[4]);
      h = { oldStart: ol === 0 ? Number(m[1]) : Number(m[1]) - 1, oldLines: ol, newStart: nl === 0 ? Number(m[3]) : Number(m[3]) - 1, newLines: nl, lines: [] };
      hunks.push(h);
    } else if (row === '\\ No newline at end of file') {
      const last = h!.lines.length - 1;
      h!.lines[last] = h!.lines[last].slice(0, -1);
    } else {
      assert.match(row, /^[ +-]/, `a hunk line: ${JSON.stringify(row)}`);
      h!.lines.push(row + '\n');
    }
  }
  return hunks;
}

function checkHunks(a: string[], b: string[], hunks: Hunk[], context: number): void {
  let prevEnd = -1;
  for (const h of hunks) {
    const old = h.lines.filter((l) => l[0] !== '+').length;
    const neu = h.lines.filter((l) => l[0] !== '-').length;
    assert.equal(old, h.oldLines, 'old line count matches the header');
    assert.equal(neu, h.newLines, 'new line count matches the header');
    assert.ok(h.lines.some((l) => l[0] !== ' '), 'every hunk changes something');
    assert.ok(h.oldStart > prevEnd, 'hunks neither overlap nor touch');
    // Leading and trailing context is at most `context` lines.
    const lead = h.lines.findIndex((l) => l[0] !== ' ');
    let trail = 0;
    for (let k = h.lines.length - 1; h.lines[k][0] === ' '; k--) trail++;
    assert.ok(lead <= context && trail <= context, `context ${lead}/${trail} <= ${context}`);
    prevEnd = h.oldStart + h.oldLines;
  }
  assert.deepEqual(applyHunks(a, hunks), b, 'the hunks turn a into b');
}

describe('line diff', () => {
  it('splitLines keeps line ends, and a last line without one', () => {
    assert.deepEqual(splitLines(''), []);
    assert.deepEqual(splitLines('a'), ['a']);
    assert.deepEqual(splitLines('a\n'), ['a\n']);
    assert.deepEqual(splitLines('a\n\nb'), ['a\n', '\n', 'b']);
    assert.deepEqual(splitLines('\r\n'), ['\r\n']);
  });

  it('identical inputs: no changes, no output', () => {
    assert.deepEqual(diffLines(['a\n', 'b\n'], ['a\n', 'b\n']), []);
    assert.equal(unifiedDiff('x\ny\n', 'x\ny\n', 'a', 'b'), '');
    assert.equal(unifiedDiff('', '', 'a', 'b'), '');
  });

  it('headers: empty ranges name the line before, one-line ranges drop the count', () => {
    assert.equal(hunkHeader({ oldStart: 0, oldLines: 0, newStart: 0, newLines: 3, lines: [] }), '@@ -0,0 +1,3 @@');
    assert.equal(hunkHeader({ oldStart: 4, oldLines: 1, newStart: 4, newLines: 2, lines: [] }), '@@ -5 +5,2 @@');
    assert.equal(hunkHeader({ oldStart: 3, oldLines: 0, newStart: 3, newLines: 1, lines: [] }), '@@ -3,0 +4 @@');
  });

  it('matches GNU diff -u on small cases, including missing final newlines', () => {
    const a = 'one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n';
    const b = 'one\ntwo\nTHREE\nfour\nfive\nsix\nseven\neight\nnine\nten\neleven';
    assert.equal(
      unifiedDiff(a, b, 'A', 'B'),
      '--- A\n+++ B\n@@ -1,6 +1,6 @@\n one\n two\n-three\n+THREE\n four\n five\n six\n@@ -8,3 +8,4 @@\n eight\n nine\n ten\n+eleven\n\\ No newline at end of file\n',
    );
    assert.equal(unifiedDiff('', 'x\n', 'A', 'B'), '--- A\n+++ B\n@@ -0,0 +1 @@\n+x\n');
    assert.equal(unifiedDiff('x\n', '', 'A', 'B'), '--- A\n+++ B\n@@ -1 +0,0 @@\n-x\n');
    assert.equal(unifiedDiff('x', 'x\n', 'A', 'B'), '--- A\n+++ B\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+x\n');
  });

  it('agrees with the installed diff(1) on random texts, hunk for hunk in size', (t) => {
    if (spawnSync('diff', ['--version'], { stdio: 'ignore' }).status !== 0) return t.skip('no diff(1)');
    const dir = mkdtempSync(join(tmpdir(), 'avfs-diff-'));
    try {
      const r = rng(7);
      for (let i = 0; i < 40; i++) {
        const a = randomLines(r, 4, 25).join('');
        const b = randomLines(r, 4, 25).join('');
        writeFileSync(join(dir, 'a'), a);
        writeFileSync(join(dir, 'b'), b);
        const gnu = spawnSync('diff', ['--minimal', '-u', join(dir, 'a'), join(dir, 'b')], { encoding: 'utf8' });
        const ours = unifiedDiff(a, b, 'a', 'b');
        assert.equal(gnu.status, ours === '' ? 0 : 1);
        // Both are minimal, so they remove and add the same number of lines (alignment may differ).
        const count = (s: string, c: string): number => s.split('\n').filter((l) => l[0] === c && !l.startsWith(c.repeat(3) + ' ')).length;
        assert.equal(count(ours, '-'), count(gnu.stdout, '-'), `removed lines, case ${i}`);
        assert.equal(count(ours, '+'), count(gnu.stdout, '+'), `added lines, case ${i}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('property: hunks apply back, as structures and as text; the edit script is minimal', () => {
    const r = rng(12345);
    for (let i = 0; i < 600; i++) {
      const alphabet = 1 + Math.floor(r() * 6);
      const a = randomLines(r, alphabet, 40);
      let b: string[];
      // Half the cases: b is a mutation of a (the common case: a few edits in a long text).
      if (r() < 0.5) {
        b = [...a];
        const edits = Math.floor(r() * 5);
        for (let e = 0; e < edits; e++) {
          const at = Math.floor(r() * (b.length + 1));
          if (r() < 0.5 && b.length > 0) b.splice(Math.min(at, b.length - 1), 1 + Math.floor(r() * 3));
          else b.splice(at, 0, ...randomLines(r, alphabet + 2, 4));
        }
      } else {
        b = randomLines(r, alphabet, 40);
      }
      // Sometimes drop the final newline on either side.
      if (a.length && r() < 0.2) a[a.length - 1] = a[a.length - 1].slice(0, -1);
      if (b.length && r() < 0.2) b[b.length - 1] = b[b.length - 1].slice(0, -1);
      const changes = diffLines(a, b);
      const removed = changes.reduce((n, c) => n + c.aEnd - c.aStart, 0);
      const added = changes.reduce((n, c) => n + c.bEnd - c.bStart, 0);
      const common = lcs(a, b);
      assert.equal(removed, a.length - common, `minimal removals (case ${i})`);
      assert.equal(added, b.length - common, `minimal additions (case ${i})`);
      for (const context of [0, 1, 3]) {
        const hunks = toHunks(a, b, changes, context);
        checkHunks(a, b, hunks, context);
        assert.deepEqual(applyHunks(a, parseHunks(formatHunks(hunks))), b, `the printed patch applies (case ${i}, -U${context})`);
      }
    }
  });

  it('beyond the work budget the rest is one replaced block, still correct', () => {
    const r = rng(99);
    const a = randomLines(r, 3, 400);
    const b = randomLines(r, 3, 400);
    const capped = diffLines(a, b, { maxWork: 50 });
    const hunks = toHunks(a, b, capped);
    assert.deepEqual(applyHunks(a, hunks), b);
    const full = diffLines(a, b);
    const size = (cs: typeof full): number => cs.reduce((n, c) => n + c.aEnd - c.aStart + c.bEnd - c.bStart, 0);
    assert.ok(size(capped) >= size(full));
  });

  it('large inputs stay fast: a few edits in 200k lines, and two unrelated 50k-line files', () => {
    const a = Array.from({ length: 200_000 }, (_, i) => `line ${i}\n`);
    const b = [...a];
    b[10] = 'changed\n';
    b.splice(100_000, 2);
    b.splice(150_000, 0, 'new\n');
    let t = Date.now();
    const hunks = toHunks(a, b, diffLines(a, b));
    assert.equal(hunks.length, 3);
    assert.deepEqual(applyHunks(a, hunks), b);
    assert.ok(Date.now() - t < 2000, `took ${Date.now() - t} ms`);

    const x = Array.from({ length: 50_000 }, (_, i) => `x ${i % 977}\n`);
    const y = Array.from({ length: 50_000 }, (_, i) => `x ${(i * 7) % 983}\n`);
    t = Date.now();
    const h2 = toHunks(x, y, diffLines(x, y));
    assert.deepEqual(applyHunks(x, h2), y);
    assert.ok(Date.now() - t < 10_000, `took ${Date.now() - t} ms`);
  });

  it('--color wraps only removed and added lines in ANSI red and green', () => {
    const out = unifiedDiff('a\nb\nc\n', 'a\nB\nc\n', 'x', 'y', { color: true });
    assert.equal(out, '--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n\x1b[31m-b\x1b[0m\n\x1b[32m+B\x1b[0m\n c\n');
  });
});
