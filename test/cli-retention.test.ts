// End-to-end tests of the retention and space commands (prune, gc, compact, maintain,
// vault stats, vault config): the real `avfs` executable in child processes, a fresh
// AVFS_HOME, a sqlite vault. Bad input: exit code, one `avfs:` line, and nothing changed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { cliHome, type RunOptions, type RunResult, assertOk, assertOneLineError, assertJsonError, okCalls } from './helpers/cli.js';

interface Stats {
  files: number;
  versions: number;
  historyRows: number;
  snapshots: number;
  logicalBytes: number;
  versionBytes: number;
  storedBytes: number;
  bytesOnDisk: number;
  dedupRatio: number | null;
  chunks: { count: number; bytes: number };
  topVersions?: { path: string; versions: number; current: boolean }[];
  engine?: { engine: string; details: Record<string, unknown> };
}

describe('avfs retention and space commands', () => {
  let home: string;
  let run: (args: readonly string[], opts?: RunOptions) => Promise<RunResult>;
  const { json, text } = okCalls(() => run);
  /** Everything a bad command must leave alone: the tree, and the history and content counts. */
  const state = async (): Promise<string> => {
    const s = await json<Stats>(['vault', 'stats']);
    return (await text(['--json', 'ls', '-R', '-a', '-l', '/'])) + JSON.stringify([s.versions, s.historyRows, s.storedBytes, s.chunks]);
  };

  before(async () => {
    const h = cliHome('avfs-cli-ret-');
    home = h.home;
    run = h.run;
    assertOk(await run(['vault', 'create', 't', '--backend', 'sqlite']));
    assertOk(await run(['vault', 'use', 't']));
    for (let i = 1; i <= 4; i++) assertOk(await run(['write', '/notes/a.md', `version ${i}\n`]));
    assertOk(await run(['write', '/notes/b.md', 'same\n']));
    assertOk(await run(['write', '/notes/c.md', 'same\n']));
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  it('help lists the commands, and each has its flags with help', async () => {
    const help = await text(['--help']);
    for (const c of ['prune', 'gc', 'compact', 'maintain']) assert.match(help, new RegExp(`^  ${c} `, 'm'));
    assert.match(await text(['prune', '--help']), /--keep N +keep the newest N versions/);
    assert.match(await text(['prune', '--help']), /--older-than DAYS/);
    assert.match(await text(['gc', '--help']), /--stats/);
    const v = await text(['vault', '--help']);
    assert.match(v, /avfs vault stats/);
    assert.match(v, /avfs vault config/);
    assert.match(await text(['vault', 'stats', '--help']), /--backend-info/);
    assert.match(await text(['vault', 'config', '--help']), /--unset KEY/);
  });

  it('vault stats: counts, bytes, dedup ratio; --versions and --backend-info', async () => {
    const s = await json<Stats>(['vault', 'stats', '--versions', '--backend-info']);
    assert.equal(s.files, 3);
    assert.equal(s.versions, 6);
    assert.equal(s.logicalBytes, 10 + 5 + 5);
    assert.equal(s.versionBytes, 40 + 10);
    assert.equal(s.storedBytes, 40 + 5);
    assert.equal(s.dedupRatio, Math.round((50 / 45) * 1000) / 1000);
    assert.deepEqual(s.topVersions?.map((f) => [f.path, f.versions, f.current]), [
      ['/notes/a.md', 4, true],
      ['/notes/b.md', 1, true],
      ['/notes/c.md', 1, true],
    ]);
    assert.equal(s.engine?.engine, 'sqlite');
    assert.equal(s.engine?.details.journal_mode, 'wal');
    const t = await text(['vault', 'stats', '--versions', '--top', '1']);
    assert.match(t, /^files: +3$/m);
    assert.match(t, /^versions: +6 /m);
    assert.match(t, /^dedup ratio: +1\.11x$/m);
    assert.match(t, /versions per file \(top 1\):\n +4 +\/notes\/a\.md\n/);
    assert.match(await text(['vault', 'stats', 't', '--backend-info']), /^ +journal_mode: wal$/m);
    assertOneLineError(await run(['vault', 'stats', '--top', '0']), 2, /--top/);
  });

  it('prune with both rules, neither, or bad numbers: a usage error, nothing changed', async () => {
    const before = await state();
    assertOneLineError(await run(['prune']), 2, /--keep N or --older-than DAYS/);
    assertOneLineError(await run(['prune', '--keep', '1', '--older-than', '3']), 2, /not both/);
    assertOneLineError(await run(['prune', '--keep', '-1']), 2, /--keep/);
    assertOneLineError(await run(['prune', '--keep', 'x']), 2, /--keep/);
    assertOneLineError(await run(['prune', '--older-than', 'soon']), 2, /--older-than/);
    assertOneLineError(await run(['prune', '--older-than', '-3']), 2, /--older-than/);
    assertOneLineError(await run(['prune', '--keep']), 2, /needs a value/);
    assertOneLineError(await run(['prune', '--keep', '1', 'extra']), 2, /too many arguments/);
    assertJsonError(await run(['--json', 'prune', '--keep', '1', '--older-than', '3']), 2, 'EUSAGE');
    assertJsonError(await run(['--json', 'prune']), 2, 'EUSAGE');
    assert.equal(await state(), before);
  });

  it('prune --dry-run lists what would go and changes nothing; prune removes it; gc frees it', async () => {
    const before = await state();
    const dry = await run(['prune', '--keep', '2', '--dry-run']);
    assertOk(dry);
    assert.equal(dry.out, '/notes/a.md: versions 1-2\nwould remove 2 versions (2 history rows) of 1 file\n');
    const dj = await json<{ dryRun: boolean; rows: number; files: { path: string; versions: number[] }[] }>(['prune', '--keep', '2', '-n']);
    assert.equal(dj.dryRun, true);
    assert.deepEqual(dj.files.map((f) => [f.path, f.versions]), [['/notes/a.md', [1, 2]]]);
    assert.equal(await state(), before, 'dry runs changed nothing');

    assert.equal(await text(['prune', '--keep', '2']), 'removed 2 versions (2 history rows) of 1 file (run avfs gc to free the content)\n');
    assert.equal((await json<Stats>(['vault', 'stats'])).versions, 4);
    assert.equal(await text(['-q', 'prune', '--keep', '2']), '', '--quiet: no summary');
    assert.equal(await text(['cat', '/notes/a.md']), 'version 4\n');

    const gdry = await json<{ dryRun: boolean; chunks: { removed: number }; bytesFreed: number }>(['gc', '--dry-run']);
    assert.deepEqual([gdry.dryRun, gdry.chunks.removed, gdry.bytesFreed], [true, 2, 20]);
    const g = await run(['gc', '--stats']);
    assertOk(g);
    assert.match(g.out, /^chunks: +\d+ stored +2 removed/m);
    assert.match(g.out, /^freed 20 B: 2 chunks, 0 manifests$/m);
    assert.equal(g.stderr, '');
    const again = await json<{ bytesFreed: number; chunksSkipped: boolean }>(['gc']);
    assert.deepEqual([again.bytesFreed, again.chunksSkipped], [0, false]);
    assertOk(await run(['vault', 'check']));
  });

  it('prune --older-than: nothing is that old; 0 removes every replaced version', async () => {
    assertOk(await run(['write', '/old.txt', 'one']));
    assertOk(await run(['write', '/old.txt', 'two']));
    assert.match(await text(['prune', '--older-than', '1.5']), /^removed 0 versions/);
    const r = await json<{ files: { path: string; versions: number[] }[]; policy: unknown }>(['prune', '--older-than', '0']);
    assert.deepEqual(r.policy, { olderThanDays: 0 });
    assert.deepEqual(r.files.map((f) => [f.path, f.versions]), [['/notes/a.md', [3]], ['/old.txt', [1]]]);
  });

  it('compact and maintain report each step', async () => {
    const c = await json<{ backend: string; bytesBefore: number; bytesAfter: number; bytesFreed: number }>(['compact']);
    assert.equal(c.backend, 'sqlite');
    assert.ok(c.bytesBefore > 0 && c.bytesAfter > 0);
    assert.match(await text(['compact']), /^sqlite: .* -> .* on disk \(freed /);
    const m = await text(['maintain']);
    assert.match(m, /^prune: +skipped \(the vault sets no prune_strategy\)$/m);
    assert.match(m, /^gc: +freed /m);
    assert.match(m, /^compact: +sqlite: /m);
    for (let i = 1; i <= 3; i++) assertOk(await run(['write', '/m.txt', `m${i}`]));
    assertOk(await run(['vault', 'config', 'prune_strategy', 'keep_count']));
    assertOk(await run(['vault', 'config', 'prune_keep_count', '5']));
    // Setting keep_count=1 afterwards: maintain applies it to every file.
    assertOk(await run(['vault', 'config', 'prune_keep_count', '1']));
    const mj = await json<{ prune: { versions: number } | null; gc: { chunks: { removed: number } }; compact: unknown }>(['maintain']);
    assert.equal(mj.prune?.versions, 2);
    assert.equal(mj.gc.chunks.removed, 2);
    assert.ok(mj.compact);
    const dry = await json<{ dryRun: boolean; compact: unknown }>(['maintain', '--dry-run']);
    assert.deepEqual([dry.dryRun, dry.compact], [true, null]);
    // The strategy now prunes on every write.
    assertOk(await run(['write', '/m.txt', 'm4']));
    const s = await json<Stats>(['vault', 'stats', '--versions']);
    assert.equal(s.topVersions?.find((f) => f.path === '/m.txt')?.versions, 1);
    assertOk(await run(['vault', 'config', '--unset', 'prune_strategy']));
    assertOk(await run(['vault', 'config', '--unset', 'prune_keep_count']));
  });

  it('vault config: list, get, set, unset; bad keys and values are one-line errors', async () => {
    const all = await text(['vault', 'config']);
    assert.match(all, /^max_files +- +most files allowed/m);
    assert.deepEqual(await json(['vault', 'config']), {});
    assert.equal(await text(['vault', 'config', 'max_files', '100']), 'max_files = 100\n');
    assert.equal(await text(['vault', 'config', 'max_files']), '100\n');
    assert.deepEqual(await json(['vault', 'config', 'max_files']), { key: 'max_files', value: 100 });
    assert.deepEqual(await json(['vault', 'config']), { max_files: 100 });
    assert.match(await text(['vault', 'config']), /^max_files +100 /m);
    assert.equal(await text(['vault', 'config', 'max_size_mb']), 'max_size_mb is not set\n');
    const w = await run(['vault', 'config', 'prune_strategy', 'older_than']);
    assertOk(w);
    assert.match(w.stderr, /^avfs: warning: prune_strategy=older_than does nothing until prune_older_than_days is set\n$/);
    assertOk(await run(['vault', 'config', '--unset', 'prune_strategy']));

    const before = await state();
    const cfg = await json(['vault', 'config']);
    assertOneLineError(await run(['vault', 'config', 'nope', '1']), 1, /unknown vault setting "nope" \(known: max_file_size_mb, /);
    assertOneLineError(await run(['vault', 'config', 'nope']), 1, /unknown vault setting/);
    assertOneLineError(await run(['vault', 'config', 'max_files', 'abc']), 1, /max_files must be a whole number >= 0, got "abc"/);
    assertOneLineError(await run(['vault', 'config', 'max_size_mb', '0']), 1, /max_size_mb must be a number > 0/);
    assertOneLineError(await run(['vault', 'config', 'prune_strategy', 'often']), 1, /prune_strategy must be one of none, keep_count, older_than/);
    assertOneLineError(await run(['vault', 'config', '--unset', 'nope']), 1, /unknown vault setting/);
    assertOneLineError(await run(['vault', 'config', '--unset', 'max_files', 'max_files']), 2, /--unset/);
    assertOneLineError(await run(['vault', 'config', 'a', 'b', 'c']), 2, /too many arguments/);
    assertJsonError(await run(['--json', 'vault', 'config', 'max_files', 'abc']), 1, 'EINVAL');
    assert.deepEqual(await json(['vault', 'config']), cfg);
    assert.equal(await state(), before);

    assert.deepEqual(await json(['vault', 'config', '--unset', 'max_files']), { key: 'max_files', value: null, config: {} });
  });

  it('limits: EFBIG and EDQUOT name the limit and change nothing; deleting works over quota', async () => {
    assertOk(await run(['vault', 'config', 'max_file_size_mb', '0.001']));
    const before = await state();
    const big = 'x'.repeat(2000);
    assertOneLineError(await run(['write', '/big.txt', big]), 1, /^avfs: \/big\.txt: file of 2000 bytes is over the vault's limit max_file_size_mb=0\.001$/);
    // From stdin the write streams, and is refused as soon as the input passes the limit.
    assertOneLineError(await run(['write', '/big.txt'], { input: Buffer.alloc(3 * 1024 * 1024, 1) }), 1, /max_file_size_mb=0\.001/);
    assertJsonError(await run(['--json', 'write', '/big.txt', big]), 1, 'EFBIG');
    assert.equal(await state(), before);
    assertOk(await run(['vault', 'config', '--unset', 'max_file_size_mb']));

    const files = (await json<Stats>(['vault', 'stats'])).files;
    assertOk(await run(['vault', 'config', 'max_files', String(files)]));
    const before2 = await state();
    assertOneLineError(await run(['write', '/one-more.txt', 'x']), 1, new RegExp(`over its limit max_files=${files}$`));
    assertOneLineError(await run(['cp', '/notes/a.md', '/notes/copy.md']), 1, /EDQUOT|max_files/);
    assert.equal(await state(), before2);
    // Lowered below what the vault holds: it is over quota, and can still shrink.
    assertOk(await run(['vault', 'config', 'max_files', '1']));
    assertOk(await run(['rm', '/old.txt']));
    assertOk(await run(['write', '/notes/a.md', 'replacing is fine']));
    assertOneLineError(await run(['touch', '/new']), 1, /max_files=1/);
    assertOk(await run(['vault', 'config', 'max_size_mb', '0.00001']));
    assertOneLineError(await run(['write', '-a', '/notes/b.md', 'grow']), 1, /max_size_mb=0\.00001/);
    assertOk(await run(['rm', '/notes/b.md']));
    assertOk(await run(['vault', 'config', '--unset', 'max_files']));
    assertOk(await run(['vault', 'config', '--unset', 'max_size_mb']));
    assertOk(await run(['vault', 'check']));
  });
});
