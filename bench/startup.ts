// Start-up time: the whole `avfs cat /small` process on a small SQLite vault, against the
// floor every Node CLI pays (`node -e 0`). Median of N runs each, interleaved so that drift in
// the machine's load hits both alike.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createVault } from '../src/index.js';
import { median } from './timing.js';

export const STARTUP_TARGET = 1.5;
const CONTENT = 'hello from the agentvfs benchmark\n';

export interface StartupResult {
  skipped?: string;
  command?: string;
  runs: number;
  avfsSeconds?: number;
  nodeSeconds?: number;
  ratio?: number;
  target: number;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): { seconds: number; r: SpawnSyncReturns<Buffer> } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return { seconds: (performance.now() - t0) / 1000, r };
}

/** bin/avfs run as a user would (its own #! line), or through node when it is not executable. */
function launcher(bin: string): { cmd: string; pre: string[] } {
  try {
    accessSync(bin, constants.X_OK);
    if (readFileSync(bin).subarray(0, 2).toString() === '#!') return { cmd: bin, pre: [] };
  } catch {
    // fall through
  }
  return { cmd: process.execPath, pre: [bin] };
}

export async function measureStartup(root: string, runs: number): Promise<StartupResult> {
  const bin = resolve(root, 'bin/avfs');
  const base = { runs, target: STARTUP_TARGET };
  if (!existsSync(bin)) return { ...base, skipped: 'bin/avfs does not exist yet' };

  const dir = mkdtempSync(join(tmpdir(), 'avfs-bench-startup-'));
  try {
    const home = join(dir, 'home');
    const vaultPath = join(dir, 'startup.avfs');
    const v = await createVault(vaultPath, { backend: 'sqlite', home, actor: 'bench' });
    await v.writeFile('/small', CONTENT);
    await v.close();

    const env = { ...process.env, AVFS_HOME: home };
    const { cmd, pre } = launcher(bin);
    // The brief's form first; a parser that wants global flags first gets the other form.
    const forms = [
      ['cat', '/small', '--vault', vaultPath],
      ['--vault', vaultPath, 'cat', '/small'],
    ];
    let args: string[] | undefined;
    let why = '';
    for (const f of forms) {
      const { r } = run(cmd, [...pre, ...f], env);
      if (r.status === 0 && r.stdout.toString() === CONTENT) {
        args = [...pre, ...f];
        break;
      }
      why = r.error
        ? r.error.message
        : `exit ${r.status}: ${(r.stderr.toString().trim().split('\n')[0] || r.stdout.toString().trim().split('\n')[0] || 'wrong output').slice(0, 200)}`;
    }
    const shown = (a: string[]) => [cmd === process.execPath ? 'node' : 'bin/avfs', ...a.map((x) => (x === vaultPath ? 'VAULT.avfs' : x === bin ? 'bin/avfs' : x))].join(' ');
    if (!args) return { ...base, skipped: `bin/avfs cat /small failed (${why})` };

    // Warm the page cache for both before measuring.
    for (let i = 0; i < 2; i++) {
      run(cmd, args, env);
      run(process.execPath, ['-e', '0'], env);
    }
    const a: number[] = [];
    const n: number[] = [];
    for (let i = 0; i < runs; i++) {
      const x = run(cmd, args, env);
      if (x.r.status !== 0) return { ...base, skipped: `bin/avfs failed on run ${i + 1}: exit ${x.r.status}` };
      a.push(x.seconds);
      n.push(run(process.execPath, ['-e', '0'], env).seconds);
    }
    const avfsSeconds = median(a);
    const nodeSeconds = median(n);
    return { ...base, command: shown(args), avfsSeconds, nodeSeconds, ratio: avfsSeconds / nodeSeconds };
  } catch (e) {
    return { ...base, skipped: `could not set up the start-up vault (${(e as Error).message.split('\n')[0]})` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
