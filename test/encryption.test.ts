// Encryption at rest on the log engine, end to end through the real `avfs`: a vault made with
// --encrypt opens only with its passphrase (a wrong or missing one is one line and exit 1), and
// nothing written through the CLI (file contents, file names, memory text, kv keys and values,
// stream data, tags, snapshot names) appears in any file of the store folder.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isVfsError } from '../src/errors.js';
import { createVault, openVault } from '../src/index.js';
import { assertJsonError, assertOk, assertOneLineError, cliHome, type RunOptions, type RunResult } from './helpers/cli.js';

const PASS = 'correct horse battery staple';
// Distinctive strings, each written through a different door.
const SECRETS = {
  content: 'QUOKKA-CONTENT-7a41 the ledger balance is 91823',
  bigContent: 'WOMBAT-BIGFILE-55c2 ',
  fileName: 'platypus-filename-0e9d.txt',
  dirName: 'echidna-folder-b3f0',
  memory: 'NUMBAT-MEMORY-2f77 the user prefers tabs',
  kvKey: 'bilby-kvkey-c0de',
  kvValue: 'DINGO-KVVALUE-aa18',
  stream: 'WALLABY-STREAM-9911',
  tag: 'cassowary-tag-4d4d',
  snapshot: 'kookaburra-snap-6e6e',
};

/** Every file under `dir`, each with its bytes. */
function allFiles(dir: string): [string, Buffer][] {
  const out: [string, Buffer][] = [];
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push([p, readFileSync(p)]);
  }
  return out;
}

describe('encrypted log vaults', () => {
  let home: string;
  let run: (args: readonly string[], opts?: RunOptions) => Promise<RunResult>;
  const withPass = (args: readonly string[], opts: RunOptions = {}) => run(args, { ...opts, env: { AVFS_PASSPHRASE: PASS, ...opts.env } });

  before(() => {
    ({ home, run } = cliHome('avfs-enc-'));
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  it('keeps every secret out of the store files, and reads them all back with the passphrase', async () => {
    assertOk(await withPass(['vault', 'create', 'sec', '--encrypt']));
    const store = join(home, 'vaults', 'sec.log');
    assert.ok(statSync(store).isDirectory(), '--encrypt without --backend makes a log vault');
    const v = ['--vault', 'sec'];
    assertOk(await withPass([...v, 'mkdir', `/${SECRETS.dirName}`]));
    assertOk(await withPass([...v, 'write', `/${SECRETS.dirName}/${SECRETS.fileName}`, SECRETS.content]));
    const big = SECRETS.bigContent.repeat(40_000); // ~800 KB: several content chunks in chunk files
    assertOk(await withPass([...v, 'write', '--stdin', '/big.txt'], { input: big }));
    assertOk(await withPass([...v, 'memory', 'add', SECRETS.memory]));
    assertOk(await withPass([...v, 'kv', 'set', SECRETS.kvKey, SECRETS.kvValue]));
    assertOk(await withPass([...v, 'stream', 'append', 'events', SECRETS.stream]));
    assertOk(await withPass([...v, 'tag', `/${SECRETS.dirName}/${SECRETS.fileName}`, SECRETS.tag]));
    assertOk(await withPass([...v, 'snapshot', 'save', SECRETS.snapshot]));
    assertOk(await withPass([...v, 'grep', '-r', 'ledger', '/']));

    const files = allFiles(store);
    assert.ok(files.some(([p]) => p.includes('chunks-')), 'large values went to chunk files');
    for (const [name, secret] of Object.entries(SECRETS)) {
      const needle = Buffer.from(name === 'bigContent' ? secret.trim() : secret);
      for (const [p, bytes] of files) assert.equal(bytes.indexOf(needle), -1, `${name} found in clear in ${p}`);
    }
    // Not even a distinctive word of the content (the search index would hold words).
    for (const word of ['QUOKKA', 'ledger', 'NUMBAT', 'WOMBAT', 'platypus', 'echidna']) {
      for (const [p, bytes] of files) assert.equal(bytes.indexOf(Buffer.from(word)), -1, `"${word}" in clear in ${p}`);
    }

    assert.equal((await withPass([...v, 'cat', `/${SECRETS.dirName}/${SECRETS.fileName}`])).out, SECRETS.content);
    assert.equal((await withPass([...v, 'cat', '/big.txt'])).out, big);
    assert.match((await withPass([...v, 'kv', 'get', SECRETS.kvKey])).out, new RegExp(SECRETS.kvValue));
    assert.match((await withPass([...v, 'memory', 'search', 'tabs'])).out, /NUMBAT-MEMORY/);
    assert.match((await withPass([...v, 'search', 'ledger'])).out, new RegExp(SECRETS.fileName));
    const check = await withPass([...v, 'vault', 'check']);
    assertOk(check, 'vault check');
  });

  it('refuses a wrong or missing passphrase with one line and exit 1', async () => {
    const v = ['--vault', 'sec'];
    const wrong = await run([...v, 'cat', `/${SECRETS.dirName}/${SECRETS.fileName}`], { env: { AVFS_PASSPHRASE: 'not it' } });
    assertOneLineError(wrong, 1, /wrong passphrase/);
    assert.ok(!wrong.out.includes('QUOKKA'));
    const missing = await run([...v, 'ls', '/'], { env: { AVFS_PASSPHRASE: undefined } });
    assertOneLineError(missing, 1, /AVFS_PASSPHRASE/);
    assertJsonError(await run(['--json', ...v, 'ls', '/'], { env: { AVFS_PASSPHRASE: 'nope' } }), 1, 'EPASSPHRASE');
    assertOneLineError(await run(['vault', 'info', 'sec'], { env: { AVFS_PASSPHRASE: 'nope' } }), 1, /wrong passphrase/);
    // Creating an encrypted vault needs a passphrase too.
    assertOneLineError(await run(['vault', 'create', 'nopass', '--encrypt'], { env: { AVFS_PASSPHRASE: undefined } }), 1, /AVFS_PASSPHRASE/);
  });

  it('offers encryption on the log backend only', async () => {
    for (const backend of ['sqlite', 'lmdb', 'memory', 'rocksdb']) {
      const r = await withPass(['vault', 'create', `x-${backend}`, '--backend', backend, '--encrypt']);
      assertOneLineError(r, 1, /encryption is available on the log backend only/);
    }
    assertJsonError(await withPass(['--json', 'vault', 'create', 'y', '--backend', 'sqlite', '--encrypt']), 1, 'EINVAL');
    assert.ok(!(await run(['vault', 'list'])).out.includes('x-sqlite'), 'nothing was registered');
  });

  it('works through the library: passphrase option, wrong one refused, forks stay encrypted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'avfs-enc-lib-'));
    try {
      const path = join(dir, 'lib.log');
      const v = await createVault(path, { encrypt: true, passphrase: 'lib pass', home: join(dir, 'home') });
      await v.writeFile('/secret-name.txt', 'EMU-LIBRARY-CONTENT');
      await v.close();
      await assert.rejects(openVault(path, { passphrase: 'other', home: join(dir, 'home') }), (e) => isVfsError(e) && e.code === 'EPASSPHRASE');
      const again = await openVault(path, { passphrase: 'lib pass', home: join(dir, 'home') });
      assert.equal((await again.readFile('/secret-name.txt')).toString(), 'EMU-LIBRARY-CONTENT');
      const { forkVault } = await import('../src/api/fork.js');
      const forkPath = join(dir, 'fork.log');
      await forkVault(again, forkPath, { home: join(dir, 'home'), passphrase: 'lib pass' });
      await again.close();
      for (const [p, bytes] of allFiles(forkPath)) {
        assert.equal(bytes.indexOf(Buffer.from('EMU-LIBRARY')), -1, `fork holds content in clear in ${p}`);
        assert.equal(bytes.indexOf(Buffer.from('secret-name')), -1, `fork holds a name in clear in ${p}`);
      }
      const f = await openVault(forkPath, { passphrase: 'lib pass', home: join(dir, 'home') });
      assert.equal((await f.readFile('/secret-name.txt')).toString(), 'EMU-LIBRARY-CONTENT');
      await f.close();
      await assert.rejects(openVault(forkPath, { passphrase: 'x', home: join(dir, 'home') }), (e) => isVfsError(e) && e.code === 'EPASSPHRASE');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
