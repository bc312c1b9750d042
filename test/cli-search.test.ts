// End-to-end tests of `avfs search`: the real executable, a fresh AVFS_HOME, on a sqlite and an
// lmdb vault. Output formats, flags, exit codes (0 hits, 1 none, 2 a bad query), --status and
// --rebuild, and the bad inputs a careless agent sends: one line, and nothing changed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { cliHome, type RunOptions, type RunResult, assertOk, assertOneLineError, assertJsonError, okCalls } from './helpers/cli.js';

interface Hit {
  path: string;
  score: number;
  line?: number;
  snippet?: string;
  highlights?: [number, number][];
  size: number;
  version: number;
  mtime: string;
}

for (const backend of ['sqlite', 'lmdb'] as const) {
  describe(`avfs search (${backend})`, () => {
    let home: string;
    let run: (args: readonly string[], opts?: RunOptions) => Promise<RunResult>;
    const { json, text } = okCalls(() => run);
    /** The whole vault through the CLI: proves a refused command changed nothing. */
    const everything = async (): Promise<string> => [await text(['--json', 'find', '/']), await text(['--json', 'audit', '--limit', '1000'])].join('\n');

    before(async () => {
      const h = cliHome(`avfs-clis-${backend}-`);
      home = h.home;
      run = h.run;
      assertOk(await run(['vault', 'create', 's', '--backend', backend]));
      assertOk(await run(['vault', 'use', 's']));
      assertOk(await run(['write', '/notes/fox.md', 'The quick brown fox\njumps over the lazy dog\n']));
      assertOk(await run(['write', '/notes/db.md', 'Databases: SQLite and LMDB\nthe database index\n']));
      assertOk(await run(['write', '/src/main.ts', '// the fox module\nexport const fox = 1;\n']));
      assertOk(await run(['tag', '/notes/fox.md', 'animal']));
    });
    after(() => rmSync(home, { recursive: true, force: true }));

    it('prints PATH:LINE: snippet, best first, matches marked; -l paths; -c a count', async () => {
      const out = await text(['search', 'fox']);
      const lines = out.trimEnd().split('\n');
      assert.equal(lines.length, 2);
      assert.deepEqual(lines.map((l) => l.split(':')[0]).sort(), ['/notes/fox.md', '/src/main.ts']);
      assert.ok(lines.includes('/notes/fox.md:1: The quick brown **fox**'), out);
      assert.ok(lines.includes('/src/main.ts:1: // the **fox** module'), out);
      assert.equal(await text(['search', '-l', 'lazy dog']), '/notes/fox.md\n');
      assert.equal(await text(['search', '-c', 'fox OR sqlite']), '3\n');
      assert.equal(await text(['search', '-c', '-i', '-w', 'FOX']), '2\n');
      assert.equal(await text(['search', '--limit', '1', '-l', 'the']).then((o) => o.split('\n').length), 2);
      assert.equal(await text(['search', '-l', 'the', '/notes']).then((o) => o.split('\n').filter(Boolean).sort().join(',')), '/notes/db.md,/notes/fox.md');
      assert.equal(await text(['search', '-l', '--tag', 'animal', 'the']), '/notes/fox.md\n');
      assert.equal(await text(['search', '-l', '"database ind*"']), '/notes/db.md\n');
    });

    it('--json: query, hits with score, line, snippet, highlights', async () => {
      const r = await json<{ query: string; hits: Hit[]; total?: number; more: boolean }>(['search', 'lazy AND dog']);
      assert.equal(r.query, '(lazy AND dog)');
      assert.equal(r.more, false);
      assert.equal(r.hits.length, 1);
      const h = r.hits[0];
      assert.equal(h.path, '/notes/fox.md');
      assert.equal(h.line, 2);
      assert.equal(h.snippet, 'jumps over the lazy dog');
      assert.deepEqual(h.highlights, [
        [15, 19],
        [20, 23],
      ]);
      assert.ok(h.score > 0);
      assert.equal(h.version, 1);
      assert.ok(!Number.isNaN(Date.parse(h.mtime)));
      const c = await json<{ total: number }>(['search', '-c', 'fox']);
      assert.equal(c.total, 2);
    });

    it('exit status: 1 with no hit (no message), 2 for a bad query, in our words', async () => {
      const none = await run(['search', 'unicorn']);
      assert.equal(none.code, 1);
      assert.equal(none.out, '');
      assert.equal(none.stderr, '');
      const before = await everything();
      for (const q of ['"unclosed', 'fox AND', 'OR fox', 'NOT fox', '(fox', 'fox)', '*', '']) {
        assertOneLineError(await run(['search', q]), 2, /^avfs: search: query: /);
        assertJsonError(await run(['--json', 'search', q]), 2, 'EUSAGE');
      }
      assertOneLineError(await run(['search', 'fox', '/nowhere']), 1, /nowhere: no such file or directory/);
      assertOneLineError(await run(['search', '--tag', 'nosuch', 'fox']), 1, /no tag named/);
      assertOneLineError(await run(['search', '--tag', 'has space', 'fox']), 1, /whitespace/);
      assertOneLineError(await run(['search', '--limit', '0', 'fox']), 2);
      assertOneLineError(await run(['search', '--limit', 'many', 'fox']), 2);
      assertOneLineError(await run(['search', '--bogus', 'fox']), 2);
      assertOneLineError(await run(['search']), 2, /give a QUERY/);
      assertOneLineError(await run(['search', 'a', 'b', 'c']), 2);
      assertOneLineError(await run(['search', '--status', 'fox']), 2);
      assertOneLineError(await run(['search', 'x'.repeat(5000)]), 2, /longer than/);
      assert.equal(await everything(), before);
    });

    it('--status says what the index holds; --rebuild builds it again and answers the same', async () => {
      const st = await text(['search', '--status']);
      assert.match(st, backend === 'sqlite' ? /SQLite FTS5/ : /shared index/);
      assert.match(st, /documents:\s+3 text files/);
      const js = await json<{ documents: number; fullText: string; built: boolean }>(['search', '--status']);
      assert.equal(js.documents, 3);
      assert.equal(js.built, true);
      const before = await text(['search', '-l', 'the']);
      const rebuilt = await json<{ documents: number; queued: number }>(['search', '--rebuild']);
      assert.equal(rebuilt.documents, 3);
      assert.equal(rebuilt.queued, 0);
      assert.equal(await text(['search', '-l', 'the']), before);
      assert.match(await text(['search', '--help']), /--rebuild/);
    });

    it('finds a write made by another process at once, and forgets a removed file', async () => {
      assertOk(await run(['write', '/late.txt', 'a platypus appears']));
      assert.equal(await text(['search', '-l', 'platypus']), '/late.txt\n');
      assertOk(await run(['mv', '/late.txt', '/later.txt']));
      assert.equal(await text(['search', '-l', 'platypus']), '/later.txt\n');
      assertOk(await run(['rm', '/later.txt']));
      assert.equal((await run(['search', 'platypus'])).code, 1);
    });
  });
}
