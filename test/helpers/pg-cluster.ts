// A throwaway PostgreSQL cluster for the tests. `npm test` (scripts/test.mjs) starts one for
// the whole run and passes its URL in AVFS_TEST_PG_URL; a test file run on its own starts its
// own here, once per process, and stops it when the process exits. When no cluster can be
// started (no server binaries, no postgres user to run them as root), pgTestUrl() says why and
// the postgres tests skip.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN_DIRS = ['/usr/local/bin', '/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin', '/usr/bin'];

export interface PgCluster {
  url: string;
  dir: string;
  stop(): void;
}

function findBin(name: string): string | undefined {
  for (const d of BIN_DIRS) if (existsSync(join(d, name))) return join(d, name);
  return undefined;
}

/**
 * Start a cluster in a new temp folder (sockets only, no TCP); throws with the reason when it
 * cannot. `durable`: the server's own durability settings (fsync, synchronous commit, full page
 * writes: what a real deployment runs), for the benchmark; the tests run without them.
 */
export function startCluster(opts: { durable?: boolean } = {}): PgCluster {
  const initdb = findBin('initdb');
  const pgCtl = findBin('pg_ctl');
  if (!initdb || !pgCtl) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found');
  const root = process.getuid?.() === 0;
  let uid: number | undefined;
  let gid: number | undefined;
  if (root) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0) throw new Error('running as root and there is no postgres user to run the server as');
    uid = Number(id.stdout.trim());
    gid = Number(g.stdout.trim());
  }
  const dir = mkdtempSync(join(tmpdir(), 'avfs-pg-'));
  const data = join(dir, 'data');
  const sock = dir; // short: a socket path is limited to ~107 bytes
  chmodSync(dir, 0o755);
  if (root) chownSync(dir, uid!, gid!);
  const run = (cmd: string, args: string[]) => {
    const r = root
      ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' })
      : spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' ')}`);
  };
  try {
    run(initdb, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
    // fsync off: a test cluster dies with its run; max_connections: two test files at a time,
    // each with its pools, listeners and child processes.
    const fast = opts.durable ? '' : ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off';
    const args = `-k ${sock} -c listen_addresses=''${fast} -c max_connections=300 -c shared_buffers=64MB`;
    run(pgCtl, ['-D', data, '-o', args, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let stopped = false;
  return {
    url: `postgres://postgres@/postgres?host=${sock}`,
    dir,
    stop() {
      if (stopped) return;
      stopped = true;
      const args = ['-D', data, '-m', 'immediate', '-w', 'stop'];
      if (root) spawnSync('runuser', ['-u', 'postgres', '--', pgCtl, ...args]);
      else spawnSync(pgCtl, args);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let cached: { url?: string; reason?: string } | undefined;

/** The test cluster's URL (AVFS_TEST_PG_URL, else one started for this process), or why there is none. */
export function pgTest(): { url?: string; reason?: string } {
  if (cached) return cached;
  if (process.env.AVFS_TEST_PG_URL === '') return (cached = { reason: 'AVFS_TEST_PG_URL is set empty' });
  if (process.env.AVFS_TEST_PG_URL) return (cached = { url: process.env.AVFS_TEST_PG_URL });
  try {
    const c = startCluster();
    process.on('exit', () => c.stop());
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        c.stop();
        process.exit(130);
      });
    }
    // Child processes of the tests (CLI runs, conformance children) find the same cluster.
    process.env.AVFS_TEST_PG_URL = c.url;
    cached = { url: c.url };
  } catch (e) {
    cached = { reason: (e as Error).message };
    console.log(`# postgres tests skipped: ${cached.reason}`);
  }
  return cached;
}

export function pgTestUrl(): string | undefined {
  return pgTest().url;
}
