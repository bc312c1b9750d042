// `node scripts/bench-pg.mjs [--probe] [bench args...]`: the benchmark (or with --probe the
// edit probe, e.g. `--probe both --engines sqlite,postgres`) with PostgreSQL beside the other
// engines, on a throwaway cluster started for the run (test/helpers/pg-cluster.ts: initdb and
// pg_ctl from the installed server binaries, a Unix socket in a temp folder), stopped at the end
// whatever happens. For a server of your own, set AVFS_BENCH_PG_URL and run `npm run bench`.
import { spawn } from 'node:child_process';

const { startCluster } = await import('../dist/test/helpers/pg-cluster.js');
// durable: the server's default fsync and synchronous commit, as a deployment runs it (the test
// cluster turns them off; measured with that, postgres "durable" rows would be nothing of the sort).
const cluster = startCluster({ durable: true });
process.on('exit', () => cluster.stop());
console.log(`# postgres cluster at ${cluster.url}`);
// --probe: bench/tools/edit-probe.js (issue 12's ls and overwrite rows) instead of the benchmark.
const probe = process.argv[2] === '--probe';
const script = probe ? 'dist/bench/tools/edit-probe.js' : 'dist/bench/run.js';
const child = spawn(process.execPath, [script, ...process.argv.slice(probe ? 3 : 2)], {
  stdio: 'inherit',
  env: { ...process.env, AVFS_BENCH_PG_URL: cluster.url },
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
