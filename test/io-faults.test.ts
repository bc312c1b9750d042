// I/O faults (issue 12, item 5): a vault on a small tmpfs that fills up, and on one remounted
// read-only. Writes fail with one clear line (ENOSPC / EROFS; a JSON error under --json; a
// VfsError with that code from the library), every write acknowledged before is still there,
// and once the medium is usable again the vault opens, passes `vault check` and takes writes.
// Needs root (mount); without it the tests are skipped with the reason printed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINES, STORE_NAME, vaultFactory } from './helpers/vaults.js';
import { assertJsonError, assertOk, assertOneLineError, runAvfs, type RunResult } from './helpers/cli.js';
import { code } from './helpers/errors.js';
import { openVault } from '../src/index.js';

/** Engines whose vault is a file or folder on the host: the ones a full or read-only disk hits. */
const ON_DISK = ENGINES.filter((k) => vaultFactory(k).persistent && STORE_NAME[k]);

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function mount(dir: string, sizeMiB: number): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return `cannot mount a tmpfs (${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim() || 'mount failed'}); these tests need root`;
  }
}

function remount(dir: string, mode: 'ro' | 'rw'): void {
  execFileSync('mount', ['-o', `remount,${mode}`, dir], { stdio: 'pipe' });
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    // Not mounted (the mount was refused, or a test already took it down), or busy: RocksDB
    // keeps the descriptors of write-ahead logs it deleted after a write failed on the full
    // disk (a native leak in this process, noted in docs/io-faults.md); detach it lazily then.
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    } catch {
      // not mounted
    }
  }
}

/** A folder with a fresh tmpfs on it, taken down after the suite; `reason` is set when not possible. */
function tmpfsFolder(prefix: string, sizeMiB: number): { dir: () => string; home: () => string; reason: () => string | undefined } {
  let base = '';
  let reason: string | undefined;
  before(() => {
    base = mkdtempSync(join(tmpdir(), prefix));
    mkdirSync(join(base, 'mnt'));
    reason = mount(join(base, 'mnt'), sizeMiB);
    if (reason) console.log(`# skipped: ${reason}`);
  });
  after(() => {
    unmount(join(base, 'mnt'));
    rmSync(base, { recursive: true, force: true });
  });
  return { dir: () => join(base, 'mnt'), home: () => join(base, 'home'), reason: () => reason };
}

/** Files whose write was acknowledged (exit 0), with their content hashes. */
type Acked = Map<string, string>;

async function assertAllPresent(store: string, home: string, acked: Acked): Promise<void> {
  const v = await openVault(store, { home });
  try {
    for (const [path, hash] of acked) assert.equal(sha(await v.readFile(path)), hash, `${path} holds what was acknowledged`);
  } finally {
    await v.close();
  }
}

async function assertChecks(store: string, home: string, files: number): Promise<void> {
  const r = await runAvfs(['--json', '--vault', store, 'vault', 'check'], { env: { AVFS_HOME: home } });
  assertOk(r, 'vault check');
  const doc = JSON.parse(r.out) as { ok: boolean; files: number; problems: string[] };
  assert.equal(doc.ok, true, doc.problems.join('; '));
  assert.equal(doc.files, files);
}

// liblmdb itself prints these on stderr when a write fails while it spills pages (mdb.c,
// mdb_page_spill: fprintf(stderr, ...)); no JavaScript can keep native code off fd 2.
const LMDB_NATIVE = /^mdb_page_spill (flushing )?error \d+$/;

/** A refused write on a full disk: exit 1, one `avfs: ... no space left ...` line. */
function assertNoSpace(r: RunResult): void {
  assertOneLineError({ ...r, stderr: r.stderr.split('\n').filter((l) => !LMDB_NATIVE.test(l)).join('\n') }, 1, /no space left/);
}

let fillers = 0;

/**
 * Fill the rest of a file system with new host files; returns the first one's path. Always new
 * files: rewriting an earlier filler would first free all the space it held.
 */
function fillUp(dir: string, leaveBytes = 0): string {
  const filler = join(dir, `filler-${fillers++}`);
  const s = statfsSync(dir);
  const free = s.bavail * s.bsize - leaveBytes;
  if (free > 0) {
    try {
      writeFileSync(filler, Buffer.alloc(free));
    } catch (e) {
      if ((e as { code?: string }).code !== 'ENOSPC') throw e;
    }
  }
  // Whatever is left (block rounding), take it too when asked for everything.
  if (leaveBytes === 0) {
    for (let i = 0; i < 64; i++) {
      try {
        writeFileSync(join(dir, `filler-${fillers++}`), Buffer.alloc(4096));
      } catch {
        break;
      }
    }
  }
  return filler;
}

function removeFillers(dir: string): void {
  for (const name of readdirSync(dir)) if (name.startsWith('filler-')) rmSync(join(dir, name), { force: true });
}

for (const kind of ON_DISK) {
  describe(`I/O faults: a full disk under a ${kind} vault`, () => {
    const fsys = tmpfsFolder(`avfs-enospc-${kind}-`, 8);

    it('writes fail with one ENOSPC line, acknowledged writes stay, and after freeing space the vault checks and writes again', async (t) => {
      if (fsys.reason()) return t.skip(fsys.reason());
      const store = join(fsys.dir(), STORE_NAME[kind]);
      const home = fsys.home();
      const run = (args: string[], input?: Buffer | string): Promise<RunResult> => runAvfs(['--vault', store, ...args], { env: { AVFS_HOME: home }, input });
      assertOk(await runAvfs(['vault', 'create', 'full', '--backend', kind, '--path', store], { env: { AVFS_HOME: home } }), 'vault create');
      // The vault gets about 700 KiB of room; the rest of the file system holds a filler file.
      fillUp(fsys.dir(), 700 * 1024);
      const acked: Acked = new Map();
      let refused: RunResult | undefined;
      for (let i = 0; i < 60 && !refused; i++) {
        const data = randomBytes(100_000); // incompressible, each its own chunks
        const r = await run(['write', `/f${i}`], data);
        if (r.code === 0) acked.set(`/f${i}`, sha(data));
        else refused = r;
      }
      assert.ok(refused, 'a write failed once the disk was full');
      assert.ok(acked.size > 0, 'some writes fitted');
      assertNoSpace(refused);
      // The disk is now full to the last block: every write is refused, plain, --json and library.
      fillUp(fsys.dir());
      assertNoSpace(await run(['write', '/more'], randomBytes(100_000)));
      assertJsonError(await run(['--json', 'write', '/more'], randomBytes(100_000)), 1, 'ENOSPC');
      const v = await openVault(store, { home });
      try {
        assert.equal(await code(v.writeFile('/lib', randomBytes(100_000))), 'ENOSPC');
        // Reads still work on a full disk.
        const [first, hash] = [...acked][0];
        assert.equal(sha(await v.readFile(first)), hash);
      } finally {
        await v.close().catch(() => {});
      }
      await assertAllPresent(store, home, acked);
      // Room again: the vault opens, checks clean, holds everything acknowledged, and writes.
      removeFillers(fsys.dir());
      await assertChecks(store, home, acked.size);
      await assertAllPresent(store, home, acked);
      const data = randomBytes(50_000);
      assertOk(await run(['write', '/after'], data), 'write after freeing space');
      acked.set('/after', sha(data));
      await assertChecks(store, home, acked.size);
      await assertAllPresent(store, home, acked);
    });
  });

  describe(`I/O faults: a ${kind} vault on a medium remounted read-only`, () => {
    const fsys = tmpfsFolder(`avfs-erofs-${kind}-`, 16);

    it('writes fail with one EROFS line, reads work or fail the same way, and read-write again the vault checks with everything', async (t) => {
      if (fsys.reason()) return t.skip(fsys.reason());
      const store = join(fsys.dir(), STORE_NAME[kind]);
      const home = fsys.home();
      const run = (args: string[], input?: Buffer | string): Promise<RunResult> => runAvfs(['--vault', store, ...args], { env: { AVFS_HOME: home }, input });
      assertOk(await runAvfs(['vault', 'create', 'ro', '--backend', kind, '--path', store], { env: { AVFS_HOME: home } }), 'vault create');
      const acked: Acked = new Map();
      for (let i = 0; i < 5; i++) {
        const data = randomBytes(20_000 * (i + 1));
        assertOk(await run(['write', `/f${i}`], data), `write /f${i}`);
        acked.set(`/f${i}`, sha(data));
      }
      remount(fsys.dir(), 'ro');
      try {
        assertOneLineError(await run(['write', '/no'], 'x'), 1, /read-only/);
        assertJsonError(await run(['--json', 'write', '/no'], 'x'), 1, 'EROFS');
        assertJsonError(await run(['--json', 'mkdir', '/d'], 'x'), 1, 'EROFS');
        // A read: the content when the engine can read a read-only medium, else the same one line.
        const r = await run(['cat', '/f0']);
        if (r.code === 0) assert.equal(sha(r.stdout), acked.get('/f0'));
        else assertOneLineError(r, 1, /read-only/);
        // The library: opening or writing is EROFS.
        let got: string;
        try {
          const v = await openVault(store, { home });
          got = await code(v.writeFile('/lib', 'x'));
          await v.close().catch(() => {});
        } catch (e) {
          got = (e as { code?: string }).code ?? String(e);
        }
        assert.equal(got, 'EROFS');
      } finally {
        remount(fsys.dir(), 'rw');
      }
      await assertChecks(store, home, acked.size);
      await assertAllPresent(store, home, acked);
      assertOk(await run(['write', '/after'], 'back'), 'write after remounting read-write');
      await assertChecks(store, home, acked.size + 1);
    });
  });
}

describe('I/O faults: the error mapping a full disk relies on', () => {
  it('an ENOSPC from the host (a write to a full file system) keeps its code through the CLI', async (t) => {
    // Cheap and engine-free: export into a full folder is the host side of the same promise.
    const base = mkdtempSync(join(tmpdir(), 'avfs-enospc-host-'));
    const mnt = join(base, 'mnt');
    mkdirSync(mnt);
    const reason = mount(mnt, 1);
    try {
      if (reason) return t.skip(reason);
      const home = join(base, 'home');
      const store = join(base, 'v.avfs');
      assertOk(await runAvfs(['vault', 'create', 'h', '--path', store], { env: { AVFS_HOME: home } }));
      assertOk(await runAvfs(['--vault', store, 'write', '/big'], { env: { AVFS_HOME: home }, input: randomBytes(2 * 1024 * 1024) }));
      const r = await runAvfs(['--json', '--vault', store, 'export', '/big', join(mnt, 'big')], { env: { AVFS_HOME: home } });
      assertJsonError(r, 1, 'ENOSPC');
    } finally {
      unmount(mnt);
      rmSync(base, { recursive: true, force: true });
    }
  });
});
