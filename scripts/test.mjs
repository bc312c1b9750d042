// `npm test`: one throwaway PostgreSQL cluster for the whole run (test/helpers/pg-cluster.ts),
// its URL passed to every test process in AVFS_TEST_PG_URL, and stopped at the end whatever
// happens (failure, Ctrl-C). Without server binaries the postgres tests skip and say why.
// Arguments are passed to `node --test` (default: every dist/test/*.test.js, two at a time;
// AVFS_TEST_CONCURRENCY changes that: three gained about 4% on this 2-core machine, so two stays).
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const { startCluster } = await import('../dist/test/helpers/pg-cluster.js');
let cluster;
if (process.env.AVFS_TEST_PG_URL === undefined) {
  try {
    const t0 = Date.now();
    cluster = startCluster();
    process.env.AVFS_TEST_PG_URL = cluster.url;
    console.log(`# postgres test cluster at ${cluster.url} (started in ${Date.now() - t0} ms)`);
  } catch (e) {
    // Empty: the test processes skip postgres instead of each trying to start a cluster.
    process.env.AVFS_TEST_PG_URL = '';
    console.log(`# postgres tests skipped: ${e.message}`);
  }
}
const stop = () => cluster?.stop();
process.on('exit', stop);

const args = process.argv.slice(2);
const files = args.some((a) => !a.startsWith('-'))
  ? []
  : readdirSync('dist/test').filter((f) => f.endsWith('.test.js')).sort().map((f) => join('dist/test', f));
const child = spawn(process.execPath, ['--test', `--test-concurrency=${process.env.AVFS_TEST_CONCURRENCY ?? 2}`, ...args, ...files], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => child.kill(sig));
}
child.on('close', (code, signal) => {
  stop();
  process.exit(code ?? (signal ? 1 : 0));
});
