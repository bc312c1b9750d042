// grep over a vault, on every engine: the library call (vault.grep), its options, and the
// trigram index: it must skip files yet never hide a match, and stay right through renames,
// deletes, overwrites, appends and copies (it is keyed by inode, paths found at query time).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Vault } from '../../src/index.js';
import type { GrepOptions, GrepResult } from '../../src/api/grep.js';
import { trigramIndex } from '../../src/search/trigram.js';
import type { VaultFactory } from './fs.suite.js';
import { rng } from '../helpers/rng.js';

/** path:line:text for each selected line, as grep -Hn prints it. */
const flat = (r: GrepResult): string[] => r.files.flatMap((f) => f.lines.filter((l) => l.selected).map((l) => `${f.path}:${l.line}:${l.text}`));


const WORDS = ['alpha', 'beta', 'gamma', 'Delta', 'epsilon', 'foo', 'bar', 'foobar', 'baz', 'qux', 'x1', 'y_2', 'café', 'naïve', 'ÉTÉ', 'TODO', 'todo', 'fix-me', 'a.b', '(x)', '[y]', '$z', 'end;'];

function randomText(r: () => number): string {
  const lines: string[] = [];
  const n = Math.floor(r() * 12);
  for (let i = 0; i < n; i++) {
    const w: string[] = [];
    const k = Math.floor(r() * 6);
    for (let j = 0; j < k; j++) w.push(WORDS[Math.floor(r() * WORDS.length)]);
    lines.push(w.join(r() < 0.2 ? '' : ' '));
  }
  return lines.join('\n') + (r() < 0.7 ? '\n' : '');
}

const PATTERNS: [string, GrepOptions][] = [
  ['foo', {}],
  ['foobar', {}],
  ['foo|baz', {}],
  ['(alpha|gamma) beta', {}],
  ['^alpha', {}],
  ['qux$', {}],
  ['x1|y_2', {}],
  ['delta', { ignoreCase: true }],
  ['DELTA', {}],
  ['caf.', {}],
  ['été', { ignoreCase: true }],
  ['naïve', {}],
  ['todo', { ignoreCase: true }],
  ['a.b', { syntax: 'fixed' }],
  ['(x)', { syntax: 'fixed' }],
  ['[y]', { syntax: 'fixed' }],
  ['fix-me|end;', {}],
  ['b[ae][rt]a?', {}],
  ['e{2,}|ps+i', {}],
  ['gam+a\\s+\\w+', {}],
  ['\\bbar\\b', {}],
  ['bar', { word: true }],
  ['foo bar', { lineRegexp: true }],
  ['beta', { invert: true }],
  ['[[:upper:]]{2}', {}],
  ['foo\\|bar', { syntax: 'basic' }],
  ['\\(alpha\\) \\1', { syntax: 'basic' }],
  ['zzz', {}],
  ['', {}],
];

export function grepSuite(f: VaultFactory): void {
  describe(`grep on ${f.kind}`, () => {
    let dir: string;
    let v: Vault;
    let n = 0;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), `avfs-grep-${f.kind}-`));
    });
    after(async () => {
      if (v) await v.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const fresh = async (): Promise<Vault> => {
      if (v) await v.close();
      const d = join(dir, String(n++));
      mkdirSync(d);
      v = await f.create(d);
      return v;
    };

    it('finds lines with numbers, in walk order; options as GNU grep has them', async () => {
      const v = await fresh();
      await v.writeFile('/src/a.ts', 'const a = 1; // TODO fix\nconst b = 2;\nfunction foo() { return a + b; }\n');
      await v.writeFile('/src/b.md', 'todo list\nTODO twice TODO\n');
      await v.writeFile('/src/sub/c.ts', 'no match here\n');
      await v.writeFile('/src-x.txt', 'TODO at the top\n');
      await v.writeFile('/bin.dat', Buffer.from([0x54, 0x4f, 0x44, 0x4f, 0, 1, 2]));
      let r = await v.grep('TODO', ['/']);
      assert.deepEqual(flat(r), ['/src/a.ts:1:const a = 1; // TODO fix', '/src/b.md:2:TODO twice TODO', '/src-x.txt:1:TODO at the top']);
      assert.equal(r.matched, true);
      assert.deepEqual(
        r.files.map((x) => x.shown),
        ['/src/a.ts', '/src/b.md', '/src-x.txt'],
      );
      r = await v.grep('todo', ['/src'], { ignoreCase: true, output: 'count' });
      assert.deepEqual(
        r.files.map((x) => [x.path, x.count]),
        [
          ['/src/a.ts', 1],
          ['/src/b.md', 2],
          ['/src/sub/c.ts', 0],
        ],
      );
      r = await v.grep('TODO', ['/'], { output: 'files-without-match' });
      assert.deepEqual(
        r.files.map((x) => x.path),
        ['/src/sub/c.ts'],
      );
      r = await v.grep('const', ['/src/a.ts'], { invert: true });
      assert.deepEqual(flat(r), ['/src/a.ts:3:function foo() { return a + b; }']);
      r = await v.grep('b', ['/src/a.ts'], { word: true });
      assert.deepEqual(
        r.files[0].lines.map((l) => l.line),
        [2, 3],
      );
      r = await v.grep('todo list', ['/src'], { lineRegexp: true });
      assert.equal(flat(r).length, 1);
      r = await v.grep('TODO', ['/src/b.md'], { maxCount: 1, output: 'count' });
      assert.equal(r.files[0].count, 1);
      // Relative paths and globs, from the working folder.
      v.cwd = '/src';
      r = await v.grep('const', ['a.ts', 'sub']);
      assert.deepEqual(
        r.files.map((x) => x.shown),
        ['a.ts'],
      );
      r = await v.grep('.', ['**/*.ts'], { output: 'files' });
      assert.deepEqual(
        r.files.map((x) => x.shown),
        ['a.ts', 'sub/c.ts'],
      );
      r = await v.grep('.', ['/src/**/*.ts'], { output: 'files' });
      assert.deepEqual(
        r.files.map((x) => x.shown),
        ['/src/a.ts', '/src/sub/c.ts'],
      );
      r = await v.grep('.', [], { output: 'files', include: ['*.md'] });
      assert.deepEqual(
        r.files.map((x) => x.shown),
        ['b.md'],
      );
      r = await v.grep('.', ['.'], { output: 'files', exclude: ['*.ts'] });
      assert.deepEqual(
        r.files.map((x) => x.shown),
        ['./b.md'],
      );
      v.cwd = '/';
      // A missing operand is reported and the others still searched; a folder needs recursive.
      r = await v.grep('TODO', ['/nope', '/src-x.txt', '/src'], { recursive: false });
      assert.deepEqual(
        r.errors.map((e) => [e.path, e.error.code]),
        [
          ['/nope', 'ENOENT'],
          ['/src', 'EISDIR'],
        ],
      );
      assert.deepEqual(flat(r), ['/src-x.txt:1:TODO at the top']);
      // Binary files are skipped (a named one is reported as such).
      r = await v.grep('TODO', ['/bin.dat']);
      assert.deepEqual(r.skipped, [{ path: '/bin.dat', reason: 'binary' }]);
      assert.equal(r.matched, false);
      // Context: GNU's before/after, selected lines marked.
      await v.writeFile('/ctx.txt', Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
      r = await v.grep('line (5|7|15)$', ['/ctx.txt'], { before: 1, after: 2 });
      assert.deepEqual(
        r.files[0].lines.map((l) => `${l.line}${l.selected ? ':' : '-'}`),
        ['4-', '5:', '6-', '7:', '8-', '9-', '14-', '15:', '16-', '17-'],
      );
      r = await v.grep('line 1', ['/ctx.txt'], { invert: true, maxCount: 2 });
      assert.deepEqual(
        r.files[0].lines.map((l) => l.text),
        ['line 2', 'line 3'],
      );
    });

    it('a bad pattern is EINVAL in words; a catastrophic one ends (or fails cleanly) fast', async () => {
      const v = await fresh();
      await assert.rejects(v.grep('(unclosed', ['/']), (e: Error & { code?: string }) => e.code === 'EINVAL' && /^grep: invalid regular expression: /.test(e.message) && !e.message.includes('\n'));
      await assert.rejects(v.grep('a\\(b', ['/'], { syntax: 'basic' }), (e: Error & { code?: string }) => e.code === 'EINVAL' && /invalid regular expression/.test(e.message));
      await v.writeFile('/redos.txt', 'a'.repeat(50_000) + '\n' + 'a'.repeat(50_000) + 'b\n');
      for (const pattern of ['(a+)+$', '(a|aa)+$', '^(a+)+b$']) {
        const t0 = Date.now();
        try {
          const r = await v.grep(pattern, ['/redos.txt'], { output: 'count' });
          assert.ok(r.files.length === 1);
        } catch (e) {
          assert.equal((e as { code?: string }).code, 'EINVAL');
          assert.match((e as Error).message, /took over \d+ ms/);
        }
        assert.ok(Date.now() - t0 < 5000, `${pattern}: ${Date.now() - t0} ms`);
      }
      // A pattern the linear-time engine cannot take (a lookahead) runs in a worker with a time limit.
      const t1 = Date.now();
      await assert.rejects(v.grep('^(?=(a+)+b$)', ['/redos.txt'], { timeoutMs: 300 }), (e: Error & { code?: string }) => e.code === 'EINVAL' && /took over 300 ms on \/redos\.txt/.test(e.message));
      assert.ok(Date.now() - t1 < 5000);
      // ... and the same worker answers sane lookarounds.
      const ok = await v.grep('a(?!a)', ['/redos.txt']);
      assert.deepEqual(
        ok.files[0].lines.map((l) => l.line),
        [1, 2],
      );
    });

    it('uses the trigram index, and stays right through rename, delete, overwrite, append and copy', async () => {
      const v = await fresh();
      for (let i = 0; i < 50; i++) await v.writeFile(`/d/f${i}.txt`, `file ${i}\nnothing special\n`);
      await v.writeFile('/d/needle.txt', 'here is the zebra_unicorn\n');
      await v.mkdir('/e');
      let r = await v.grep('zebra_unicorn', ['/']);
      assert.deepEqual(flat(r), ['/d/needle.txt:1:here is the zebra_unicorn']);
      assert.equal(r.indexed, true, 'the index is used');
      assert.ok(r.searched <= 2, `few files read (${r.searched})`);
      await v.rename('/d/needle.txt', '/e/moved.txt');
      r = await v.grep('zebra_unicorn', ['/']);
      assert.deepEqual(flat(r), ['/e/moved.txt:1:here is the zebra_unicorn']);
      assert.deepEqual(flat(await v.grep('zebra_unicorn', ['/d'])), []);
      await v.writeFile('/e/moved.txt', 'now a giraffe_okapi\n');
      assert.deepEqual(flat(await v.grep('zebra_unicorn', ['/'])), []);
      assert.deepEqual(flat(await v.grep('giraffe_okapi', ['/'])), ['/e/moved.txt:1:now a giraffe_okapi']);
      await v.appendFile('/e/moved.txt', 'and a wombat_quokka\n');
      assert.deepEqual(flat(await v.grep('wombat_quokka', ['/'])), ['/e/moved.txt:2:and a wombat_quokka']);
      await v.copy('/e/moved.txt', '/e/copy.txt');
      assert.deepEqual(flat(await v.grep('wombat', ['/'])), ['/e/copy.txt:2:and a wombat_quokka', '/e/moved.txt:2:and a wombat_quokka']);
      await v.rm('/e/moved.txt');
      assert.deepEqual(flat(await v.grep('wombat', ['/'])), ['/e/copy.txt:2:and a wombat_quokka']);
      // Text turned binary and back.
      await v.writeFile('/e/copy.txt', Buffer.from('wombat\0'));
      assert.deepEqual(flat(await v.grep('wombat', ['/'])), []);
      await v.writeFile('/e/copy.txt', 'wombat again\n');
      assert.deepEqual(flat(await v.grep('wombat', ['/'])), ['/e/copy.txt:1:wombat again']);
      // A whole folder moved and one removed.
      await v.rename('/d', '/dd');
      assert.deepEqual(
        (await v.grep('file 4', ['/'], { output: 'files' })).files.map((x) => x.path),
        ['/dd/f4.txt', '/dd/f40.txt', '/dd/f41.txt', '/dd/f42.txt', '/dd/f43.txt', '/dd/f44.txt', '/dd/f45.txt', '/dd/f46.txt', '/dd/f47.txt', '/dd/f48.txt', '/dd/f49.txt'],
      );
      await v.rm('/dd', { recursive: true });
      assert.deepEqual(flat(await v.grep('file', ['/'])), []);
      const stats = await v.engine.read((tx) => trigramIndex.stats(tx));
      assert.equal(stats.docs, 1, 'only /e/copy.txt is left in the index');
    });

    it('never hides a match: index and full scan agree on random files and edits', async () => {
      const v = await fresh();
      const r = rng(f.kind.length * 7919 + 17);
      const paths: string[] = [];
      await v.batch(async (b) => {
        for (let i = 0; i < 120; i++) {
          const p = `/r/${i % 7}/f${i}.txt`;
          paths.push(p);
          await b.writeFile(p, randomText(r));
        }
      });
      const compare = async (round: string): Promise<void> => {
        for (const [pattern, o] of PATTERNS) {
          const a = await v.grep(pattern, ['/'], o);
          const b = await v.grep(pattern, ['/'], { ...o, index: false });
          assert.deepEqual(flat(a), flat(b), `${round}: ${pattern} ${JSON.stringify(o)}`);
          assert.equal(a.indexed, true);
          assert.equal(b.indexed, false);
          // And both agree with a plain line-by-line JavaScript regex where the syntax is JavaScript's.
          if ((o.syntax ?? 'extended') === 'extended' && !o.word && !o.lineRegexp && !pattern.includes('[[:')) {
            const re = new RegExp(pattern, o.ignoreCase ? 'i' : '');
            const want: string[] = [];
            for (const p of [...paths].sort()) {
              let text: string;
              try {
                text = await v.readText(p);
              } catch {
                continue;
              }
              // An empty file has no lines; a last line needs no newline.
              const ls = text === '' ? [] : text.split('\n');
              if (text.endsWith('\n')) ls.pop();
              ls.forEach((l, k) => {
                if (re.test(l) !== !!o.invert) want.push(`${p}:${k + 1}:${l}`);
              });
            }
            const got = new Set(flat(b));
            const exp = new Set(want);
            const extra = [...got].filter((x) => !exp.has(x)).slice(0, 5);
            const missing = [...exp].filter((x) => !got.has(x)).slice(0, 5);
            assert.deepEqual([...flat(b)].sort(), want.sort(), `${round}: reference: ${pattern} ${JSON.stringify(o)} extra ${JSON.stringify(extra)} missing ${JSON.stringify(missing)}`);
          }
        }
      };
      await compare('first');
      await v.mkdir('/r/moved');
      await v.mkdir('/r/copies');
      // Edits of every kind, then again.
      for (let i = 0; i < 40; i++) {
        const p = paths[Math.floor(r() * paths.length)];
        const what = r();
        try {
          if (what < 0.3) await v.writeFile(p, randomText(r));
          else if (what < 0.5) await v.appendFile(p, randomText(r));
          else if (what < 0.65) await v.rm(p, { force: true });
          else if (what < 0.8) {
            const q = `/r/moved/m${i}.txt`;
            await v.rename(p, q);
            paths[paths.indexOf(p)] = q;
          } else {
            const q = `/r/copies/c${i}.txt`;
            await v.copy(p, q);
            paths.push(q);
          }
        } catch (e) {
          if ((e as { code?: string }).code !== 'ENOENT') throw e;
        }
      }
      await compare('after edits');
    });

    it('long greps get helper threads (persistent engines): same results, work shared', { skip: !f.persistent }, async () => {
      const v = await fresh();
      await v.batch(async (b) => {
        for (let i = 0; i < 1500; i++) await b.writeFile(`/many/d${i % 10}/f${i}.txt`, `line one of ${i}\n${i % 3 === 0 ? 'common word here' : 'other text'}\n`);
      });
      const first = await v.grep('word|text', ['/'], { output: 'count' });
      assert.equal(first.searched, 1500);
      // The first long grep started them in the background; give them a moment.
      let helped = 0;
      for (let i = 0; i < 50 && helped === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        helped = (await v.grep('word|text', ['/'], { output: 'count' })).helped;
      }
      assert.ok(helped > 0, 'helpers searched some files');
      for (const [p, o] of [
        ['common word', { output: 'files' }],
        ['of 1[0-9]+$', {}],
        ['word', { invert: true, output: 'count' }],
        ['line', { before: 1, maxCount: 1 }],
      ] as [string, GrepOptions][]) {
        const a = await v.grep(p, ['/'], o);
        const b = await v.grep(p, ['/'], { ...o, threads: 1 });
        assert.equal(b.helped, 0);
        assert.deepEqual(a.files, b.files, `${p} ${JSON.stringify(o)}`);
      }
    });

    it('indexes big text files too, and reads those over its limit itself', async () => {
      const v = await fresh();
      const line = 'lorem ipsum dolor sit amet consectetur adipiscing elit\n';
      const big = line.repeat(Math.ceil((9 * 1024 * 1024) / line.length)) + 'the needle_in_haystack line\n';
      await v.writeFile('/big.txt', big);
      await v.writeFile('/small.txt', 'needle_in_haystack too\n');
      const r = await v.grep('needle_in_haystack', ['/'], { lineNumbers: true });
      assert.deepEqual(
        r.files.map((x) => [x.path, x.lines.map((l) => l.line)]),
        [
          ['/big.txt', [big.split('\n').length - 1]],
          ['/small.txt', [1]],
        ],
      );
      assert.equal((await v.grep('absent_word_xyz', ['/'])).searched, 0, 'the index rules both out');
    });
  });
}
