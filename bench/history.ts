// `npm run bench -- --history`: how the history operations scale with the vault (issue
// "History", Speed section). Per engine (sqlite, lmdb, memory for reference), each vault in a
// fresh temporary folder, built with vault.batch() (HISTORY_BATCH files per transaction):
//
//   save     snapshot save at SIZES files: median time, and what one save adds (bytes on disk,
//            bytes in use, rows); must be flat.
//   log      vault.history(path) of one file with VERSIONS versions, the same with limit 10,
//            and vault.readVersion(path, 1) (`cat -v 1`).
//   ls --at  (await vault.at('mid')).readdir(folder) and .list(folder) of a folder of 100 in the
//            smallest and largest vault of `save`, after every file got one more version and the
//            snapshot `mid` was taken halfway through those rewrites; next to readdir/list of
//            the same folder now.
//   restore  vault.restoreSnapshot(base) after every file changed since `base`, at RESTORE_SIZES.
//
// Every figure is also given as large ÷ small, next to the ratio its complexity class predicts.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVault, openVault, type Vault } from '../src/index.js';
import { fsyncLatencyMs, machine } from './machine.js';
import { renderHistoryMarkdown, type HistoryResults, type EngineHistory, type Figure } from './history-report.js';
import { collectGarbage, median, now, timed } from './timing.js';

export const HISTORY_BATCH = 1000;
export const FOLDER_SIZE = 100;
const FIRST_BYTES = 300; // version 1 of every file
const REWRITE_BYTES = 320; // version 2: another size, so a listing shows which version it read

export interface HistoryOptions {
  engines: string[];
  /** Vault sizes for `snapshot save`; the smallest and largest are reused for `ls --at`. */
  sizes: number[];
  /** Version counts for `log` / `cat -v 1`. */
  versions: number[];
  /** Vault sizes for `snapshot restore`. */
  restoreSizes: number[];
  saveReps: number;
  readReps: number;
  restoreReps: number;
  warmup: boolean;
}

export const DEFAULT_HISTORY: HistoryOptions = {
  engines: ['sqlite', 'lmdb', 'memory'],
  sizes: [1_000, 10_000, 100_000],
  versions: [1_000, 10_000],
  restoreSizes: [1_000, 10_000],
  saveReps: 11,
  readReps: 9,
  restoreReps: 3,
  warmup: true,
};

// ---- data ------------------------------------------------------------------------------------

const POOL = randomBytes(1 << 16);
const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** Content of file i at version k: unique (the header), random otherwise. */
function content(i: number, k: number, bytes: number): Buffer {
  const head = Buffer.from(`${i}:${k}\n`);
  const off = (i * 131 + k * 17) % (POOL.length - bytes);
  return Buffer.concat([head, POOL.subarray(off, off + bytes - head.length)]);
}

/** File i of a vault: folders of FOLDER_SIZE under /tree. */
const folderOf = (i: number) => `/tree/d${pad(Math.floor(i / FOLDER_SIZE), 4)}`;
const pathOf = (i: number) => `${folderOf(i)}/f${pad(i % FOLDER_SIZE, 2)}.txt`;

/** The order files are rewritten in: a fixed permutation (stride coprime with n), so every folder changes a bit in each half. */
function rewriteOrder(n: number): number[] {
  let stride = Math.max(1, Math.floor(n * 0.6180339887)) | 1;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  while (gcd(stride, n) !== 1) stride += 2;
  return Array.from({ length: n }, (_, j) => (j * stride) % n);
}

// ---- vault helpers ---------------------------------------------------------------------------

interface Opened {
  vault: Vault;
  dir: string;
}

async function openFresh(engine: string): Promise<Opened> {
  const dir = mkdtempSync(join(tmpdir(), 'avfs-bench-history-'));
  const opts = { home: join(dir, 'home'), actor: 'bench' };
  const vault =
    engine === 'memory'
      ? await openVault(':memory:', opts)
      : await createVault(join(dir, engine === 'sqlite' ? 'history.avfs' : 'history.lmdb'), { ...opts, backend: engine });
  return { vault, dir };
}

async function closeAndRemove(o: Opened): Promise<void> {
  await o.vault.close().catch(() => {});
  rmSync(o.dir, { recursive: true, force: true });
  collectGarbage();
}

/** Write these (path, data) pairs, HISTORY_BATCH per transaction. */
async function writeBatched(v: Vault, n: number, item: (j: number) => [string, Buffer]): Promise<void> {
  for (let j0 = 0; j0 < n; j0 += HISTORY_BATCH) {
    const end = Math.min(n, j0 + HISTORY_BATCH);
    await v.batch(async (ops) => {
      for (let j = j0; j < end; j++) {
        const [p, d] = item(j);
        await ops.writeFile(p, d);
      }
    });
  }
}

const buildTree = (v: Vault, n: number) => writeBatched(v, n, (i) => [pathOf(i), content(i, 1, FIRST_BYTES)]);

export interface StoreSample {
  bytesOnDisk: number;
  /** Bytes the engine has in use (sqlite: (pages - free pages) x page size; lmdb: (last page + 1) x page size). */
  usedBytes?: number;
  rows: number;
  entries: Record<string, number>;
}

async function sample(v: Vault): Promise<StoreSample> {
  const st = await v.stats();
  const d = st.details;
  const num = (k: string) => (typeof d[k] === 'number' ? (d[k] as number) : undefined);
  let usedBytes: number | undefined;
  const ps = num('page_size');
  if (ps !== undefined && num('page_count') !== undefined) usedBytes = (num('page_count')! - (num('freelist_count') ?? 0)) * ps;
  else if (ps !== undefined && num('last_page') !== undefined) usedBytes = (num('last_page')! + 1) * ps;
  const entries: Record<string, number> = {};
  let rows = 0;
  for (const [k, n] of Object.entries(st.entries)) {
    entries[k] = n ?? 0;
    rows += n ?? 0;
  }
  return { bytesOnDisk: st.bytesOnDisk, ...(usedBytes !== undefined ? { usedBytes } : {}), rows, entries };
}

function growth(a: StoreSample, b: StoreSample, per = 1) {
  const entries: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a.entries), ...Object.keys(b.entries)])) {
    const dlt = (b.entries[k] ?? 0) - (a.entries[k] ?? 0);
    if (dlt !== 0) entries[k] = dlt / per;
  }
  return {
    bytesOnDisk: (b.bytesOnDisk - a.bytesOnDisk) / per,
    ...(a.usedBytes !== undefined && b.usedBytes !== undefined ? { usedBytes: (b.usedBytes - a.usedBytes) / per } : {}),
    rows: (b.rows - a.rows) / per,
    entries,
  };
}
export type Growth = ReturnType<typeof growth>;

/** Seconds: the median and the fastest of the runs (the fastest is the least disturbed by other load on the machine). */
export interface Timing {
  median: number;
  min: number;
  runs: number[];
}

const timing = (runs: number[]): Timing => ({ median: median(runs), min: Math.min(...runs), runs });

async function medianOf(reps: number, fn: () => Promise<unknown>): Promise<Timing> {
  await fn(); // untimed: page cache, lazily loaded modules
  const runs: number[] = [];
  for (let i = 0; i < reps; i++) runs.push(await timed(fn));
  return timing(runs);
}

function check(cond: boolean, what: string, problems: string[]): void {
  if (!cond && problems.length < 20) problems.push(what);
}

// ---- the four measurements -------------------------------------------------------------------

export interface SaveResult {
  files: number;
  buildSeconds: number;
  before: StoreSample;
  after: StoreSample;
  /** Median 1 KiB write+fsync in the temp folder just before the saves (a save commits durably: one fsync or so). */
  fsyncMs: number;
  /** saveReps saves. */
  time: Timing;
  /** What one save added, averaged over the saveReps saves. */
  perSave: Growth;
}

export interface LsAtResult {
  files: number;
  /** File-content rows in the vault when listing: one per file per version. */
  versions: number;
  folder: string;
  rewriteSeconds: number;
  /** Each median of readReps; at() includes resolving the point (as `ls --at` does). */
  atReaddir: Timing;
  atList: Timing;
  nowReaddir: Timing;
  nowList: Timing;
  /** Of the folder's entries at `mid`, how many showed version 2 (expected: rewritten before mid). */
  rewrittenAtMid: number;
}

export interface LogResult {
  versions: number;
  buildSeconds: number;
  log: Timing;
  logLimit10: Timing;
  catV1: Timing;
  catLatest: Timing;
}

export interface RestoreResult {
  files: number;
  /** restoreReps restores (each after rewriting every file again). */
  time: Timing;
  changed: number;
  /** What one restore added (the last one). */
  growth: Growth;
}

async function measureSave(v: Vault, n: number, reps: number, problems: string[]): Promise<Omit<SaveResult, 'buildSeconds'>> {
  // The build left megabytes of dirty pages: flush them, or the saves' fsyncs wait for them.
  await v.sync();
  collectGarbage();
  const fsyncMs = fsyncLatencyMs(20);
  const before = await sample(v);
  const runs: number[] = [];
  for (let r = 0; r < reps; r++) runs.push(await timed(() => v.saveSnapshot(`s${n}-${r}`)));
  const after = await sample(v);
  const snaps = await v.listSnapshots();
  check(snaps.length >= reps, `save ${n}: ${snaps.length} snapshots listed, expected ${reps}`, problems);
  return { files: n, before, after, fsyncMs, time: timing(runs), perSave: growth(before, after, reps) };
}

async function measureLsAt(v: Vault, n: number, reps: number, problems: string[]): Promise<LsAtResult> {
  // One more version of every file, in a scattered order, with `mid` saved halfway.
  const order = rewriteOrder(n);
  const half = Math.floor(n / 2);
  const t0 = now();
  await writeBatched(v, half, (j) => [pathOf(order[j]), content(order[j], 2, REWRITE_BYTES)]);
  await v.saveSnapshot('mid');
  await writeBatched(v, n - half, (j) => [pathOf(order[half + j]), content(order[half + j], 2, REWRITE_BYTES)]);
  const rewriteSeconds = now() - t0;

  const folderNo = Math.floor(n / FOLDER_SIZE / 2);
  const folder = folderOf(folderNo * FOLDER_SIZE);
  const beforeMid = new Set(order.slice(0, half));
  let expectRewritten = 0;
  for (let i = folderNo * FOLDER_SIZE; i < Math.min(n, (folderNo + 1) * FOLDER_SIZE); i++) if (beforeMid.has(i)) expectRewritten++;

  collectGarbage();
  const atReaddir = await medianOf(reps, async () => {
    const names = await (await v.at('mid')).readdir(folder);
    check(names.length === FOLDER_SIZE, `ls --at ${folder}: ${names.length} entries`, problems);
  });
  let rewrittenAtMid = 0;
  const atList = await medianOf(reps, async () => {
    const st = await (await v.at('mid')).list(folder);
    check(st.length === FOLDER_SIZE, `ls -l --at ${folder}: ${st.length} entries`, problems);
    rewrittenAtMid = st.filter((s) => s.size === REWRITE_BYTES).length;
  });
  check(rewrittenAtMid === expectRewritten, `ls -l --at ${folder}: ${rewrittenAtMid} entries at version 2, expected ${expectRewritten}`, problems);
  const nowReaddir = await medianOf(reps, async () => {
    const names = await v.readdir(folder);
    check(names.length === FOLDER_SIZE, `ls ${folder}: ${names.length} entries`, problems);
  });
  const nowList = await medianOf(reps, async () => {
    const st = await v.list(folder);
    check(st.every((s) => s.size === REWRITE_BYTES), `ls -l ${folder}: not every entry at version 2`, problems);
  });
  return {
    files: n,
    versions: 2 * n,
    folder,
    rewriteSeconds,
    atReaddir,
    atList,
    nowReaddir,
    nowList,
    rewrittenAtMid,
  };
}

async function measureLog(engine: string, versions: number, reps: number, problems: string[]): Promise<LogResult> {
  const o = await openFresh(engine);
  try {
    const v = o.vault;
    const path = '/log/notes.txt';
    const buildSeconds = await timed(() => writeBatched(v, versions, (k) => [path, content(0, k + 1, FIRST_BYTES)]));
    collectGarbage();
    const log = await medianOf(reps, async () => {
      const h = await v.history(path);
      check(h.length === versions, `log ${versions}: ${h.length} entries`, problems);
    });
    const logLimit10 = await medianOf(reps, async () => {
      const h = await v.history(path, { limit: 10 });
      check(h.length === 10, `log -n 10: ${h.length} entries`, problems);
    });
    const first = content(0, 1, FIRST_BYTES);
    const catV1 = await medianOf(reps, async () => {
      const r = await v.readVersion(path, 1);
      check(r.data.equals(first), `cat -v 1 (${versions} versions): wrong bytes`, problems);
    });
    const last = content(0, versions, FIRST_BYTES);
    const catLatest = await medianOf(reps, async () => {
      const r = await v.readFile(path);
      check(r.equals(last), `cat (${versions} versions): wrong bytes`, problems);
    });
    return { versions, buildSeconds, log, logLimit10, catV1, catLatest };
  } finally {
    await closeAndRemove(o);
  }
}

async function measureRestore(engine: string, n: number, reps: number, problems: string[]): Promise<RestoreResult> {
  const o = await openFresh(engine);
  try {
    const v = o.vault;
    await buildTree(v, n);
    await v.saveSnapshot('base');
    const runs: number[] = [];
    let changed = 0;
    let g: Growth | undefined;
    for (let r = 0; r < reps; r++) {
      // Every file changes after `base` (a new version each round), then back to `base`.
      await writeBatched(v, n, (i) => [pathOf(i), content(i, 10 + r, REWRITE_BYTES)]);
      collectGarbage();
      const before = await sample(v);
      let res: Awaited<ReturnType<Vault['restoreSnapshot']>> | undefined;
      runs.push(await timed(async () => (res = await v.restoreSnapshot('base'))));
      g = growth(before, await sample(v));
      changed = res!.changed;
      check(res!.changed === n && res!.added === 0 && res!.removed === 0, `restore ${n}: ${JSON.stringify({ ...res, saved: undefined, to: undefined })}`, problems);
    }
    const probe = Math.floor(n / 3);
    check((await v.readFile(pathOf(probe))).equals(content(probe, 1, FIRST_BYTES)), `restore ${n}: ${pathOf(probe)} not back to its base content`, problems);
    return { files: n, time: timing(runs), changed, growth: g! };
  } finally {
    await closeAndRemove(o);
  }
}

// ---- per engine, and the whole run -----------------------------------------------------------

async function runEngine(engine: string, o: HistoryOptions, log: (m: string) => void): Promise<EngineHistory> {
  const problems: string[] = [];
  const r: EngineHistory = { engine, save: [], lsAt: [], log: [], restore: [], problems };
  const sizes = [...o.sizes].sort((a, b) => a - b);
  const lsSizes = new Set([sizes[0], sizes[sizes.length - 1]]);
  for (const n of sizes) {
    const opened = await openFresh(engine);
    try {
      const buildSeconds = await timed(() => buildTree(opened.vault, n));
      const s = await measureSave(opened.vault, n, o.saveReps, problems);
      r.save.push({ ...s, buildSeconds });
      log(`  ${engine} save @${n} files: ${(s.time.median * 1000).toFixed(2)} ms (build ${buildSeconds.toFixed(1)} s)`);
      if (lsSizes.has(n)) {
        const l = await measureLsAt(opened.vault, n, o.readReps, problems);
        r.lsAt.push(l);
        log(`  ${engine} ls --at @${n} files: ${(l.atReaddir.median * 1000).toFixed(2)} ms (rewrites ${l.rewriteSeconds.toFixed(1)} s)`);
      }
    } finally {
      await closeAndRemove(opened);
    }
  }
  for (const n of [...o.versions].sort((a, b) => a - b)) {
    const l = await measureLog(engine, n, o.readReps, problems);
    r.log.push(l);
    log(`  ${engine} log @${n} versions: ${(l.log.median * 1000).toFixed(1)} ms, cat -v 1 ${(l.catV1.median * 1000).toFixed(1)} ms`);
  }
  for (const n of [...o.restoreSizes].sort((a, b) => a - b)) {
    const x = await measureRestore(engine, n, o.restoreReps, problems);
    r.restore.push(x);
    log(`  ${engine} restore @${n} files: ${(x.time.median * 1000).toFixed(0)} ms`);
  }
  r.figures = figures(r);
  return r;
}

/** Each figure at its smallest and largest size, with the growth its complexity class predicts. */
function figures(r: EngineHistory): Figure[] {
  const out: Figure[] = [];
  const add = (name: string, unit: string, rows: { size: number; t: Timing }[], expect: (k: number) => number, klass: string) => {
    if (rows.length < 2) return;
    const a = rows[0];
    const b = rows[rows.length - 1];
    out.push({
      name,
      unit,
      small: a.size,
      large: b.size,
      smallSeconds: a.t.median,
      largeSeconds: b.t.median,
      ratio: b.t.median / a.t.median,
      minRatio: b.t.min / a.t.min,
      expected: expect(b.size / a.size),
      klass,
    });
  };
  const flat = () => 1;
  const linear = (k: number) => k;
  add('snapshot save', 'files', r.save.map((x) => ({ size: x.files, t: x.time })), flat, 'O(1)');
  add('ls --at (readdir)', 'files', r.lsAt.map((x) => ({ size: x.files, t: x.atReaddir })), flat, 'O(folder)');
  add('ls -l --at (list)', 'files', r.lsAt.map((x) => ({ size: x.files, t: x.atList })), flat, 'O(folder)');
  add('ls now (readdir)', 'files', r.lsAt.map((x) => ({ size: x.files, t: x.nowReaddir })), flat, 'O(folder)');
  add('ls -l now (list)', 'files', r.lsAt.map((x) => ({ size: x.files, t: x.nowList })), flat, 'O(folder)');
  add('log (history)', 'versions', r.log.map((x) => ({ size: x.versions, t: x.log })), linear, 'O(versions)');
  add('log -n 10 (history, limit 10)', 'versions', r.log.map((x) => ({ size: x.versions, t: x.logLimit10 })), flat, 'O(10)');
  add('cat -v 1 (readVersion)', 'versions', r.log.map((x) => ({ size: x.versions, t: x.catV1 })), flat, 'O(1)');
  add('snapshot restore', 'files', r.restore.map((x) => ({ size: x.files, t: x.time })), linear, 'O(files)');
  return out;
}

export async function runHistoryBench(root: string, partial: Partial<HistoryOptions> = {}): Promise<HistoryResults> {
  const o: HistoryOptions = { ...DEFAULT_HISTORY, ...partial };
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const t0 = now();
  const loadStart = loadavg()[0];
  log(`bench --history: ${o.engines.join(', ')}; save at ${o.sizes.join('/')} files, log at ${o.versions.join('/')} versions, restore at ${o.restoreSizes.join('/')} files`);
  if (o.warmup) {
    // Untimed: JIT, the history module (loaded on first use) and engine start-up.
    log('  warm-up (untimed)');
    const tiny: HistoryOptions = { ...o, sizes: [200, 300], versions: [200], restoreSizes: [200], saveReps: 2, readReps: 2, restoreReps: 1 };
    for (const e of o.engines) await runEngine(e, tiny, () => {});
  }
  const engines: EngineHistory[] = [];
  for (const e of o.engines) {
    try {
      engines.push(await runEngine(e, o, log));
    } catch (err) {
      const msg = ((err as Error)?.message ?? String(err)).split('\n')[0];
      log(`  ${e} failed: ${msg}`);
      engines.push({ engine: e, save: [], lsAt: [], log: [], restore: [], problems: [`failed: ${msg}`] });
    }
  }
  const results: HistoryResults = {
    date: new Date().toISOString(),
    machine: machine(),
    options: { ...o, batchFiles: HISTORY_BATCH, folderSize: FOLDER_SIZE, firstBytes: FIRST_BYTES, rewriteBytes: REWRITE_BYTES },
    engines,
    load: { start: loadStart, end: loadavg()[0] },
    totalSeconds: now() - t0,
  };
  const md = renderHistoryMarkdown(results);
  const out = join(root, 'bench/results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'history.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(out, 'history.md'), md);
  console.log(md);
  log(`bench --history: wrote bench/results/history.json and history.md in ${results.totalSeconds.toFixed(1)} s`);
  return results;
}

/** `--history` with run.ts's flags: --only picks engines, --files sets the largest vault (quick looks). */
export function historyOptionsFromFlags(only: string | undefined, files: string | undefined, noWarmup: boolean | undefined): Partial<HistoryOptions> {
  const o: Partial<HistoryOptions> = {};
  if (only !== undefined) {
    const engines = only.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = engines.filter((e) => !DEFAULT_HISTORY.engines.includes(e));
    if (bad.length > 0) throw new Error(`--only with --history: unknown engine ${bad.join(', ')} (known: ${DEFAULT_HISTORY.engines.join(', ')})`);
    o.engines = engines;
  }
  if (files !== undefined) {
    const big = Math.round(Number(files));
    if (!Number.isFinite(big) || big < 200) throw new Error(`--files must be a number >= 200, got "${files}"`);
    const upTo = (xs: number[]) => [...new Set(xs.map((x) => Math.min(x, big)))];
    o.sizes = upTo([1_000, 10_000, big]);
    o.versions = upTo([1_000, 10_000]);
    o.restoreSizes = upTo([1_000, 10_000]);
  }
  if (noWarmup) o.warmup = false;
  return o;
}
