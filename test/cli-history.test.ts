// End-to-end tests of the history commands: log, cat -v, diff, checkout, revert, --at on the
// read commands, snapshot save|list|restore|delete|diff, and audit. The real `avfs` in child
// processes, a fresh AVFS_HOME, a sqlite vault; bad input leaves the vault as it was.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dumpStore } from './helpers/store-dump.js';
import { cliHome, type RunOptions, type RunResult, assertOk, assertOneLineError, assertJsonError, okCalls } from './helpers/cli.js';

const TIME = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`;
const ISO_S = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

interface Entry {
  version?: number;
  removed?: true;
  seq: number;
  timeMs: number;
  time: string;
  type?: string;
  size?: number;
  hash?: string;
  actor: string;
  op: string;
  paths: string[];
}
interface Rec {
  seq: number;
  timeMs: number;
  time: string;
  op: string;
  paths: string[];
  actor: string;
  outcome?: string;
  info?: Record<string, unknown>;
}
interface Snap {
  name: string;
  seq: number;
  timeMs: number;
  time: string;
  actor: string;
  auto: boolean;
}

describe('avfs history commands', () => {
  let home: string;
  let run: (args: readonly string[], opts?: RunOptions) => Promise<RunResult>;
  let work: string;
  const { json, text } = okCalls(() => run);
  const ok = async (args: readonly string[], opts?: RunOptions): Promise<void> => {
    assertOk(await run(args, opts), args.join(' '));
  };
  /** The whole vault (and its snapshots), to prove a failed command changed nothing. */
  // Hashed in-process (every collection; refused operations' audit records aside): two CLI
  // spawns per bad-input case were a good part of this file's time.
  const state = async (): Promise<string> => (await dumpStore(join(home, 'vaults', 'h.avfs'))).state;

  before(async () => {
    const h = cliHome('avfs-hist-');
    home = h.home;
    run = h.run;
    work = mkdtempSync(join(tmpdir(), 'avfs-hist-work-'));
    await ok(['vault', 'create', 'h', '--backend', 'sqlite']);
    await ok(['vault', 'use', 'h']);
  });
  after(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('--help lists the history commands', async () => {
    const help = await text(['--help']);
    for (const c of ['log', 'diff', 'checkout', 'revert', 'snapshot', 'audit']) assert.match(help, new RegExp(`^  ${c} `, 'm'), c);
    assert.match(await text(['snapshot', '--help']), /avfs snapshot restore NAME/);
    assert.match(await text(['help', 'audit']), /--op OP/);
  });

  describe('log, cat -v, checkout, revert', () => {
    before(async () => {
      await ok(['--actor', 'alice', 'write', '/log/a.txt', 'one\n']);
      await ok(['write', '/log/a.txt', 'one\ntwo\n'], { env: { AVFS_ACTOR: 'bob' } });
      await ok(['--actor', 'carol', 'write', '/log/a.txt', 'one\ntwo\nthree\n']);
    });

    it('log PATH: versions newest first, with time, size, hash, actor and operation', async () => {
      const out = await text(['log', '/log/a.txt']);
      const lines = out.trimEnd().split('\n');
      assert.equal(lines.length, 3);
      assert.match(lines[0], new RegExp(`^v3  ${TIME}  14 B  [0-9a-f]{8}  carol  write$`));
      assert.match(lines[1], new RegExp(`^v2  ${TIME}   8 B  [0-9a-f]{8}  bob    write$`));
      assert.match(lines[2], new RegExp(`^v1  ${TIME}   4 B  [0-9a-f]{8}  alice  write$`));
      const one = await text(['log', '--oneline', '-n', '2', '/log/a.txt']);
      const ol = one.trimEnd().split('\n');
      assert.equal(ol.length, 2);
      assert.match(ol[0], new RegExp(`^v3 [0-9a-f]{8} write ${ISO_S}$`));
      assert.match(ol[1], /^v2 /);
    });

    it('log --json: the library entries, newest first, times as ISO strings too', async () => {
      const entries = await json<Entry[]>(['log', '/log/a.txt']);
      assert.deepEqual(
        entries.map((e) => [e.version, e.actor, e.op, e.size, e.type]),
        [
          [3, 'carol', 'write', 14, 'file'],
          [2, 'bob', 'write', 8, 'file'],
          [1, 'alice', 'write', 4, 'file'],
        ],
      );
      for (const e of entries) {
        assert.match(e.time, ISO);
        assert.equal(new Date(e.time).getTime(), e.timeMs);
        assert.match(e.hash!, /^[0-9a-f]{64}$/);
        assert.deepEqual(e.paths, ['/log/a.txt']);
      }
      assert.ok(entries[0].seq > entries[1].seq);
      assert.equal((await json<Entry[]>(['log', '-n', '1', '/log/a.txt'])).length, 1);
    });

    it('cat -v N prints an old version (also --version N, and --json with the version)', async () => {
      assert.equal(await text(['cat', '-v', '1', '/log/a.txt']), 'one\n');
      assert.equal(await text(['cat', '--version', '2', '/log/a.txt']), 'one\ntwo\n');
      assert.equal(await text(['cat', '-n', '-v2', '/log/a.txt']), '     1\tone\n     2\ttwo\n');
      assert.deepEqual(await json(['cat', '-v', '1', '/log/a.txt']), { path: '/log/a.txt', version: 1, content: 'one\n', size: 4 });
    });

    it('a deleted file shows its removal in log and comes back with checkout', async () => {
      await ok(['write', '/log/gone.txt', 'first\n']);
      await ok(['write', '/log/gone.txt', 'second\n']);
      await ok(['--actor', 'dave', 'rm', '/log/gone.txt']);
      const out = await text(['log', '/log/gone.txt']);
      assert.match(out.split('\n')[0], new RegExp(`^deleted  ${TIME}  dave  unlink$`));
      assert.match(out.split('\n')[1], /^v2 /);
      assert.match((await text(['log', '--oneline', '/log/gone.txt'])).split('\n')[0], new RegExp(`^deleted unlink ${ISO_S}$`));
      const entries = await json<Entry[]>(['log', '/log/gone.txt']);
      assert.equal(entries[0].removed, true);
      assert.equal(entries[0].actor, 'dave');
      assert.equal(entries[0].op, 'unlink');
      assert.equal(await text(['cat', '-v', '1', '/log/gone.txt']), 'first\n', 'old versions of a deleted file can be read');

      assert.equal(await text(['checkout', '/log/gone.txt', '1']), 'restored /log/gone.txt to version 1 as version 3\n');
      assert.equal(await text(['cat', '/log/gone.txt']), 'first\n');
      const after = await text(['log', '/log/gone.txt']);
      assert.match(after, /^v3 .*\ndeleted .*\nv2 .*\nv1 /);
    });

    it('checkout --json prints the Stat; v2 is accepted as a version; -q says nothing', async () => {
      const st = await json<{ path: string; version: number; size: number; type: string }>(['checkout', '/log/a.txt', 'v1']);
      assert.deepEqual([st.path, st.version, st.size, st.type], ['/log/a.txt', 4, 4, 'file']);
      assert.equal(await text(['cat', '/log/a.txt']), 'one\n');
      assert.equal(await text(['-q', 'checkout', '/log/a.txt', '3']), '');
      assert.equal(await text(['cat', '/log/a.txt']), 'one\ntwo\nthree\n');
    });

    it('revert goes back one content change, as a new version', async () => {
      await ok(['write', '/log/r.txt', 'A']);
      await ok(['write', '/log/r.txt', 'B']);
      assert.equal(await text(['revert', '/log/r.txt']), 'reverted /log/r.txt to version 1 as version 3\n');
      assert.equal(await text(['cat', '/log/r.txt']), 'A');
      const st = await json<{ version: number }>(['revert', '/log/r.txt']);
      assert.equal(st.version, 4);
      assert.equal(await text(['cat', '/log/r.txt']), 'B');
    });

    it('log FOLDER: the operations below it, one line each; --json the records', async () => {
      await ok(['mv', '/log/r.txt', '/log/moved.txt']);
      const out = await text(['log', '/log']);
      const lines = out.trimEnd().split('\n');
      assert.match(lines[0], new RegExp(`^ *\\d+  ${TIME}  \\S+ +rename +/log/r.txt -> /log/moved.txt$`));
      assert.ok(lines.some((l) => / unlink +\/log\/gone.txt$/.test(l)));
      assert.ok(lines.some((l) => /alice +write +\/log\/a.txt$/.test(l)));
      const recs = await json<Rec[]>(['log', '-n', '3', '/log']);
      assert.equal(recs.length, 3);
      assert.deepEqual(recs[0].paths, ['/log/r.txt', '/log/moved.txt']);
      assert.equal(recs[0].op, 'rename');
      assert.match(recs[0].time, ISO);
      assert.ok(recs[0].seq > recs[1].seq && recs[1].seq > recs[2].seq);
      const oneline = await text(['log', '--oneline', '-n', '1', '/log']);
      assert.match(oneline, new RegExp(`^\\d+ rename /log/r.txt -> /log/moved.txt ${ISO_S}\\n$`));
      // A relative path is from the working folder.
      await ok(['cd', '/log']);
      try {
        assert.equal(await text(['log', '-n', '1', '--oneline', 'a.txt']), (await text(['log', '-n', '1', '--oneline', '/log/a.txt'])));
      } finally {
        await ok(['cd', '/']);
      }
    });
  });

  describe('diff', () => {
    before(async () => {
      await ok(['write', '/diff/a.txt', 'one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n']);
      await ok(['write', '/diff/b.txt', 'one\ntwo\nTHREE\nfour\nfive\nsix\nseven\neight\nnine\nten\neleven']);
      await ok(['write', '/diff/same.txt', 'one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n']);
      await ok(['write', '/diff/bin'], { input: Buffer.from([1, 2, 0, 3]) });
      await ok(['write', '/diff/bin2'], { input: Buffer.from([1, 2, 0, 4]) });
      await ok(['write', '/diff/v.txt', 'a\nb\nc\n']);
      await ok(['write', '/diff/v.txt', 'a\nB\nc\n']);
      await ok(['write', '/diff/v.txt', 'a\nB\nc\nd\n']);
    });

    it('two paths: a unified diff like diff -u, exit 1', async () => {
      const r = await run(['diff', '/diff/a.txt', '/diff/b.txt']);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr, '');
      assert.equal(
        r.out,
        '--- /diff/a.txt\n+++ /diff/b.txt\n@@ -1,6 +1,6 @@\n one\n two\n-three\n+THREE\n four\n five\n six\n@@ -8,3 +8,4 @@\n eight\n nine\n ten\n+eleven\n\\ No newline at end of file\n',
      );
      assert.equal((await run(['diff', '-u', '/diff/a.txt', '/diff/b.txt'])).out, r.out, '-u changes nothing');
      const u0 = await run(['diff', '-U', '0', '/diff/a.txt', '/diff/b.txt']);
      assert.equal(u0.out, '--- /diff/a.txt\n+++ /diff/b.txt\n@@ -3 +3 @@\n-three\n+THREE\n@@ -10,0 +11 @@\n+eleven\n\\ No newline at end of file\n');
    });

    it('identical files: no output, exit 0; relative paths work', async () => {
      const r = await run(['diff', '/diff/a.txt', '/diff/same.txt']);
      assert.equal(r.code, 0);
      assert.equal(r.out, '');
      await ok(['cd', '/diff']);
      try {
        const rel = await run(['diff', 'a.txt', 'b.txt']);
        assert.equal(rel.code, 1);
        assert.match(rel.out, /^--- a.txt\n\+\+\+ b.txt\n/);
      } finally {
        await ok(['cd', '/']);
      }
    });

    it('binary content: one line, exit 1 (identical binaries: exit 0)', async () => {
      const r = await run(['diff', '/diff/bin', '/diff/bin2']);
      assert.equal(r.code, 1);
      assert.equal(r.out, 'Binary files /diff/bin and /diff/bin2 differ\n');
      const same = await run(['diff', '/diff/bin', '/diff/bin']);
      assert.deepEqual([same.code, same.out], [0, '']);
      const mixed = await run(['diff', '/diff/a.txt', '/diff/bin']);
      assert.equal(mixed.out, 'Binary files /diff/a.txt and /diff/bin differ\n');
    });

    it('-v N: version N against the current content; -v N -v M: two versions', async () => {
      const r = await run(['diff', '-v', '1', '/diff/v.txt']);
      assert.equal(r.code, 1);
      assert.equal(r.out, '--- /diff/v.txt\tversion 1\n+++ /diff/v.txt\tversion 3 (current)\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n');
      const two = await run(['diff', '-v', '2', '-v', '3', '/diff/v.txt']);
      assert.equal(two.out, '--- /diff/v.txt\tversion 2\n+++ /diff/v.txt\tversion 3\n@@ -1,3 +1,4 @@\n a\n B\n c\n+d\n');
      const none = await run(['diff', '-v', '3', '/diff/v.txt']);
      assert.deepEqual([none.code, none.out], [0, '']);
    });

    it('--color colours only the - and + lines, and only when asked', async () => {
      const r = await run(['diff', '--color', '-v', '1', '-v', '2', '/diff/v.txt']);
      assert.equal(r.out, '--- /diff/v.txt\tversion 1\n+++ /diff/v.txt\tversion 2\n@@ -1,3 +1,3 @@\n a\n\x1b[31m-b\x1b[0m\n\x1b[32m+B\x1b[0m\n c\n');
      assert.doesNotMatch((await run(['diff', '-v', '1', '-v', '2', '/diff/v.txt'])).out, /\x1b/);
    });

    it('--json: the comparison as one object, exit status unchanged', async () => {
      const r = await run(['--json', 'diff', '-v', '1', '/diff/v.txt']);
      assert.equal(r.code, 1);
      const doc = JSON.parse(r.out) as { from: string; to: string; identical: boolean; binary: boolean; added: number; removed: number; patch: string };
      assert.deepEqual([doc.from, doc.to, doc.identical, doc.binary, doc.added, doc.removed], ['/diff/v.txt (version 1)', '/diff/v.txt', false, false, 2, 1]);
      assert.match(doc.patch, /^--- \/diff\/v.txt\tversion 1\n/);
      const same = await run(['--json', 'diff', '/diff/a.txt', '/diff/same.txt']);
      assert.equal(same.code, 0);
      assert.equal((JSON.parse(same.out) as { identical: boolean }).identical, true);
    });

    it('trouble is exit 2 with one line: a missing file, an unknown version, bad usage', async () => {
      const before = await state();
      assertOneLineError(await run(['diff', '/diff/a.txt', '/diff/nope']), 2, /\/diff\/nope: no such file or directory/);
      assertJsonError(await run(['--json', 'diff', '/diff/a.txt', '/diff/nope']), 2, 'ENOENT');
      assertOneLineError(await run(['diff', '-v', '99', '/diff/v.txt']), 2, /no version 99/);
      assertOneLineError(await run(['diff', '/diff/a.txt']), 2, /two paths/);
      assertOneLineError(await run(['diff', '-v', '1', '-v', '2', '-v', '3', '/diff/v.txt']), 2, /at most twice/);
      assertOneLineError(await run(['diff', '-v', '1', '/diff/a.txt', '/diff/b.txt']), 2, /one PATH/);
      assertOneLineError(await run(['diff', '--nope', 'a', 'b']), 2, /unknown flag/);
      assertOneLineError(await run(['diff', '/diff', '/diff/a.txt']), 2, /is a directory/);
      assert.equal(await state(), before);
    });
  });

  describe('--at and snapshots', () => {
    let seqBefore: number;
    before(async () => {
      await ok(['write', '/at/keep.txt', 'old keep\n']);
      await ok(['write', '/at/sub/deep.txt', 'deep\n']);
      await ok(['snapshot', 'save', 'before']);
      seqBefore = (await json<Rec[]>(['audit', '--limit', '1']))[0].seq;
      await ok(['write', '/at/keep.txt', 'new keep\n']);
      await ok(['rm', '-r', '/at/sub']);
      await ok(['write', '/at/added.txt', 'added\n']);
    });

    it('ls --at SNAPSHOT and cat --at SEQ show the old tree', async () => {
      assert.equal(await text(['ls', '/at']), 'added.txt\nkeep.txt\n');
      assert.equal(await text(['ls', '--at', 'before', '/at']), 'keep.txt\nsub\n');
      assert.equal(await text(['ls', '-R', '--at', 'before', '/at']), '/at:\nkeep.txt\nsub\n\n/at/sub:\ndeep.txt\n');
      assert.equal(await text(['cat', '--at', String(seqBefore), '/at/keep.txt']), 'old keep\n');
      assert.equal(await text(['cat', '--at', `seq:${seqBefore}`, '/at/sub/deep.txt']), 'deep\n');
      assert.equal(await text(['cat', '/at/keep.txt']), 'new keep\n', 'the present is untouched');
      const listed = await json<{ name: string }[]>(['ls', '--at', 'before', '/at']);
      assert.deepEqual(listed.map((s) => s.name), ['keep.txt', 'sub']);
      const doc = await json<{ content: string }>(['cat', '--at', 'before', '/at/keep.txt']);
      assert.equal(doc.content, 'old keep\n');
      // A time: "0m ago" is now.
      assert.equal(await text(['cat', '--at', '0m', '/at/keep.txt']), 'new keep\n');
    });

    it('tree, find and stat take --at; relative paths are from the working folder', async () => {
      assert.equal(await text(['tree', '--at', 'before', '/at']), '/at\n├── keep.txt\n└── sub\n    └── deep.txt\n\n1 directory, 2 files\n');
      assert.equal(await text(['find', '/at', '-type', 'f', '--at', 'before']), '/at/keep.txt\n/at/sub/deep.txt\n');
      const st = await json<{ version: number; size: number }>(['stat', '--at', 'before', '/at/keep.txt']);
      assert.deepEqual([st.version, st.size], [1, 9]);
      assertOneLineError(await run(['stat', '--at', 'before', '/at/added.txt']), 1, /no such file/);
      await ok(['cd', '/at']);
      try {
        assert.equal(await text(['cat', '--at', 'before', 'sub/deep.txt']), 'deep\n');
        assert.equal(await text(['ls', '--at', 'before']), 'keep.txt\nsub\n');
      } finally {
        await ok(['cd', '/']);
      }
    });

    it('export --at writes the old tree to the host', async () => {
      const out = join(work, 'at-export');
      const r = await run(['export', '-r', '--at', 'before', '/at', out]);
      assertOk(r);
      assert.match(r.out, /exported 2 files/);
      assert.deepEqual(readdirSync(out).sort(), ['keep.txt', 'sub']);
      assert.equal(readFileSync(join(out, 'keep.txt'), 'utf8'), 'old keep\n');
      assert.equal(readFileSync(join(out, 'sub', 'deep.txt'), 'utf8'), 'deep\n');
    });

    it('writes do not take --at', async () => {
      assertOneLineError(await run(['write', '--at', 'before', '/at/x', 'y']), 2, /unknown flag --at/);
    });

    it('snapshot save / list (--json): name, operation, time, actor, auto', async () => {
      const r = await run(['--actor', 'erin', 'snapshot', 'save', 'named']);
      assertOk(r);
      assert.match(r.out, /^saved snapshot named \(operation \d+\)\n$/);
      const auto = await json<Snap>(['snapshot', 'save']);
      assert.match(auto.name, /^snap-\d{8}-\d{6}$/);
      assert.match(auto.time, ISO);
      assert.equal(auto.auto, false);
      const list = await json<Snap[]>(['snapshot', 'list']);
      const named = list.find((s) => s.name === 'named')!;
      assert.equal(named.actor, 'erin');
      assert.equal(named.auto, false);
      assert.deepEqual(
        list.map((s) => s.name),
        ['before', 'named', auto.name],
      );
      const lines = (await text(['snapshot', 'list'])).trimEnd().split('\n');
      assert.equal(lines.length, 3);
      assert.match(lines[1], new RegExp(`^named +\\d+  ${TIME}  erin$`));
      await ok(['snapshot', 'delete', auto.name]);
    });

    it('snapshot diff A [B]: A, D and M lines; --json the object', async () => {
      assert.equal(await text(['snapshot', 'diff', 'before']), 'A /at/added.txt\nM /at/keep.txt\nD /at/sub\nD /at/sub/deep.txt\n');
      assert.equal(await text(['snapshot', 'diff', 'before', 'named']), 'A /at/added.txt\nM /at/keep.txt\nD /at/sub\nD /at/sub/deep.txt\n');
      assert.equal(await text(['snapshot', 'diff', 'named', 'before']), 'D /at/added.txt\nM /at/keep.txt\nA /at/sub\nA /at/sub/deep.txt\n');
      const d = await json<{ from: { seq: number; label: string }; to: { label: string }; added: string[]; removed: string[]; changed: string[] }>(['snapshot', 'diff', 'before']);
      assert.equal(d.from.label, 'snapshot before');
      assert.equal(d.to.label, 'now');
      assert.deepEqual([d.added, d.removed, d.changed], [['/at/added.txt'], ['/at/sub', '/at/sub/deep.txt'], ['/at/keep.txt']]);
      assert.equal(await text(['snapshot', 'diff', 'named', 'named']), '');
    });

    it('snapshot restore: saves the current state first, prints the counts, and can be undone', async () => {
      const r = await run(['snapshot', 'restore', 'before']);
      assertOk(r);
      const [saved, counts] = r.out.trimEnd().split('\n');
      const m = /^saved the current state as snapshot (auto-\d{8}-\d{6}(?:-\d+)?)$/.exec(saved);
      assert.ok(m, saved);
      assert.equal(counts, 'restored snapshot before: 2 added, 1 removed, 1 changed');
      assert.equal(await text(['ls', '-R', '/at']), '/at:\nkeep.txt\nsub\n\n/at/sub:\ndeep.txt\n');
      assert.equal(await text(['cat', '/at/keep.txt']), 'old keep\n');
      // Nothing is lost: the automatic snapshot brings the newer state back.
      const list = await json<Snap[]>(['snapshot', 'list']);
      assert.equal(list.find((s) => s.name === m[1])?.auto, true);
      assert.match((await text(['snapshot', 'list'])).trimEnd().split('\n').find((l) => l.startsWith(m[1]))!, / auto$/);
      const back = await json<{ saved: Snap; to: { label: string }; added: number; removed: number; changed: number }>(['snapshot', 'restore', m[1]]);
      assert.deepEqual([back.added, back.removed, back.changed, back.to.label], [1, 2, 1, `snapshot ${m[1]}`]);
      assert.match(back.saved.time, ISO);
      assert.equal(await text(['ls', '/at']), 'added.txt\nkeep.txt\n');
      assert.equal(await text(['cat', '/at/keep.txt']), 'new keep\n');
      // The file's versions keep rising through all of it.
      const versions = (await json<Entry[]>(['log', '/at/keep.txt'])).filter((e) => !e.removed).map((e) => e.version);
      assert.deepEqual(versions, [4, 3, 2, 1]);
    });

    it('restore over a file deleted and made again since: one change, version numbers keep rising', async () => {
      await ok(['write', '/re/f.txt', 'first\n']);
      await ok(['snapshot', 'save', 're-1']);
      await ok(['rm', '/re/f.txt']);
      await ok(['write', '/re/f.txt', 'second\n']);
      const r = await json<{ added: number; removed: number; changed: number }>(['snapshot', 'restore', 're-1']);
      assert.deepEqual([r.added, r.removed, r.changed], [0, 0, 1]);
      assert.equal(await text(['cat', '/re/f.txt']), 'first\n');
      const versions = (await json<Entry[]>(['log', '/re/f.txt'])).map((e) => (e.removed ? 'deleted' : e.version));
      assert.deepEqual(versions, [3, 2, 'deleted', 1]);
      assert.equal(await text(['cat', '-v', '2', '/re/f.txt']), 'second\n', 'every version number names one content');
      // A file checked out after its deletion is recorded with its real version number.
      await ok(['rm', '/re/f.txt']);
      const st = await json<{ version: number }>(['checkout', '/re/f.txt', '2']);
      assert.equal(st.version, 4);
      const [rec] = await json<Rec[]>(['audit', '--limit', '1']);
      assert.deepEqual(rec.info, { version: 4, size: 7, checkout: 2 });
    });

    it('snapshot delete removes only the name', async () => {
      assert.equal(await text(['snapshot', 'delete', 'named']), 'deleted snapshot named\n');
      assert.ok(!(await json<Snap[]>(['snapshot', 'list'])).some((s) => s.name === 'named'));
      assert.deepEqual(await json(['snapshot', 'save', 'named2']).then((s) => (s as Snap).name), 'named2');
      assert.deepEqual(await json(['snapshot', 'delete', 'named2']), { ok: true, deleted: 'named2' });
    });
  });

  describe('audit', () => {
    before(async () => {
      await ok(['--actor', 'zed', 'write', '/aud/one.txt', '1']);
      await ok(['--actor', 'zed', 'mkdir', '/aud/dir']);
      await ok(['write', '/aud/two.txt', '2'], { env: { AVFS_ACTOR: 'yan' } });
      await ok(['--actor', 'zed', 'mv', '/aud/two.txt', '/aud/dir/two.txt']);
      const r = await run(['--actor', 'zed', 'rm', '/aud/missing']);
      assert.equal(r.code, 1);
    });

    it('one line per record: seq, time, actor, op, paths, and refusals', async () => {
      const lines = (await text(['audit', '--path', '/aud'])).trimEnd().split('\n');
      assert.equal(lines.length, 5);
      assert.match(lines[0], new RegExp(`^\\d+  ${TIME}  zed  rm +/aud/missing  \\[refused: ENOENT\\]$`));
      assert.match(lines[1], / zed  mv +\/aud\/two.txt \/aud\/dir\/two.txt$|rename +\/aud\/two.txt -> \/aud\/dir\/two.txt$/);
      assert.match(lines[2], / yan +write +\/aud\/two.txt$/);
      const recs = await json<Rec[]>(['audit', '--path', '/aud']);
      assert.equal(recs[0].outcome, 'ENOENT');
      assert.match(recs[0].time, ISO);
      assert.deepEqual(
        recs.map((r) => r.actor),
        ['zed', 'zed', 'yan', 'zed', 'zed'],
        'the actor is the --actor or AVFS_ACTOR value',
      );
    });

    it('filters: --op (repeatable), --path, --actor, --limit, --since', async () => {
      const ops = await json<Rec[]>(['audit', '--path', '/aud', '--op', 'write', '--op', 'mkdir']);
      assert.deepEqual(
        ops.map((r) => r.op),
        ['write', 'mkdir', 'write'],
      );
      const one = await json<Rec[]>(['audit', '--path', '/aud', '--op', 'mkdir']);
      assert.deepEqual(one.map((r) => r.paths), [['/aud/dir']]);
      const below = await json<Rec[]>(['audit', '--path', '/aud/dir']);
      assert.ok(below.length >= 2 && below.every((r) => r.paths.some((p) => p.startsWith('/aud/dir'))));
      const yan = await json<Rec[]>(['audit', '--actor', 'yan']);
      assert.deepEqual(yan.map((r) => [r.op, r.paths]), [['write', ['/aud/two.txt']]]);
      assert.equal((await json<Rec[]>(['audit', '--actor', 'nobody'])).length, 0);
      // --actor before the command still names who acts; after it, it filters.
      assert.equal((await json<Rec[]>(['--actor', 'yan', 'audit', '--limit', '3'])).length, 3);
      const limited = await json<Rec[]>(['audit', '--limit', '2']);
      assert.equal(limited.length, 2);
      const all = await json<Rec[]>(['audit', '--limit', '1000']);
      assert.ok(all.length > 10);
      assert.ok(all.every((r, i) => i === 0 || r.seq < all[i - 1].seq), 'newest first');
      // --since: a relative age, and an ISO time between two records.
      assert.equal((await json<Rec[]>(['audit', '--limit', '1000', '--since', '1h'])).length, all.length);
      assert.equal((await json<Rec[]>(['audit', '--since', '2999-01-01'])).length, 0);
      const pivot = all.find((r) => r.op === 'mkdir' && r.paths[0] === '/aud/dir')!;
      const since = await json<Rec[]>(['audit', '--limit', '1000', '--since', pivot.time]);
      assert.ok(since.length > 0 && since.every((r) => r.timeMs >= pivot.timeMs));
      assert.ok(since.some((r) => r.seq === pivot.seq));
      assert.ok(!since.some((r) => r.timeMs < pivot.timeMs));
      const oneline = await text(['audit', '--oneline', '--limit', '1', '--path', '/aud']);
      assert.match(oneline, new RegExp(`^\\d+ rm /aud/missing refused:ENOENT ${ISO_S}\\n$`));
    });
  });

  describe('bad input: one line, right exit code, vault unchanged', () => {
    let before0: string;
    before(async () => {
      await ok(['write', '/bad/f.txt', 'v1']);
      await ok(['write', '/bad/f.txt', 'v2']);
      await ok(['snapshot', 'save', 'exists']);
      before0 = await state();
    });

    const cases: [string, string[], number, string, RegExp?][] = [
      ['an unknown snapshot in --at', ['ls', '--at', 'nosuch', '/'], 1, 'EINVAL', /--at: "nosuch" is not a snapshot/],
      ['an unknown snapshot with snap:', ['ls', '--at', 'snap:nosuch', '/'], 1, 'ENOENT', /no snapshot named "nosuch"/],
      ['an unknown version', ['cat', '-v', '99', '/bad/f.txt'], 1, 'ENOENT', /\/bad\/f.txt: no version 99 \(versions: 1, 2\)/],
      ['version 0', ['cat', '-v', '0', '/bad/f.txt'], 2, 'EUSAGE', /versions count from 1/],
      ['-v with --at', ['cat', '-v', '1', '--at', 'exists', '/bad/f.txt'], 2, 'EUSAGE', /cannot be combined/],
      ['--at garbage', ['cat', '--at', 'garbage!', '/bad/f.txt'], 1, 'EINVAL', /--at: "garbage!" is not a snapshot, an operation number or a time/],
      ['--at a future operation', ['cat', '--at', '999999', '/bad/f.txt'], 1, 'EINVAL', /--at: no operation 999999 \(this vault has operations 1 to \d+\)/],
      ['--at a negative number', ['ls', '--at', '-3', '/'], 1, 'EINVAL', /--at: -3: operation numbers count from 1/],
      ['--at 0', ['tree', '--at', '0', '/'], 1, 'EINVAL', /no operation 0/],
      ['--at before the vault existed', ['stat', '--at', '2001-01-01', '/'], 1, 'EINVAL', /did not exist yet/],
      ['--at with no value', ['find', '/', '--at'], 2, 'EUSAGE', /--at needs a value/],
      ['export --at garbage', ['export', '-r', '--at', 'xyz!', '/bad', '/tmp/avfs-never-written'], 1, 'EINVAL', /--at/],
      ['snapshot save of an existing name', ['snapshot', 'save', 'exists'], 1, 'EEXIST', /a snapshot named "exists" already exists/],
      ['snapshot save of a bad name', ['snapshot', 'save', '.hidden'], 1, 'EINVAL', /bad snapshot name/],
      ['snapshot save of a number', ['snapshot', 'save', '42'], 1, 'EINVAL', /would read as an operation number/],
      ['snapshot restore of an unknown name', ['snapshot', 'restore', 'nosuch'], 1, 'ENOENT', /no snapshot named "nosuch"/],
      ['snapshot delete of an unknown name', ['snapshot', 'delete', 'nosuch'], 1, 'ENOENT', /no snapshot named "nosuch"/],
      ['snapshot diff of an unknown point', ['snapshot', 'diff', 'nosuch'], 1, 'EINVAL', /snapshot diff: "nosuch" is not a snapshot/],
      ['snapshot with no subcommand', ['snapshot'], 2, 'EUSAGE', /missing subcommand/],
      ['snapshot with an unknown subcommand', ['snapshot', 'take'], 2, 'EUSAGE', /unknown subcommand "take"/],
      ['audit --limit 0', ['audit', '--limit', '0'], 2, 'EUSAGE', /--limit must be at least 1/],
      ['audit --limit x', ['audit', '--limit', 'x'], 2, 'EUSAGE', /non-negative integer/],
      ['audit --since garbage', ['audit', '--since', 'yesterday-ish'], 2, 'EUSAGE', /--since: "yesterday-ish" is not a time/],
      ['log of a path that never existed', ['log', '/bad/never.txt'], 1, 'ENOENT', /\/bad\/never.txt: no such file, now or in its history/],
      ['log -n 0', ['log', '-n', '0', '/bad/f.txt'], 2, 'EUSAGE', /-n must be at least 1/],
      ['checkout of an unknown version', ['checkout', '/bad/f.txt', '7'], 1, 'ENOENT', /no version 7/],
      ['checkout with a bad version', ['checkout', '/bad/f.txt', 'seven'], 2, 'EUSAGE', /bad version "seven"/],
      ['checkout of a folder version', ['checkout', '/bad', '1'], 1, 'EINVAL'],
      ['checkout without a version', ['checkout', '/bad/f.txt'], 2, 'EUSAGE', /missing argument/],
      ['revert of a path that never existed', ['revert', '/bad/never.txt'], 1, 'ENOENT', /no such file, now or in its history/],
    ];
    for (const [name, args, exit, code, match] of cases) {
      it(name, async () => {
        assertOneLineError(await run(args), exit, match);
        assertJsonError(await run(['--json', ...args]), exit, code);
        assert.equal(await state(), before0, 'vault unchanged');
      });
    }

    it('revert of a file with a single version says there is nothing to go back to', async () => {
      await ok(['write', '/bad2/one.txt', 'only']);
      const before = await state();
      assertOneLineError(await run(['revert', '/bad2/one.txt']), 1, /version 1 is the first; there is nothing to revert to/);
      assert.equal(await state(), before);
    });

    it('the vault still passes its check', async () => {
      assert.match(await text(['vault', 'check']), /^ok: /);
    });
  });
});
