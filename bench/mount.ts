// `npm run bench -- --mount` (or `node dist/bench/mount.js`): the FUSE mount (`avfs mount`)
// against a host folder on the same disk, with the real tools run as child processes and the
// wall-clock time measured around each. Subjects: `host` (a temporary folder), `sqlite` and
// `lmdb` (a fresh vault of that backend, mounted with `avfs mount` at a temporary folder).
//
// Source tree: the project's own node_modules (thousands of real source files, some binaries,
// a few symlinks; present wherever the benchmark can run at all), packed once per benchmark
// run with `tar -cf --sort=name --hard-dereference` (the mount refuses hard links; each mount is
// probed for `ln` apart); its file count and size go into the report (`--tree PATH` for
// another tree, e.g. /usr/include). Random data for the big files: one pool file of random bytes
// (Node's crypto), a separate region per write, so the vault cannot deduplicate one run's big
// file against another's.
//
// Per run (--runs N, default 3), in a fresh subject:
//   untar   mkdir tree (untimed); tar -xf TARBALL -C tree --no-same-owner
//   cat     find tree -type f -print0 | xargs -0 cat > /dev/null
//   git     cd tree && git init -q && git add -A && git commit -q -m import
//   rm      rm -rf tree/.git (untimed); rm -rf tree
//   write   dd if=POOL of=big bs=1M skip=.. count=BIG (256 MiB)
//   read    cat big > /dev/null
//   fsync   dd if=POOL of=big2 bs=1M skip=.. count=BIG conv=fsync; then rm big big2 (untimed)
// then once: huge  dd if=POOL of=huge bs=1M count=HUGE (1 GiB, timed once)
// then per run: random  dd if=64KiB-random of=huge bs=64K count=1 seek=OFF oflag=seek_bytes
//   conv=notrunc, OFF a seeded random multiple of 4 KiB; with the bytes the vault grew
//   (`avfs vault stats --json`: storedBytes and bytesOnDisk, before and after; on the host the
//   file's allocated blocks).
// Untimed checks on the first run: the untarred tree against the source (type, mode, size,
// mtime, symlink target of every entry; the content's sha256), the file count git committed,
// the big file read back (cmp), each random write read back (cmp).
// Report: the median per step, the ratio mount / host (above 1: the mount is slower), the CPU
// seconds the mount's serving process used per step. Target: untar and rm -rf ≤ 2× the host.
// Writes bench/results/mount.{json,md} and prints the markdown. When FUSE (or `avfs mount`) is
// unavailable: one line saying why, exit 0, nothing written.
//
//   node dist/bench/mount.js [--only sqlite,lmdb,host] [--runs N] [--tree PATH] [--big-mib N]
//                            [--huge-mib N] [--steps untar,cat,git,rm,write,read,fsync,random]
//                            [--timeout SECONDS] [--mount-args="--cache 1"] [--fuse-ops] [--keep]
//   --fuse-ops: also count the FUSE requests of every timed step on a mount, per kind, with the
//   time the kernel waited for each kind (bench/fuse-trace.ts: the kernel's fuse tracepoints;
//   root only). Tracing costs a little time; leave it off for the figures to keep.
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FuseTrace, type FuseOpsRun } from './fuse-trace.js';
import { machine } from './machine.js';
import type { Machine } from './report.js';
import { rng } from './stats.js';
import { fmtBytes, fmtRatio, fmtSeconds, median, now } from './timing.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = join(ROOT, 'bench/results');
const BIN = join(ROOT, 'bin/avfs');
const MiB = 1024 * 1024;
const RANDOM_BYTES = 64 * 1024;

export const SUBJECTS = ['sqlite', 'lmdb', 'host'] as const;
export type SubjectId = (typeof SUBJECTS)[number];
export const STEPS = ['untar', 'cat', 'git', 'rm', 'write', 'read', 'fsync', 'huge', 'random'] as const;
export type StepId = (typeof STEPS)[number];

export interface MountBenchOptions {
  subjects: SubjectId[];
  runs: number;
  tree: string;
  bigMiB: number;
  hugeMiB: number;
  steps: StepId[];
  timeoutSeconds: number;
  /** Extra arguments for `avfs mount` (e.g. --cache 1). */
  mountArgs: string[];
  /** Count the FUSE requests of every timed step on a mount (kernel tracepoints; needs root). */
  fuseOps: boolean;
  keep: boolean;
}

export const DEFAULT_MOUNT_BENCH: MountBenchOptions = {
  subjects: ['host', 'sqlite', 'lmdb'],
  runs: 3,
  tree: join(ROOT, 'node_modules'),
  bigMiB: 256,
  hugeMiB: 1024,
  steps: [...STEPS],
  timeoutSeconds: 900,
  mountArgs: [],
  fuseOps: false,
  keep: false,
};

interface StepResult {
  id: StepId;
  label: string;
  command: string;
  /** Seconds per run; null where the run failed or was skipped. */
  runs: (number | null)[];
  median: number | null;
  /** CPU seconds (user + system) of the mount's serving process during each run. */
  serverCpu?: (number | null)[];
  /** With --fuse-ops: the FUSE requests of each run. */
  fuseOps?: (FuseOpsRun | null)[];
  errors: string[];
}

interface Growth {
  offset: number;
  storedBytes?: number;
  bytesOnDisk?: number;
  /** Host: change in the file's allocated blocks (st_blocks × 512). */
  allocatedBytes?: number;
}

interface SubjectResult {
  id: SubjectId;
  label: string;
  /** The mount as /proc/mounts shows it. */
  mountEntry?: string;
  mountSeconds?: number;
  unmountSeconds?: number;
  steps: Partial<Record<StepId, StepResult>>;
  growth: Growth[];
  /** The vault at the end (avfs vault stats --json). */
  vaultEnd?: { storedBytes: number; bytesOnDisk: number; files: number; versions: number };
  checks: string[];
  problems: string[];
  error?: string;
  seconds: number;
}

interface TreeInfo {
  path: string;
  files: number;
  dirs: number;
  symlinks: number;
  /** Files with more than one name in the source tree (packed as separate files). */
  hardLinks: number;
  bytes: number;
  tarBytes: number;
  sha256: string;
}

export interface MountBenchResults {
  date: string;
  machine: Machine;
  tools: Record<string, string>;
  /** The /proc/mounts line of the file system holding the temp folder (the host subject and the vaults). */
  hostFs: string;
  options: Omit<MountBenchOptions, 'keep'>;
  tree: TreeInfo;
  subjects: SubjectResult[];
  ratios: { subject: SubjectId; step: StepId; ratio: number | null }[];
  targets: { subject: SubjectId; step: StepId; ratio: number | null; target: number; ok: boolean | null }[];
  loadStart: number;
  loadEnd: number;
  totalSeconds: number;
}

const log = (m: string): void => void process.stderr.write(`${m}\n`);
const q = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;
const firstLines = (s: string, n = 6): string => s.trim().split('\n').slice(0, n).join(' | ');

interface Ran {
  seconds: number;
  ok: boolean;
  status: number | null;
  stdout: string;
  stderr: string;
  error?: string;
}

/** Run a shell command, the wall-clock time around the whole child process. */
function sh(cmd: string, o: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutSeconds?: number } = {}): Ran {
  const t0 = now();
  const r = spawnSync('sh', ['-c', cmd], {
    cwd: o.cwd,
    env: o.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    timeout: (o.timeoutSeconds ?? 900) * 1000,
    killSignal: 'SIGKILL',
  });
  const seconds = now() - t0;
  const ok = r.status === 0 && !r.error;
  const error = ok ? undefined : r.error ? `${r.error.message}${r.signal ? ` (${r.signal})` : ''}` : `exit ${r.status ?? r.signal}: ${firstLines(r.stderr || r.stdout) || '(no output)'}`;
  return { seconds, ok, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ...(error ? { error } : {}) };
}

function mustSh(cmd: string, o: Parameters<typeof sh>[1] = {}): Ran {
  const r = sh(cmd, o);
  if (!r.ok) throw new Error(`${cmd}: ${r.error}`);
  return r;
}

function version(cmd: string): string {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
}

/** Reproducible git: no user or system configuration, a fixed identity. */
function gitEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'avfs bench',
    GIT_AUTHOR_EMAIL: 'bench@example.invalid',
    GIT_COMMITTER_NAME: 'avfs bench',
    GIT_COMMITTER_EMAIL: 'bench@example.invalid',
  };
}

/** A listing that must match between the source tree and an untarred copy (directory sizes excluded: they are the file system's). */
const LISTING = (dir: string): string =>
  `cd ${q(dir)} && find . -mindepth 1 \\( -type d -printf '%y %m - %Ts %p\\n' \\) -o \\( ! -type d -printf '%y %m %s %Ts %p %l\\n' \\) | LC_ALL=C sort`;
function listing(dir: string, timeoutSeconds: number): string {
  return mustSh(LISTING(dir), { timeoutSeconds }).stdout;
}

function contentSha(dir: string, timeoutSeconds: number): string {
  return mustSh(`cd ${q(dir)} && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 cat | sha256sum`, { timeoutSeconds }).stdout.split(' ')[0];
}

/** Pack the source tree once; count what is in it. */
function makeTarball(tree: string, work: string, timeoutSeconds: number): { tarball: string; info: TreeInfo; list: string } {
  if (!existsSync(tree) || !statSync(tree).isDirectory()) throw new Error(`--tree ${tree}: not a folder`);
  const tarball = join(work, 'tree.tar');
  // --hard-dereference: node_modules holds a few hard links (npm's builds), and a mount that
  // refuses link(2) would fail the whole untar on them; each mount is probed for hard links apart.
  mustSh(`tar -cf ${q(tarball)} --sort=name --hard-dereference -C ${q(tree)} .`, { timeoutSeconds });
  const hardLinks = Number(mustSh(`find ${q(tree)} -type f -links +1 | wc -l`, { timeoutSeconds }).stdout.trim());
  // Counts and the reference listing from the archive as extracted on the host once: what every subject must reproduce.
  const ref = join(work, 'reference');
  mkdirSync(ref);
  mustSh(`tar -xf ${q(tarball)} -C ${q(ref)} --no-same-owner`, { timeoutSeconds });
  const list = listing(ref, timeoutSeconds);
  let files = 0;
  let dirs = 0;
  let symlinks = 0;
  let bytes = 0;
  for (const line of list.split('\n')) {
    if (!line) continue;
    const [type, , size] = line.split(' ');
    if (type === 'f') {
      files++;
      bytes += Number(size);
    } else if (type === 'd') dirs++;
    else if (type === 'l') symlinks++;
  }
  const sha256 = contentSha(ref, timeoutSeconds);
  rmSync(ref, { recursive: true, force: true });
  return { tarball, list, info: { path: tree, files, dirs, symlinks, hardLinks, bytes, tarBytes: statSync(tarball).size, sha256 } };
}

/** A file of random bytes, written in 16 MiB blocks. */
function makeRandomFile(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  const buf = Buffer.alloc(16 * MiB);
  try {
    for (let done = 0; done < bytes; ) {
      const n = Math.min(buf.length, bytes - done);
      randomFillSync(buf, 0, n);
      writeSync(fd, buf, 0, n);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** The pid of the process serving a mount: the one whose command line names the mount point (ours, a fresh temp folder). */
function serverPid(mnt: string): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (argv.includes(mnt) && argv.some((a) => a.includes('avfs') || a.endsWith('.js'))) return Number(d);
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}

/** CPU seconds (user + system, all threads) of a process so far. */
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
  } catch {
    return null;
  }
}

/** The /proc/mounts line of the file system a path is on (the longest mount point above it). */
function fsOf(path: string): string {
  let best = '';
  for (const l of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const at = l.split(' ')[1];
    if (at && (path === at || path.startsWith(at.endsWith('/') ? at : `${at}/`)) && at.length >= (best.split(' ')[1]?.length ?? 0)) best = l;
  }
  return best;
}

function mountEntry(mnt: string): string | undefined {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[1] === mnt);
}

/** A subject: a folder the steps run in, and what it takes to set up and tear down. */
interface Place {
  dir: string;
  env: NodeJS.ProcessEnv;
  pid?: number;
  stats?: () => { storedBytes: number; bytesOnDisk: number; files: number; versions: number } | undefined;
  close: () => void;
}

function avfs(args: string[], env: NodeJS.ProcessEnv, timeoutSeconds: number): Ran {
  return sh([process.execPath, BIN, ...args].map(q).join(' '), { env, timeoutSeconds });
}

class Unavailable extends Error {}

/** A fresh vault of this backend, mounted at a fresh folder. Throws Unavailable when `avfs mount` says FUSE is not there. */
function openMount(backend: 'sqlite' | 'lmdb', r: SubjectResult, timeoutSeconds: number, keep: boolean, mountArgs: string[] = []): Place {
  const home = mkdtempSync(join(tmpdir(), `avfs-bench-mount-${backend}-`));
  const env = { ...process.env, AVFS_HOME: join(home, 'home') };
  const mnt = join(home, 'mnt');
  mkdirSync(mnt);
  const made = avfs(['vault', 'create', 'bench', '--backend', backend], env, timeoutSeconds);
  if (!made.ok) {
    rmSync(home, { recursive: true, force: true });
    throw new Error(`avfs vault create bench --backend ${backend}: ${made.error}`);
  }
  const m = avfs(['mount', '--vault', 'bench', ...mountArgs, mnt], env, timeoutSeconds);
  if (!m.ok) {
    rmSync(home, { recursive: true, force: true });
    if (m.status === 1 || m.status === 2) throw new Unavailable(firstLines(m.stderr || m.stdout, 1) || `avfs mount exited ${m.status}`);
    throw new Error(`avfs mount: ${m.error}`);
  }
  r.mountSeconds = m.seconds;
  r.mountEntry = mountEntry(mnt);
  if (!r.mountEntry) r.problems.push(`avfs mount exited 0 but ${mnt} is not in /proc/mounts`);
  const pid = serverPid(mnt);
  if (pid === undefined) r.problems.push('could not find the serving process (no CPU figures)');
  const stats = () => {
    const s = avfs(['vault', 'stats', 'bench', '--json'], env, timeoutSeconds);
    if (!s.ok) {
      r.problems.push(`avfs vault stats --json: ${s.error}`);
      return undefined;
    }
    const j = JSON.parse(s.stdout) as { storedBytes: number; bytesOnDisk: number; files: number; versions: number };
    return { storedBytes: j.storedBytes, bytesOnDisk: j.bytesOnDisk, files: j.files, versions: j.versions };
  };
  return {
    dir: mnt,
    env,
    pid,
    stats,
    close: () => {
      const u = avfs(['unmount', mnt], env, timeoutSeconds);
      r.unmountSeconds = u.seconds;
      if (!u.ok) {
        r.problems.push(`avfs unmount ${mnt}: ${u.error}`);
        const f = sh(`fusermount -u -z ${q(mnt)}`);
        if (!f.ok) r.problems.push(`fusermount -u -z: ${f.error}`);
      } else if (mountEntry(mnt)) r.problems.push(`avfs unmount exited 0 but ${mnt} is still mounted`);
      if (pid !== undefined) {
        // `avfs unmount` ends the serving process; give it a moment, then say so if it did not.
        const until = now() + 5;
        while (existsSync(`/proc/${pid}`) && now() < until) spawnSync('sleep', ['0.1']);
        if (existsSync(`/proc/${pid}`)) r.problems.push(`the serving process ${pid} was still running 5 s after avfs unmount`);
      }
      if (!keep && !mountEntry(mnt)) rmSync(home, { recursive: true, force: true });
      else log(`  kept ${home}`);
    },
  };
}

function openHost(keep: boolean): Place {
  const dir = mkdtempSync(join(tmpdir(), 'avfs-bench-mount-host-'));
  return {
    dir,
    env: process.env,
    close: () => {
      if (!keep) rmSync(dir, { recursive: true, force: true });
      else log(`  kept ${dir}`);
    },
  };
}

function allocated(path: string): number {
  try {
    return statSync(path).blocks * 512;
  } catch {
    return NaN;
  }
}

const LABELS = (o: MountBenchOptions, tree: TreeInfo): Record<StepId, string> => ({
  untar: `untar (${tree.files.toLocaleString('en-US')} files, ${(tree.bytes / 1e6).toFixed(0)} MB)`,
  cat: 'find | xargs cat',
  git: 'git init + add -A + commit',
  rm: 'rm -rf',
  write: `write ${o.bigMiB} MiB (dd bs=1M)`,
  read: `read ${o.bigMiB} MiB (cat)`,
  fsync: `write ${o.bigMiB} MiB + fsync (dd conv=fsync)`,
  huge: `write ${o.hugeMiB} MiB (once)`,
  random: `random 64 KiB write into ${o.hugeMiB >= 1024 ? `${o.hugeMiB / 1024} GiB` : `${o.hugeMiB} MiB`}`,
});

interface Source {
  tarball: string;
  list: string;
  info: TreeInfo;
  pool: string;
  chunks: string;
}

/** One subject's phases, so that the runner can interleave the subjects run by run. */
interface Runner {
  r: SubjectResult;
  /** Run `run` of the tree and big-file steps. */
  run: (run: number) => void;
  /** The 1 GiB file, once. */
  huge: () => boolean;
  /** Run `run` of the random write. */
  random: (run: number) => void;
  finish: () => SubjectResult;
}

/** The kernel's dev_t of a mount (what the fuse tracepoints call the connection), from stat's st_dev. */
function kernelDev(path: string): number {
  const d = statSync(path).dev;
  const major = (d >> 8) & 0xfff;
  const minor = (d & 0xff) | ((d >> 12) & 0xfff00);
  return major * 2 ** 20 + minor;
}

function makeRunner(id: SubjectId, o: MountBenchOptions, src: Source, trace?: FuseTrace): Runner {
  const t0 = now();
  const r: SubjectResult = { id, label: id === 'host' ? `host folder (${tmpdir()})` : `avfs mount, ${id} vault`, steps: {}, growth: [], checks: [], problems: [], seconds: 0 };
  const place = id === 'host' ? openHost(o.keep) : openMount(id, r, o.timeoutSeconds, o.keep, o.mountArgs);
  const tracing = id !== 'host' ? trace : undefined;
  const connection = tracing ? kernelDev(place.dir) : undefined;
  const labels = LABELS(o, src.info);
  const want = new Set(o.steps);
  const T = o.timeoutSeconds;
  const tree = join(place.dir, 'tree');
  const big = join(place.dir, 'big');
  const big2 = join(place.dir, 'big2');
  const huge = join(place.dir, 'huge');
  const bigBlocks = o.bigMiB;
  const poolSkip = (run: number, which: 0 | 1) => (run * 2 + which) * bigBlocks; // in MiB
  const hugeSkip = o.runs * 2 * bigBlocks;

  const commands: Record<StepId, string> = {
    untar: `tar -xf ${q(src.tarball)} -C ${q(tree)} --no-same-owner`,
    cat: `find ${q(tree)} -type f -print0 | xargs -0 cat > /dev/null`,
    git: 'git init -q && git add -A && git commit -q -m import',
    rm: `rm -rf ${q(tree)}`,
    write: `dd if=${q(src.pool)} of=${q(big)} bs=1M skip=SKIP count=${bigBlocks} status=none`,
    read: `cat ${q(big)} > /dev/null`,
    fsync: `dd if=${q(src.pool)} of=${q(big2)} bs=1M skip=SKIP count=${bigBlocks} conv=fsync status=none`,
    huge: `dd if=${q(src.pool)} of=${q(huge)} bs=1M skip=${hugeSkip} count=${o.hugeMiB} status=none`,
    random: `dd if=CHUNK of=${q(huge)} bs=64K count=1 seek=OFFSET oflag=seek_bytes conv=notrunc status=none`,
  };
  const step = (s: StepId): StepResult => {
    const e = (r.steps[s] ??= { id: s, label: labels[s], command: commands[s].replaceAll(place.dir, '$DIR').replaceAll(dirname(src.tarball), '$SRC'), runs: [], median: null, errors: [], ...(place.pid !== undefined ? { serverCpu: [] } : {}), ...(tracing ? { fuseOps: [] } : {}) });
    return e;
  };
  /** Time one step; a failure is recorded (with its output), never hidden, and returns false. */
  const timeStep = (s: StepId, run: number, cmd: string, cwd?: string, env?: NodeJS.ProcessEnv): boolean => {
    const e = step(s);
    // Untimed: write back what earlier steps left dirty, so that it is not charged to this one.
    spawnSync('sync');
    tracing?.start();
    const c0 = cpuSeconds(place.pid);
    const x = sh(cmd, { cwd, env: env ?? place.env, timeoutSeconds: T });
    const c1 = cpuSeconds(place.pid);
    if (tracing && e.fuseOps) e.fuseOps[run] = tracing.stop(connection);
    e.runs[run] = x.ok ? x.seconds : null;
    if (e.serverCpu) e.serverCpu[run] = c0 !== null && c1 !== null ? c1 - c0 : null;
    if (!x.ok) {
      e.errors.push(`run ${run + 1}: ${x.error}`);
      log(`  ${id} ${s} run ${run + 1} FAILED after ${x.seconds.toFixed(2)} s: ${x.error}`);
    } else log(`  ${id} ${s.padEnd(6)} run ${run + 1}: ${fmtSeconds(x.seconds)} s${e.serverCpu ? `, server CPU ${e.serverCpu[run]?.toFixed(2) ?? '?'} s` : ''}`);
    return x.ok;
  };
  const skip = (s: StepId, run: number, why: string) => {
    if (!want.has(s)) return;
    const e = step(s);
    e.runs[run] = null;
    e.errors.push(`run ${run + 1}: skipped (${why})`);
  };
  const untimed = (what: string, cmd: string, cwd?: string, env?: NodeJS.ProcessEnv): Ran => {
    const x = sh(cmd, { cwd, env: env ?? place.env, timeoutSeconds: T });
    if (!x.ok) {
      r.problems.push(`${what}: ${x.error}`);
      log(`  ${id} ${what} FAILED: ${x.error}`);
    }
    return x;
  };

  if (id !== 'host') {
    // Untimed: what a mount does with a hard link (the tarball has none; see makeTarball).
    const a = join(place.dir, 'hardlink-probe');
    const x = sh(`echo x > ${q(a)} && ln ${q(a)} ${q(`${a}.2`)}`, { timeoutSeconds: T });
    if (x.ok) r.checks.push('hard links: ln works');
    else r.problems.push(`hard links: \`ln\` on the mount: ${x.error}`);
    sh(`rm -f ${q(a)} ${q(`${a}.2`)}`, { timeoutSeconds: T });
  }
  const guard = (what: string, fn: () => void): void => {
    try {
      fn();
    } catch (e) {
      r.problems.push(`${what}: ${(e as Error).message}`);
      log(`  ${id} ${what} failed: ${(e as Error).message}`);
    }
  };
  const next = rng(20240611);
  const slots = Math.floor((o.hugeMiB * MiB - RANDOM_BYTES) / 4096);
  let hugeOk = false;

  const runOnce = (run: number): void => {
    // The tree: untar, read it all, commit it, remove it.
    if (want.has('untar')) {
      mkdirSync(tree);
      const untarOk = timeStep('untar', run, commands.untar);
      if (!untarOk) for (const s of ['cat', 'git', 'rm'] as const) skip(s, run, 'untar failed');
      else {
        if (run === 0) {
          // Untimed: is what we read back what the archive holds?
          const got = sh(LISTING(tree), { timeoutSeconds: T });
          if (!got.ok) r.problems.push(`listing the untarred tree: ${got.error}`);
          else {
            const a = src.list.split('\n');
            const b = new Set(got.stdout.split('\n'));
            const missing = a.filter((l) => !b.has(l));
            if (missing.length === 0 && a.length === b.size) r.checks.push(`untarred tree: all ${a.length - 1} entries match the archive (type, mode, size, mtime, link target)`);
            else {
              const aSet = new Set(a);
              const extra = [...b].filter((l) => !aSet.has(l));
              r.problems.push(`untarred tree differs from the archive in ${missing.length} entries, e.g. expected "${missing.slice(0, 3).join('", "')}", got "${extra.slice(0, 3).join('", "')}"`);
            }
          }
          const sha = sh(`cd ${q(tree)} && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 cat | sha256sum`, { timeoutSeconds: T });
          if (!sha.ok) r.problems.push(`reading the untarred tree back: ${sha.error}`);
          else if (sha.stdout.split(' ')[0] === src.info.sha256) r.checks.push('untarred tree: content sha256 matches');
          else r.problems.push(`untarred tree: content sha256 ${sha.stdout.split(' ')[0]} ≠ ${src.info.sha256}`);
        }
        if (want.has('cat')) timeStep('cat', run, commands.cat);
        if (want.has('git')) {
          const gitOk = timeStep('git', run, commands.git, tree, { ...place.env, ...gitEnv() });
          if (gitOk && run === 0) {
            const n = untimed('git ls-files', 'git ls-files | wc -l', tree, { ...place.env, ...gitEnv() });
            if (n.ok) r.checks.push(`git committed ${Number(n.stdout.trim()).toLocaleString('en-US')} files`);
          }
          untimed('rm -rf tree/.git', `rm -rf ${q(join(tree, '.git'))}`);
        }
        if (want.has('rm')) timeStep('rm', run, commands.rm);
      }
      if (existsSync(tree)) untimed('clean-up rm -rf tree', `rm -rf ${q(tree)}`);
    }
    // One big file: sequential write, read back; another with fsync.
    if (want.has('write') || want.has('read')) {
      const w = timeStep('write', run, commands.write.replace('SKIP', String(poolSkip(run, 0))));
      if (!w) skip('read', run, 'write failed');
      else if (want.has('read')) {
        timeStep('read', run, commands.read);
        if (run === 0) {
          const c = sh(`dd if=${q(src.pool)} bs=1M skip=${poolSkip(run, 0)} count=${bigBlocks} status=none | cmp - ${q(big)}`, { timeoutSeconds: T });
          if (c.ok) r.checks.push(`${o.bigMiB} MiB file: read back identical`);
          else r.problems.push(`${o.bigMiB} MiB file read back differs: ${c.error}`);
        }
      }
    }
    if (want.has('fsync')) timeStep('fsync', run, commands.fsync.replace('SKIP', String(poolSkip(run, 1))));
    for (const f of [big, big2]) if (existsSync(f)) untimed(`rm ${f}`, `rm -f ${q(f)}`);
  };

  // The 1 GiB file, written once, then random 64 KiB writes into it.
  const hugeOnce = (): boolean => {
    hugeOk = timeStep('huge', 0, commands.huge);
    return hugeOk;
  };
  const randomOnce = (run: number): void => {
    if (!hugeOk) return skip('random', run, `writing the ${o.hugeMiB} MiB file failed`);
    const offset = Math.floor(next() * slots) * 4096;
    const chunk = `${src.chunks}.${run}`;
    const before = place.stats?.();
    const blocksBefore = allocated(huge);
    const ok = timeStep('random', run, commands.random.replace('CHUNK', q(chunk)).replace('OFFSET', String(offset)));
    if (!ok) return;
    const g: Growth = { offset };
    if (place.stats) {
      // The serving process may commit on release, which the kernel sends after close() returns: wait until two looks agree.
      let after = place.stats();
      for (let i = 0; i < 5 && after; i++) {
        spawnSync('sleep', ['0.3']);
        const again = place.stats();
        if (again && again.storedBytes === after.storedBytes && again.bytesOnDisk === after.bytesOnDisk) break;
        after = again;
      }
      if (before && after) {
        g.storedBytes = after.storedBytes - before.storedBytes;
        g.bytesOnDisk = after.bytesOnDisk - before.bytesOnDisk;
      }
    } else g.allocatedBytes = allocated(huge) - blocksBefore;
    r.growth.push(g);
    const c = sh(`dd if=${q(huge)} bs=64K count=1 skip=${offset} iflag=skip_bytes status=none | cmp - ${q(chunk)}`, { timeoutSeconds: T });
    if (!c.ok) r.problems.push(`random write at ${offset}: read back differs: ${c.error}`);
    else if (run === o.runs - 1 && !r.problems.some((p) => p.startsWith('random write at'))) r.checks.push('random writes: each read back identical');
  };

  return {
    r,
    run: (run) => guard(`run ${run + 1}`, () => runOnce(run)),
    huge: () => {
      let ok = false;
      guard('the big file', () => void (ok = hugeOnce()));
      return ok;
    },
    random: (run) => guard(`random write ${run + 1}`, () => randomOnce(run)),
    finish: () => {
      guard('vault stats at the end', () => {
        const s = place.stats?.();
        if (s) r.vaultEnd = s;
      });
      place.close();
      for (const s of Object.values(r.steps)) {
        const ok = s.runs.filter((x): x is number => typeof x === 'number');
        s.median = ok.length > 0 ? median(ok) : null; // of the runs that worked; the failures are listed
      }
      r.seconds = now() - t0;
      return r;
    },
  };
}

export function mountOptionsFromArgs(argv: string[]): MountBenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      runs: { type: 'string' },
      tree: { type: 'string' },
      'big-mib': { type: 'string' },
      'huge-mib': { type: 'string' },
      steps: { type: 'string' },
      timeout: { type: 'string' },
      'mount-args': { type: 'string' },
      'fuse-ops': { type: 'boolean' },
      keep: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const o: MountBenchOptions = { ...DEFAULT_MOUNT_BENCH };
  const int = (v: string | undefined, name: string, d: number): number => {
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number, got "${v}"`);
    return n;
  };
  if (values.only) {
    const s = values.only.split(',').map((x) => x.trim()).filter(Boolean);
    for (const x of s) if (!(SUBJECTS as readonly string[]).includes(x)) throw new Error(`--only: sqlite, lmdb or host, not "${x}"`);
    o.subjects = s as SubjectId[];
  }
  if (values.steps) {
    const s = values.steps.split(',').map((x) => x.trim()).filter(Boolean);
    for (const x of s) if (!(STEPS as readonly string[]).includes(x)) throw new Error(`--steps: ${STEPS.join(', ')}, not "${x}"`);
    o.steps = s as StepId[];
    if (o.steps.includes('random') && !o.steps.includes('huge')) o.steps.push('huge');
  }
  o.runs = int(values.runs, '--runs', o.runs);
  o.bigMiB = int(values['big-mib'], '--big-mib', o.bigMiB);
  o.hugeMiB = int(values['huge-mib'], '--huge-mib', o.hugeMiB);
  o.timeoutSeconds = int(values.timeout, '--timeout', o.timeoutSeconds);
  if (values.tree) o.tree = resolve(values.tree);
  if (values['mount-args']) o.mountArgs = values['mount-args'].split(/\s+/).filter(Boolean);
  o.keep = !!values.keep;
  o.fuseOps = !!values['fuse-ops'];
  return o;
}

export const MOUNT_USAGE =
  'usage: node dist/bench/mount.js [--only sqlite,lmdb,host] [--runs N (default 3)] [--tree PATH (default node_modules)] [--big-mib N (default 256)] [--huge-mib N (default 1024)] [--steps untar,cat,git,rm,write,read,fsync,random] [--timeout SECONDS (per step, default 900)] [--mount-args="--cache 1"] [--fuse-ops] [--keep]';

/** Why the mount cannot be measured here, or undefined when it can (a real mount and unmount of a scratch vault). */
function fuseUnavailable(backend: 'sqlite' | 'lmdb', timeoutSeconds: number, mountArgs: string[]): string | undefined {
  if (!existsSync('/dev/fuse')) return '/dev/fuse does not exist';
  const scratch: SubjectResult = { id: backend, label: '', steps: {}, growth: [], checks: [], problems: [], seconds: 0 };
  try {
    openMount(backend, scratch, timeoutSeconds, false, mountArgs).close();
  } catch (e) {
    if (e instanceof Unavailable) return e.message;
    throw e;
  }
  if (scratch.problems.length > 0) log(`mount bench: the probe mount: ${scratch.problems.join('; ')}`);
  return undefined;
}

export async function runMountBench(o: MountBenchOptions): Promise<MountBenchResults | undefined> {
  const t0 = now();
  const loadStart = loadavg()[0];
  const mounts = o.subjects.filter((s): s is 'sqlite' | 'lmdb' => s !== 'host');
  if (mounts.length > 0) {
    const why = fuseUnavailable(mounts[0], o.timeoutSeconds, o.mountArgs);
    if (why !== undefined) {
      console.log(`mount bench: FUSE unavailable, nothing measured: ${why}`);
      return undefined;
    }
  }
  let trace: FuseTrace | undefined;
  if (o.fuseOps && mounts.length > 0) {
    const t = FuseTrace.open();
    if (typeof t === 'string') log(`mount bench: --fuse-ops: ${t}; going on without`);
    else trace = t;
  }
  const work = mkdtempSync(join(tmpdir(), 'avfs-bench-mount-src-'));
  try {
    log(`mount bench: packing ${o.tree}`);
    const packed = makeTarball(o.tree, work, o.timeoutSeconds);
    log(`  ${packed.info.files} files, ${packed.info.dirs} folders, ${packed.info.symlinks} symlinks, ${(packed.info.bytes / 1e6).toFixed(0)} MB; tarball ${(packed.info.tarBytes / 1e6).toFixed(0)} MB`);
    const pool = join(work, 'pool.bin');
    const needsPool = o.steps.some((x) => ['write', 'read', 'fsync', 'huge', 'random'].includes(x));
    const poolMiB = needsPool ? o.runs * 2 * o.bigMiB + o.hugeMiB : 0;
    log(`  ${poolMiB} MiB of random data for the big files`);
    makeRandomFile(pool, poolMiB * MiB);
    const chunks = join(work, 'chunk');
    for (let i = 0; i < o.runs; i++) makeRandomFile(`${chunks}.${i}`, RANDOM_BYTES);
    const tools = {
      tar: version('tar --version'),
      coreutils: version('cat --version'),
      findutils: version('find --version'),
      git: version('git --version'),
      fusermount: version('fusermount -V'),
      'fuse-native': (() => {
        try {
          return (JSON.parse(readFileSync(join(ROOT, 'node_modules/fuse-native/package.json'), 'utf8')) as { version: string }).version;
        } catch {
          return 'not installed';
        }
      })(),
    };
    // All subjects open at once and taken in turn run by run (the order rotating), so that a
    // change in the machine's load falls on every subject alike.
    const src: Source = { ...packed, pool, chunks };
    const runners: Runner[] = [];
    const failed: SubjectResult[] = [];
    for (const id of o.subjects) {
      try {
        runners.push(makeRunner(id, o, src, trace));
      } catch (e) {
        log(`  ${id}: ${(e as Error).message}`);
        failed.push({ id, label: id, steps: {}, growth: [], checks: [], problems: [], error: (e as Error).message, seconds: 0 });
      }
    }
    const turn = <T>(xs: T[], k: number): T[] => xs.map((_, i) => xs[(i + k) % xs.length]);
    const wantRandom = o.steps.includes('huge') || o.steps.includes('random');
    const subjects: SubjectResult[] = [];
    try {
      for (let run = 0; run < o.runs; run++) {
        log(`mount bench: run ${run + 1} of ${o.runs}`);
        for (const x of turn(runners, run)) x.run(run);
      }
      if (wantRandom) {
        log(`mount bench: the ${o.hugeMiB} MiB file, then random writes into it`);
        for (const x of runners) x.huge();
        if (o.steps.includes('random')) for (let run = 0; run < o.runs; run++) for (const x of turn(runners, run)) x.random(run);
      }
    } finally {
      for (const x of runners) subjects.push(x.finish());
    }
    subjects.push(...failed);
    subjects.sort((a, b) => o.subjects.indexOf(a.id) - o.subjects.indexOf(b.id));
    const host = subjects.find((s) => s.id === 'host');
    const ratios: MountBenchResults['ratios'] = [];
    const targets: MountBenchResults['targets'] = [];
    for (const s of subjects) {
      if (s.id === 'host' || !host) continue;
      for (const step of o.steps) {
        const a = s.steps[step]?.median ?? null;
        const b = host.steps[step]?.median ?? null;
        const ratio = a !== null && b !== null && b > 0 ? a / b : null;
        ratios.push({ subject: s.id, step, ratio });
        if (step === 'untar' || step === 'rm') targets.push({ subject: s.id, step, ratio, target: 2, ok: ratio === null ? null : ratio <= 2 });
      }
    }
    const { keep: _keep, ...options } = o;
    return {
      date: new Date().toISOString(),
      machine: machine(),
      tools,
      hostFs: fsOf(tmpdir()),
      options,
      tree: packed.info,
      subjects,
      ratios,
      targets,
      loadStart,
      loadEnd: loadavg()[0],
      totalSeconds: now() - t0,
    };
  } finally {
    trace?.close();
    rmSync(work, { recursive: true, force: true });
  }
}

const cell = (s: number | null | undefined): string => (s === null || s === undefined ? 'failed' : fmtSeconds(s));

export function renderMountMarkdown(r: MountBenchResults): string {
  const m = r.machine;
  const t = r.tree;
  const out: string[] = [];
  out.push('# Mount benchmark: real tools on `avfs mount` against a host folder', '');
  out.push(
    `${r.date}; ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}; temp folder ${m.tmpdir} on ${m.tmpFs} (1 KiB write + fsync ${m.fsyncMs.toFixed(2)} ms). ` +
      `${r.tools.tar}; ${r.tools.coreutils}; ${r.tools.git}; ${r.tools.fusermount}; fuse-native ${r.tools['fuse-native']}. Load average ${r.loadStart.toFixed(2)} at the start, ${r.loadEnd.toFixed(2)} at the end; ${r.totalSeconds.toFixed(0)} s in all.`,
    '',
  );
  out.push(
    `Source tree: \`${t.path}\`, ${t.files.toLocaleString('en-US')} files, ${t.dirs.toLocaleString('en-US')} folders, ${t.symlinks} symlinks, ${(t.bytes / 1e6).toFixed(1)} MB of file content (tarball ${(t.tarBytes / 1e6).toFixed(1)} MB, packed once with \`tar -cf --sort=name --hard-dereference\`: the ${t.hardLinks} names in the tree that share their file with another name are packed as separate files; whether a mount takes a hard link is probed apart). ` +
      `Each step is the real tool run as a child process (\`sh -c\`), the wall-clock time around it; median of ${r.options.runs} runs (the ${r.options.hugeMiB} MiB write once). Host: a temporary folder on the same disk as the vaults (\`${r.hostFs}\`). \`sync\` (untimed) before every step, so that no step pays for writing back what the one before left dirty. Mount: a fresh vault per backend, \`avfs mount --vault bench ${r.options.mountArgs.length > 0 ? `${r.options.mountArgs.join(' ')} ` : ''}MNT\` (background serving process), \`avfs unmount\` at the end; the subjects taken in turn within each run (the order rotating from run to run). The host's page cache is warm (the tree and the files were just written); what the kernel caches for the mount is the mount's choice (\`avfs mount --cache\`). × = mount time / host time: above 1 the mount is slower.`,
    '',
  );
  const mounts = r.subjects.filter((s) => s.id !== 'host');
  const host = r.subjects.find((s) => s.id === 'host');
  const head = ['step', ...(host ? ['host s'] : []), ...mounts.flatMap((s) => [`${s.id} s`, ...(host ? [`${s.id} ×`] : [])])];
  out.push(`| ${head.join(' | ')} |`);
  out.push(`| --- |${head.slice(1).map(() => ' ---: |').join('')}`);
  for (const step of r.options.steps) {
    const any = r.subjects.find((s) => s.steps[step]);
    if (!any) continue;
    const row = [any.steps[step]!.label.replaceAll('|', '\\|')];
    if (host) row.push(cell(host.steps[step]?.median));
    for (const s of mounts) {
      row.push(cell(s.steps[step]?.median));
      if (host) {
        const x = r.ratios.find((y) => y.subject === s.id && y.step === step)?.ratio;
        const bold = (step === 'untar' || step === 'rm') && x !== null && x !== undefined;
        row.push(x === null || x === undefined ? '—' : bold ? `**${fmtRatio(x)}**` : fmtRatio(x));
      }
    }
    out.push(`| ${row.join(' | ')} |`);
  }
  out.push('');
  if (r.targets.length > 0) {
    out.push(
      `Target: untar and rm -rf within 2× the host folder (peers report 10–30×): ${r.targets.map((x) => `${x.subject} ${x.step} ${x.ratio === null ? 'not measured' : `${fmtRatio(x.ratio)} ${x.ok ? 'met' : 'missed'}`}`).join('; ')}.`,
      '',
    );
  }
  // Per-run times and the serving process's CPU.
  out.push('All runs (seconds), and for the mount the CPU seconds its serving process used in each run:', '');
  out.push('| subject | step | runs | server CPU |');
  out.push('| --- | --- | --- | --- |');
  for (const s of r.subjects) {
    for (const step of r.options.steps) {
      const e = s.steps[step];
      if (!e) continue;
      out.push(`| ${s.id} | ${step} | ${e.runs.map((x) => cell(x)).join(', ')} | ${e.serverCpu ? e.serverCpu.map((x) => (x === null ? '?' : x.toFixed(2))).join(', ') : ''} |`);
    }
  }
  out.push('');
  // FUSE requests (--fuse-ops).
  const traced = r.subjects.filter((s) => Object.values(s.steps).some((e) => e!.fuseOps?.some(Boolean)));
  if (traced.length > 0) {
    out.push('FUSE requests per step (run 1; kernel tracepoints, so the times above include a little tracing): count per kind, and the time the kernel waited for the replies of that kind (summed, so overlapping requests count each):', '');
    out.push('| subject | step | requests | by kind: count, seconds waited |');
    out.push('| --- | --- | ---: | --- |');
    for (const s of traced) {
      for (const step of r.options.steps) {
        const f = s.steps[step]?.fuseOps?.[0];
        if (!f) continue;
        const n = f.ops.reduce((a, x) => a + x.count, 0);
        const kinds = f.ops.map((x) => `${x.op} ${x.count.toLocaleString('en-US')}${x.seconds > 0 ? ` ${fmtSeconds(x.seconds)} s` : ''}${x.errors > 0 ? ` (${x.errors} failed)` : ''}`).join(', ');
        out.push(`| ${s.id} | ${step} | ${n.toLocaleString('en-US')}${f.lost > 0 ? ` (${f.lost} lost)` : ''} | ${kinds} |`);
      }
    }
    out.push('');
  }
  // Growth of the random writes.
  const grew = r.subjects.filter((s) => s.growth.length > 0);
  if (grew.length > 0) {
    out.push(`What one random 64 KiB write (at a random multiple of 4 KiB, so usually across two 64 KiB chunks) added: on the vaults, \`avfs vault stats --json\` before and after (storedBytes: content stored; bytesOnDisk: the store's files); on the host, the file's allocated blocks.`, '');
    out.push('| subject | median growth | per write |');
    out.push('| --- | ---: | --- |');
    for (const s of grew) {
      const key = s.id === 'host' ? 'allocatedBytes' : 'storedBytes';
      const med = median(s.growth.map((g) => g[key] ?? NaN));
      const per = s.growth.map((g) => (s.id === 'host' ? fmtBytes(g.allocatedBytes) : `stored ${fmtBytes(g.storedBytes)}, on disk ${fmtBytes(g.bytesOnDisk)}`)).join('; ');
      out.push(`| ${s.id} | ${s.id === 'host' ? '' : 'stored '}${fmtBytes(med)} | ${per} |`);
    }
    const vaults = grew.filter((s) => s.id !== 'host');
    if (vaults.length > 0)
      out.push(`That is ${vaults.map((s) => `${(median(s.growth.map((g) => g.storedBytes ?? NaN)) / RANDOM_BYTES).toFixed(1)}× the 64 KiB written on ${s.id}`).join(', ')}.`);
    out.push('');
  }
  for (const s of r.subjects) {
    const lines: string[] = [];
    if (s.mountEntry) lines.push(`mounted as \`${s.mountEntry}\`; \`avfs mount\` took ${fmtSeconds(s.mountSeconds)} s, \`avfs unmount\` ${fmtSeconds(s.unmountSeconds)} s`);
    if (s.vaultEnd) lines.push(`vault at the end: ${s.vaultEnd.files.toLocaleString('en-US')} files, ${s.vaultEnd.versions.toLocaleString('en-US')} versions, ${fmtBytes(s.vaultEnd.storedBytes)} stored, ${fmtBytes(s.vaultEnd.bytesOnDisk)} on disk`);
    for (const c of s.checks) lines.push(`check: ${c}`);
    for (const e of Object.values(s.steps)) for (const err of e!.errors) lines.push(`**${e!.id} failed**: \`${e!.command}\`: ${err}`);
    for (const p of s.problems) lines.push(`**problem**: ${p}`);
    if (s.error) lines.push(`**error**: ${s.error}`);
    if (lines.length === 0) continue;
    out.push(`${s.label}:`, '', ...lines.map((l) => `- ${l}`), '');
  }
  out.push('Commands ($DIR is the host folder or the mount point, $SRC the folder with the tarball and the random data; SKIP, CHUNK and OFFSET change per run):', '');
  const any = r.subjects[0];
  if (any) for (const e of Object.values(any.steps)) out.push(`- ${e!.id}: \`${e!.command}\``);
  out.push('');
  return out.join('\n');
}

async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const o = mountOptionsFromArgs(argv);
  if (o === 'help') {
    console.log(MOUNT_USAGE);
    return;
  }
  const r = await runMountBench(o);
  if (!r) return;
  const md = renderMountMarkdown(r);
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'mount.json'), `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(join(OUT, 'mount.md'), md);
  console.log(md);
  log(`mount bench: wrote bench/results/mount.json and mount.md in ${r.totalSeconds.toFixed(0)} s`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`mount bench: ${(e as Error)?.message ?? e}`);
    process.exitCode = 1;
  });
}

export { main as mountBenchMain };
