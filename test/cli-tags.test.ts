// End-to-end tests of `avfs tag`, `untag`, `meta` and the tags shown by ls -l, stat and find:
// the real executable in child processes, a fresh AVFS_HOME, a sqlite vault. Output shapes
// (text and --json), and the bad-input promise: one line on stderr (or one JSON error), the
// right exit code, and the vault exactly as it was.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliHome, type RunOptions, type RunResult, assertOk, assertOneLineError, assertJsonError, okCalls } from './helpers/cli.js';
import { dumpStore } from './helpers/store-dump.js';

interface StatJson {
  path: string;
  type: string;
  tags?: string[];
  meta?: Record<string, string>;
}

interface TagJson {
  name: string;
  count: number;
  color?: string;
  createdMs: number;
  created: string;
}

describe('avfs tag, untag, meta', () => {
  let home: string;
  let work: string;
  let run: (args: readonly string[], opts?: RunOptions) => Promise<RunResult>;
  const { json, text } = okCalls(() => run);
  /** Every entry with its tags and metadata (ls -l --json has both), and every tag: proves a refused command changed nothing. */
  // The whole store, hashed in-process (refused operations' audit records aside): six CLI
  // spawns per bad-input case made this file the slowest of the suite.
  const everything = async (): Promise<string> => (await dumpStore(join(home, 'vaults', 't.avfs'))).state;

  before(async () => {
    const h = cliHome('avfs-cli-tags-');
    home = h.home;
    run = h.run;
    work = mkdtempSync(join(tmpdir(), 'avfs-cli-tags-work-'));
    assertOk(await run(['vault', 'create', 't', '--backend', 'sqlite']));
    assertOk(await run(['vault', 'use', 't']));
  });
  after(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('help lists the commands and their flags', async () => {
    const help = await text(['--help']);
    for (const c of ['tag', 'untag', 'meta']) assert.match(help, new RegExp(`^  ${c} `, 'm'));
    assert.match(await text(['tag', '--help']), /--color HEX/);
    assert.match(await text(['help', 'untag']), /usage: avfs untag \[-r\] PATH TAG\.\.\./);
    assert.match(await text(['meta', '--help']), /--import/);
    assert.match(await text(['find', '--help']), /-tag TAG/);
  });

  it('tag, untag, tag --list: text and --json', async () => {
    assertOk(await run(['write', '/t/a.md', 'a']));
    assertOk(await run(['write', '/t/b.md', 'b']));
    assert.equal(await text(['tag', '/t/a.md', 'Draft', 'urgent']), '/t/a.md: draft, urgent\n');
    assert.deepEqual(await json(['tag', '/t/b.md', 'draft']), { ok: true, path: '/t/b.md', files: 1, tags: ['draft'] });
    assert.equal(await text(['-q', 'tag', '/t/b.md', 'x']), '', '--quiet says nothing');
    assert.equal(await text(['tag', '--list']), 'draft   2\nurgent  1\nx       1\n');
    const list = await json<TagJson[]>(['tag', '--list']);
    assert.deepEqual(list.map((t) => [t.name, t.count]), [['draft', 2], ['urgent', 1], ['x', 1]]);
    assert.ok(list.every((t) => t.created === new Date(t.createdMs).toISOString()));
    assert.equal(await text(['tag', '--list', '/t/a.md']), 'draft\nurgent\n');
    assert.deepEqual(await json(['tag', '--list', '/t/a.md']), { path: '/t/a.md', tags: ['draft', 'urgent'] });
    assert.deepEqual(await json(['untag', '/t/b.md', 'x']), { ok: true, path: '/t/b.md', files: 1, tags: ['draft'] });
    assert.equal(await text(['untag', '/t/b.md', 'draft']), '/t/b.md: (no tags)\n');
    assertOk(await run(['cd', '/t']));
    assert.deepEqual(await json(['tag', 'b.md', 'rel']), { ok: true, path: '/t/b.md', files: 1, tags: ['rel'] }, 'relative to the working folder');
    assertOk(await run(['cd']));
  });

  it('tag -r, --create (colour), --rename, --copy, --delete', async () => {
    assertOk(await run(['write', '/r/one.txt', '1']));
    assertOk(await run(['write', '/r/sub/two.txt', '2']));
    assert.equal(await text(['tag', '-r', '/r', 'batch']), 'tagged 2 files below /r\n');
    assert.deepEqual(await json(['tag', '--recursive', '/r', 'batch2']), { ok: true, path: '/r', files: 2, tags: [] });
    const made = await json<TagJson & { ok: boolean }>(['tag', '--create', 'Blue', '--color', 'ABC']);
    assert.deepEqual([made.ok, made.name, made.count, made.color], [true, 'blue', 0, '#aabbcc']);
    assert.equal(await text(['tag', '--create', 'green']), 'created tag green\n');
    assert.match(await text(['tag', '--list']), /^blue +0 +#aabbcc$/m);
    const renamed = await json<TagJson>(['tag', '--rename', 'batch2', 'second']);
    assert.deepEqual([renamed.name, renamed.count], ['second', 2]);
    assert.deepEqual(await json(['tag', '--list', '/r/one.txt']), { path: '/r/one.txt', tags: ['batch', 'second'] });
    assertOk(await run(['tag', '/r/sub', 'folder']));
    assert.deepEqual(await json(['tag', '--copy', '/r/one.txt', '/r/sub']), { ok: true, path: '/r/sub', tags: ['batch', 'folder', 'second'] });
    assert.deepEqual(await json(['tag', '--delete', 'second']), { ok: true, deleted: 'second', files: 3 });
    assert.equal(await text(['tag', '--delete', 'green']), 'deleted tag green (it was on 0 files)\n');
    assert.deepEqual(await json(['untag', '-r', '/r', 'batch']), { ok: true, path: '/r', files: 2, tags: [] });
  });

  it('ls -l, stat and find show tags (and --json carries tags and meta)', async () => {
    assertOk(await run(['write', '/s/a.ts', 'x'.repeat(2000)]));
    assertOk(await run(['write', '/s/b.ts', 'y']));
    assertOk(await run(['write', '/s/c.md', 'z']));
    assertOk(await run(['tag', '/s/a.ts', 'hot', 'ts']));
    assertOk(await run(['tag', '/s/b.ts', 'ts']));
    assertOk(await run(['tag', '/s/c.md', 'hot']));
    assertOk(await run(['meta', '/s/a.ts', 'owner', 'ann']));
    const long = (await text(['ls', '-l', '/s'])).split('\n').filter(Boolean);
    assert.match(long[0], / a\.ts {2}\[hot,ts\]$/);
    assert.match(long[1], / b\.ts {2}\[ts\]$/);
    assert.equal(await text(['ls', '/s']), 'a.ts\nb.ts\nc.md\n', 'plain ls is unchanged');
    const lj = await json<StatJson[]>(['ls', '-l', '/s']);
    assert.deepEqual(lj.map((s) => [s.path, s.tags, s.meta]), [
      ['/s/a.ts', ['hot', 'ts'], { owner: 'ann' }],
      ['/s/b.ts', ['ts'], {}],
      ['/s/c.md', ['hot'], {}],
    ]);
    assert.equal((await json<StatJson[]>(['ls', '/s']))[0].tags, undefined, 'plain ls --json reads no tags');
    assert.match(await text(['ls', '-l', '/s/a.ts']), /\[hot,ts\]\n$/);
    const st = await text(['stat', '/s/a.ts']);
    assert.match(st, /^ {2}Tags: hot, ts$/m);
    assert.match(st, /^ {2}Meta: owner$/m);
    assert.doesNotMatch(await text(['stat', '/s']), /Tags:/);
    const sj = await json<StatJson>(['stat', '/s/a.ts']);
    assert.deepEqual([sj.tags, sj.meta], [['hot', 'ts'], { owner: 'ann' }]);
    assert.equal(await text(['find', '/s', '-tag', 'hot']), '/s/a.ts\n/s/c.md\n');
    assert.equal(await text(['find', '/s', '-tag', 'HOT', '-name', '*.ts']), '/s/a.ts\n');
    assert.equal(await text(['find', '/s', '-tag', 'hot', '-tag', 'ts']), '/s/a.ts\n');
    assert.equal(await text(['find', '/s', '-tag', 'ts', '-size', '-2c']), '/s/b.ts\n');
    assert.equal(await text(['find', '/s', '-tag', 'nobody-has-it']), '');
    const fj = await json<StatJson[]>(['find', '/s', '-tag', 'ts']);
    assert.deepEqual(fj.map((s) => [s.path, s.tags, s.meta]), [
      ['/s/a.ts', ['hot', 'ts'], { owner: 'ann' }],
      ['/s/b.ts', ['ts'], {}],
    ]);
  });

  it('meta: list, get, set (also from stdin), unset, export, import, copy', async () => {
    assertOk(await run(['write', '/m/a.md', 'a']));
    assertOk(await run(['write', '/m/sub/b.md', 'b']));
    assert.equal(await text(['meta', '/m/a.md']), '');
    assert.equal(await text(['meta', '/m/a.md', 'author', 'ann']), '');
    assert.deepEqual(await json(['meta', '/m/a.md', 'status', 'draft']), { ok: true, path: '/m/a.md', key: 'status', value: 'draft' });
    assertOk(await run(['meta', '--stdin', '/m/a.md', 'note'], { input: 'line 1\nline 2' }));
    assert.equal(await text(['meta', '/m/a.md']), 'author=ann\nnote="line 1\\nline 2"\nstatus=draft\n');
    assert.equal(await text(['meta', '/m/a.md', 'note']), 'line 1\nline 2\n');
    assert.deepEqual(await json(['meta', '/m/a.md', 'author']), { path: '/m/a.md', key: 'author', value: 'ann' });
    assert.deepEqual(await json(['meta', '/m/a.md']), { path: '/m/a.md', meta: { author: 'ann', note: 'line 1\nline 2', status: 'draft' } });
    assert.deepEqual(await json(['meta', '--unset', '/m/a.md', 'status', 'never-set']), { ok: true, path: '/m/a.md', unset: ['status'] });
    assertOk(await run(['meta', '/m/sub/b.md', 'k', 'v']));

    const exported = { '/m': {}, '/m/a.md': { author: 'ann', note: 'line 1\nline 2' }, '/m/sub/b.md': { k: 'v' } };
    const pretty = await text(['meta', '--export', '/m']);
    assert.equal(pretty, JSON.stringify(exported, null, 2) + '\n');
    assert.deepEqual(await json(['meta', '--export', '/m']), exported);

    // Import: the shape export writes; onto a copy of the tree under another name.
    assertOk(await run(['write', '/n/a.md', 'a']));
    assertOk(await run(['write', '/n/sub/b.md', 'b']));
    const file = join(work, 'meta.json');
    writeFileSync(file, JSON.stringify({ '/n/a.md': exported['/m/a.md'], '/n/sub/b.md': exported['/m/sub/b.md'] }));
    assert.equal(await text(['meta', '--import', file]), 'imported 3 keys on 2 paths\n');
    assert.deepEqual(await json(['meta', '--export', '/n']), { '/n': {}, '/n/a.md': exported['/m/a.md'], '/n/sub/b.md': { k: 'v' } });
    assert.deepEqual(await json(['meta', '--import', '-'], { input: '{"/n/a.md": {"author": "bob"}}' }), { ok: true, paths: 1, keys: 1 });
    assert.equal(await text(['meta', '/n/a.md', 'author']), 'bob\n');
    assert.deepEqual(await json(['meta', '--copy', '/m/sub/b.md', '/n/a.md']), { ok: true, path: '/n/a.md', meta: { author: 'bob', k: 'v', note: 'line 1\nline 2' } });
  });

  it('tags and metadata follow mv, are copied by cp and cp -r, go with rm', async () => {
    assertOk(await run(['write', '/f/dir/x.txt', 'x']));
    assertOk(await run(['tag', '/f/dir/x.txt', 'follow']));
    assertOk(await run(['meta', '/f/dir/x.txt', 'k', 'v']));
    assertOk(await run(['mv', '/f/dir/x.txt', '/f/dir/y.txt']));
    assertOk(await run(['mv', '/f/dir', '/f/moved']));
    assert.deepEqual(await json(['tag', '--list', '/f/moved/y.txt']), { path: '/f/moved/y.txt', tags: ['follow'] });
    assert.equal(await text(['meta', '/f/moved/y.txt', 'k']), 'v\n');
    assertOk(await run(['cp', '/f/moved/y.txt', '/f/copy.txt']));
    assertOk(await run(['mkdir', '/f/into']));
    assertOk(await run(['cp', '-r', '/f/moved', '/f/into']));
    assert.equal(await text(['find', '/f', '-tag', 'follow']), '/f/copy.txt\n/f/into/moved/y.txt\n/f/moved/y.txt\n');
    assert.equal(await text(['meta', '/f/into/moved/y.txt', 'k']), 'v\n');
    assertOk(await run(['rm', '-r', '/f/moved', '/f/into']));
    assertOk(await run(['rm', '/f/copy.txt']));
    assert.equal((await json<TagJson[]>(['tag', '--list'])).find((t) => t.name === 'follow')?.count, 0);
    assert.equal(await text(['find', '/', '-tag', 'follow']), '');
    const check = await json<{ ok: boolean; problems: string[] }>(['vault', 'check']);
    assert.equal(check.ok, true, JSON.stringify(check.problems));
  });

  describe('bad input: one-line error, right exit code, JSON error, nothing changed', () => {
    before(async () => {
      assertOk(await run(['write', '/b/f.txt', 'f']));
      assertOk(await run(['mkdir', '/b/dir']));
      assertOk(await run(['tag', '/b/f.txt', 'keep']));
      assertOk(await run(['tag', '--create', 'other']));
      assertOk(await run(['meta', '/b/f.txt', 'k', 'v']));
      mkdirSync(join(work, 'adir'), { recursive: true });
      const put = (name: string, body: string): void => writeFileSync(join(work, name), body);
      put('notjson.json', '{"/b/f.txt": {"k": "v"');
      put('array.json', '[{"/b/f.txt": {"k": "v"}}]');
      put('string.json', '"just text"');
      put('shape.json', '{"/b/f.txt": "v"}');
      put('number.json', '{"/b/f.txt": {"k": 1}}');
      put('escape.json', '{"/b/../../etc/passwd": {"k": "v"}}');
      put('relative.json', '{"b/f.txt": {"k": "v"}}');
      put('missing.json', '{"/b/f.txt": {"new": "v"}, "/b/missing.txt": {"k": "v"}}');
      put('nulkey.json', '{"/b/f.txt": {"k\\u0000": "v"}}');
      put('bigvalue.json', JSON.stringify({ '/b/f.txt': { big: 'x'.repeat(100_000) } }));
      writeFileSync(join(work, 'latin1.json'), Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x7b, 0x7d, 0x7d]));
    });

    const cases: [string[], number, string, RegExp?, RunOptions?][] = [
      // usage errors (exit 2), decided before the vault is touched
      [['tag'], 2, 'EUSAGE', /missing PATH/],
      [['tag', '/b/f.txt'], 2, 'EUSAGE', /missing TAG/],
      [['tag', '--list', '/a', '/b'], 2, 'EUSAGE', /too many/],
      [['tag', '--create'], 2, 'EUSAGE', /missing argument/],
      [['tag', '--create', 'a', '--delete'], 2, 'EUSAGE', /choose one/],
      [['tag', '--color', '#fff', '/b/f.txt', 'x'], 2, 'EUSAGE', /--color goes with --create/],
      [['tag', '-r', '--list'], 2, 'EUSAGE', /-r goes with tagging/],
      [['tag', '--rename', 'keep'], 2, 'EUSAGE', /missing argument/],
      [['tag', '--copy', '/b/f.txt'], 2, 'EUSAGE'],
      [['tag', '--bogus'], 2, 'EUSAGE', /unknown flag/],
      [['untag', '/b/f.txt'], 2, 'EUSAGE', /missing argument/],
      [['meta'], 2, 'EUSAGE', /missing argument/],
      [['meta', '/b/f.txt', 'k', 'v', 'extra'], 2, 'EUSAGE', /too many/],
      [['meta', '--unset', '/b/f.txt'], 2, 'EUSAGE'],
      [['meta', '--export'], 2, 'EUSAGE'],
      [['meta', '--export', '/b', '--import', 'x'], 2, 'EUSAGE', /choose one/],
      [['meta', '--stdin', '/b/f.txt'], 2, 'EUSAGE'],
      [['meta', '--stdin', '--export', '/b'], 2, 'EUSAGE', /--stdin goes with/],
      [['find', '/', '-tag'], 2, 'EUSAGE', /needs a value/],
      // bad tag names (exit 1, EINVAL / ENAMETOOLONG)
      [['tag', '/b/f.txt', ''], 1, 'EINVAL', /empty tag/],
      [['tag', '/b/f.txt', 'two words'], 1, 'EINVAL', /whitespace/],
      [['tag', '/b/f.txt', 'ok', 'new\nline'], 1, 'EINVAL', /"new\\nline" contains whitespace/],
      [['tag', '/b/f.txt', 'tab\there'], 1, 'EINVAL'],
      [['tag', '/b/f.txt', 'a,b'], 1, 'EINVAL', /','/],
      [['tag', '/b/f.txt', '--', '-dash'], 1, 'EINVAL', /starts with '-'/],
      [['tag', '/b/f.txt', 'x'.repeat(129)], 1, 'ENAMETOOLONG', /at most 128/],
      [['tag', '--create', 'bad tag'], 1, 'EINVAL'],
      [['tag', '--create', 'c', '--color', 'red'], 1, 'EINVAL', /not a hex colour/],
      [['tag', '--create', 'c', '--color', '#12345'], 1, 'EINVAL', /hex colour/],
      [['find', '/', '-tag', 'bad tag'], 1, 'EINVAL'],
      // unknown or clashing tags, missing paths
      [['tag', '--delete', 'nope'], 1, 'ENOENT', /no tag named "nope"/],
      [['tag', '--rename', 'nope', 'x'], 1, 'ENOENT', /no tag named/],
      [['tag', '--rename', 'keep', 'OTHER'], 1, 'EEXIST', /already exists/],
      [['tag', '--create', 'Keep'], 1, 'EEXIST'],
      [['untag', '/b/f.txt', 'nope'], 1, 'ENOENT', /no tag named/],
      [['tag', '/b/missing.txt', 'x'], 1, 'ENOENT', /\/b\/missing\.txt: no such file/],
      [['tag', '-r', '/nowhere', 'x'], 1, 'ENOENT'],
      [['tag', '--list', '/b/missing.txt'], 1, 'ENOENT'],
      [['tag', '--copy', '/b/missing.txt', '/b/f.txt'], 1, 'ENOENT'],
      [['find', '/', '-tag', 'keep', '--at', '1'], 1, 'ENOTSUP', /not kept in history/],
      // metadata
      [['meta', '/b/missing.txt'], 1, 'ENOENT'],
      [['meta', '/b/missing.txt', 'k', 'v'], 1, 'ENOENT'],
      [['meta', '/b/f.txt', 'nokey'], 1, 'ENOENT', /no metadata key "nokey"/],
      [['meta', '/b/f.txt', 'a b', 'v'], 1, 'EINVAL', /whitespace/],
      [['meta', '/b/f.txt', 'a=b', 'v'], 1, 'EINVAL', /'='/],
      [['meta', '/b/f.txt', '', 'v'], 1, 'EINVAL', /empty metadata key/],
      [['meta', '/b/f.txt', 'k'.repeat(256), 'v'], 1, 'ENAMETOOLONG'],
      [['meta', '/b/f.txt', 'big', 'x'.repeat(100_000)], 1, 'EFBIG', /at most 65536/],
      [['meta', '--stdin', '/b/f.txt', 'huge'], 1, 'EFBIG', undefined, { input: Buffer.alloc(10 * 1024 * 1024, 0x61) }],
      [['meta', '--stdin', '/b/f.txt', 'bin'], 1, 'EINVAL', /not UTF-8/, { input: Buffer.from([0xff, 0xfe]) }],
      [['meta', '--unset', '/b/missing.txt', 'k'], 1, 'ENOENT'],
      [['meta', '--copy', '/b/f.txt', '/b/missing.txt'], 1, 'ENOENT'],
      [['meta', '--export', '/b/missing.txt'], 1, 'ENOENT'],
    ];
    for (const [args, exit, errCode, match, opts] of cases) {
      it(`${args.map((a) => (a.length > 30 ? a.slice(0, 12) + '…' : a)).join(' ')} -> ${errCode}`, async () => {
        const before = await everything();
        assertOneLineError(await run(args, opts), exit, match);
        assertJsonError(await run(['--json', ...args], opts), exit, errCode);
        assert.equal(await everything(), before, 'the vault is unchanged');
      });
    }

    const imports: [string, number, string, RegExp?][] = [
      ['notjson.json', 1, 'EINVAL', /is not valid JSON/],
      ['array.json', 1, 'EINVAL', /must be an object/],
      ['string.json', 1, 'EINVAL', /must be an object/],
      ['shape.json', 1, 'EINVAL', /must be an object of "key": "value"/],
      ['number.json', 1, 'EINVAL', /must be a string/],
      ['escape.json', 1, 'EINVAL', /not a canonical absolute vault path/],
      ['relative.json', 1, 'EINVAL', /not a canonical absolute vault path/],
      ['missing.json', 1, 'ENOENT', /\/b\/missing\.txt/],
      ['nulkey.json', 1, 'EINVAL', /control character/],
      ['bigvalue.json', 1, 'EFBIG'],
      ['latin1.json', 1, 'EINVAL', /not UTF-8/],
      ['adir', 1, 'EISDIR'],
      ['no-such-host-file.json', 1, 'ENOENT', /cannot read/],
    ];
    for (const [name, exit, errCode, match] of imports) {
      it(`meta --import ${name} -> ${errCode}`, async () => {
        const before = await everything();
        const file = join(work, name);
        assertOneLineError(await run(['meta', '--import', file]), exit, match);
        assertJsonError(await run(['--json', 'meta', '--import', file]), exit, errCode);
        assert.equal(await everything(), before, 'the vault is unchanged');
      });
    }

    it('meta --import - with bad stdin -> EINVAL', async () => {
      const before = await everything();
      assertOneLineError(await run(['meta', '--import', '-'], { input: 'nope' }), 1, /stdin is not valid JSON/);
      assertJsonError(await run(['--json', 'meta', '--import', '-'], { input: '{"/b/f.txt": []}' }), 1, 'EINVAL');
      assert.equal(await everything(), before);
    });

    it('refusals are in the audit log', async () => {
      const log = await json<{ op: string; outcome?: string; info?: Record<string, unknown> }[]>(['audit', '--limit', '200']);
      assert.ok(log.some((r) => r.op === 'tag.delete' && r.outcome === 'ENOENT' && r.info?.tag === 'nope'));
      assert.ok(log.some((r) => r.op === 'tag.rename' && r.outcome === 'EEXIST'));
      assert.ok(log.some((r) => r.op === 'meta.import' && r.outcome === 'ENOENT'));
      assert.ok(log.some((r) => r.op === 'meta.set' && r.outcome === 'ENOENT'));
    });
  });
});
