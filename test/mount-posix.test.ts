// POSIX conformance of `avfs mount`, as a differential test: every case in
// helpers/posix-cases.ts runs in a host temp folder (the oracle) and in a freshly mounted vault,
// on each persistent engine, and the two observations must be equal, case by case. The cases the
// mount differs on by design are listed, with the reason, in helpers/posix-expected.ts; a listed
// case that behaves like the host fails too. docs/mount-posix.md says what is covered and why
// this is not pjdfstest.
//
// The cases run in a child process (helpers/posix-run.js) with sync calls: the mount is served by
// another process, and a hung FUSE call then costs a timeout, not the whole test run.
import { describe, it, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fuseDriver, fuseUnavailable, mountVault, type MountedVault } from './helpers/mount.js';
import { ROCKS_SKIP } from './helpers/vaults.js';
import { pgTestUrl } from './helpers/pg-cluster.js';
import { CASES } from './helpers/posix-cases.js';
import { expectedDifferences } from './helpers/posix-expected.js';
import type { CaseResult } from './helpers/posix-run.js';

const RUNNER = fileURLToPath(new URL('./helpers/posix-run.js', import.meta.url));
/** A whole run takes about a second on a host folder; a mount may be much slower, never this slow. */
const RUN_TIMEOUT_MS = 5 * 60_000;
const isRoot = process.getuid?.() === 0;
const caseNames = new Set(CASES.map((k) => k.name));

interface Run {
  results: Map<string, unknown>;
  /** What the runner said on stderr besides its trace (a folder it could not remove). */
  complaints: string[];
}

/** Run every case in `dir` in a child process; on a timeout, name the case that was running. */
function runIn(dir: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUNNER, '--trace', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = Buffer.concat(err).toString('utf8').split('\n').filter((l) => l !== '');
      const trace = lines.filter((l) => caseNames.has(l));
      const complaints = lines.filter((l) => !caseNames.has(l));
      if (code !== 0) {
        const how = timedOut ? `timed out after ${RUN_TIMEOUT_MS / 1000} s` : `exit ${code ?? signal}`;
        reject(new Error(`posix-run in ${dir}: ${how}; last case started: ${trace.at(-1) ?? 'none'}; stderr: ${complaints.join(' | ')}`));
        return;
      }
      const results = JSON.parse(Buffer.concat(out).toString('utf8')) as CaseResult[];
      resolve({ results: new Map(results.map((r) => [r.name, r.observation])), complaints });
    });
  });
}

/** Run the cases in a fresh host temp folder: the oracle. */
async function runOnHost(): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'avfs-posix-host-'));
  try {
    return await runIn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('POSIX case list', () => {
  it('names every expected difference after a real case', () => {
    const unknown = Object.keys(expectedDifferences('fuse-native')).filter((n) => !caseNames.has(n));
    assert.deepEqual(unknown, [], 'expected differences that name no case');
    assert.equal(caseNames.size, CASES.length, 'case names are unique');
  });

  it('observes deterministically: two host runs in different folders agree', async () => {
    const [a, b] = [await runOnHost(), await runOnHost()];
    assert.deepEqual([...b.results], [...a.results]);
    assert.deepEqual([a.complaints, b.complaints], [[], []]);
  });
});

// Every engine on the driver this machine mounts with; the other driver (fuse-native, the one a
// non-root user gets, when this runs as root) on sqlite, so both stay conformant.
const driver = fuseDriver();
const other = driver === 'kernel' ? 'fuse-native' : undefined;
const unavailable = fuseUnavailable(driver);
if (unavailable !== undefined) {
  test('avfs mount POSIX conformance', { skip: unavailable }, () => {});
} else {
  const backends = ['sqlite', 'lmdb', 'log', ...(ROCKS_SKIP ? [] : (['rocksdb'] as const)), ...(pgTestUrl() ? (['postgres'] as const) : [])] as const;
  for (const backend of backends) conformance(backend, driver);
  if (other) {
    const why = fuseUnavailable(other);
    if (why) test(`avfs mount POSIX conformance (sqlite, ${other})`, { skip: why }, () => {});
    else conformance('sqlite', other);
  }
}

function conformance(backend: 'sqlite' | 'lmdb' | 'log' | 'rocksdb' | 'postgres', drv: 'kernel' | 'fuse-native'): void {
  const expected = expectedDifferences(drv);
  describe(`avfs mount POSIX conformance (${backend}, ${drv})`, () => {
    let host: Run;
    let mount: Run;
    let mounted: MountedVault | undefined;

    before(async () => {
      host = await runOnHost();
      mounted = await mountVault({ backend, driver: drv });
      mount = await runIn(mounted.dir);
    });
    after(async () => {
      await mounted?.unmount();
    });

    it('removes its run folder from the mount', () => {
      assert.deepEqual(mount.complaints, []);
    });

    for (const k of CASES) {
      const why = expected[k.name];
      it(k.name, { skip: k.root === true && !isRoot ? 'needs root on the host' : false }, () => {
        const want = host.results.get(k.name);
        const saw = mount.results.get(k.name);
        if (why === undefined) {
          assert.deepEqual(saw, want, `${k.name}: the mount (actual) differs from the host (expected)`);
        } else {
          assert.notDeepEqual(saw, want, `${k.name} is in the expected differences of ${drv} (${why}) but now behaves like the host: remove it from the table`);
        }
      });
    }
  });
}
