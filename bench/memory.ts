// `npm run bench -- --memory`: agent memory (issue "Agent memory", Speed section). Per engine,
// each measurement in a fresh temporary folder:
//
//   add/append  durable memory add and stream append, one transaction (one commit) per call,
//               against appending the same bytes to a host file with an fsync per append.
//   search      memory search latency p50/p95 over QUERIES queries with SEARCH_N memories in the
//               vault: texts from a corpus none of us wrote (the Debian changelogs and copyright
//               files in /usr/share/doc), queries drawn from that corpus's own words: one word,
//               two words (AND), a two-word phrase, a three-letter prefix, and an OR of two.
//   watch       state watch latency across processes: a watcher child process, the parent sets
//               the state WATCH_N times at random 5-25 ms gaps; latency = when the child saw a
//               state minus when the parent started (and finished) setting it, on one clock
//               (performance.timeOrigin + now(), which is shared by processes on one machine).
//               With the file-system watch (default) and polling alone (50 ms), on sqlite and lmdb;
//               also stream follow latency (append -> follower) the same way.
//
// Writes bench/results/memory.{json,md} and prints the markdown.
import { spawn } from 'node:child_process';
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { createVault, openVault, type Vault } from '../src/index.js';
import { withWrite } from '../src/core/scope.js';
import { addMemory } from '../src/memory/memories.js';
import { machine } from './machine.js';
import type { Machine } from './report.js';
import { collectGarbage, now } from './timing.js';
import { dist, rng, type Dist } from './stats.js';

export type { Dist };

export interface MemoryBenchOptions {
  engines: string[];
  /** Durable adds/appends per engine (one commit each). */
  durableN: number;
  /** Memories in the vault for the search latency. */
  searchN: number;
  queries: number;
  /** State sets for the watch latency. */
  watchN: number;
  warmup: boolean;
}

export const DEFAULT_MEMORY_BENCH: MemoryBenchOptions = {
  engines: ['sqlite', 'lmdb', 'memory'],
  durableN: 2000,
  searchN: 100_000,
  queries: 1000,
  watchN: 200,
  warmup: true,
};

export function memoryOptionsFromFlags(only?: string, files?: string, noWarmup?: boolean): MemoryBenchOptions {
  const o = { ...DEFAULT_MEMORY_BENCH };
  if (only) o.engines = only.split(',').map((s) => s.trim()).filter((s) => ['sqlite', 'lmdb', 'memory'].includes(s));
  if (files) {
    const n = Number(files);
    if (!Number.isInteger(n) || n < 100) throw new Error(`--files must be a whole number >= 100, got "${files}"`);
    o.searchN = n;
  }
  if (noWarmup) o.warmup = false;
  return o;
}

// ---- helpers -----------------------------------------------------------------------------

interface Opened {
  vault: Vault;
  dir: string;
  path: string;
}

async function openFresh(engine: string, actor = 'bench'): Promise<Opened> {
  const dir = mkdtempSync(join(tmpdir(), 'avfs-bench-memory-'));
  const opts = { home: join(dir, 'home'), actor };
  const path = join(dir, engine === 'sqlite' ? 'mem.avfs' : 'mem.lmdb');
  const vault = engine === 'memory' ? await openVault(':memory:', opts) : await createVault(path, { ...opts, backend: engine });
  return { vault, dir, path };
}

async function closeAndRemove(o: Opened): Promise<void> {
  await o.vault.close().catch(() => {});
  rmSync(o.dir, { recursive: true, force: true });
  collectGarbage();
}

// ---- the corpus ----------------------------------------------------------------------------

/** Texts of 8-60 words from the Debian changelogs and copyright files, in a fixed order. */
export function corpus(n: number): { texts: string[]; source: string } {
  const root = '/usr/share/doc';
  const texts: string[] = [];
  let files = 0;
  let pkgs: string[] = [];
  try {
    pkgs = readdirSync(root).sort();
  } catch {
    // no /usr/share/doc: synthetic texts below
  }
  const take = (raw: string): void => {
    let cur: string[] = [];
    for (const line of raw.split('\n')) {
      const words = line.replace(/^[\s*+-]+/, '').trim().split(/\s+/).filter(Boolean);
      if (words.length === 0) {
        if (cur.length >= 8) texts.push(cur.join(' '));
        cur = [];
        continue;
      }
      cur.push(...words);
      if (cur.length >= 8) {
        texts.push(cur.slice(0, 60).join(' '));
        cur = [];
      }
      if (texts.length >= n) return;
    }
  };
  outer: for (const kind of ['changelog.Debian.gz', 'copyright', 'changelog.gz', 'NEWS.Debian.gz']) {
    for (const p of pkgs) {
      const f = join(root, p, kind);
      try {
        if (!statSync(f).isFile()) continue;
        const raw = readFileSync(f);
        take((f.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
        files++;
      } catch {
        continue;
      }
      if (texts.length >= n) break outer;
    }
  }
  const real = texts.length;
  // Too little text on this machine: repeat what there is with a running number (or invent some).
  const r = rng(7);
  const words = ['agent', 'memory', 'vault', 'stream', 'state', 'session', 'search', 'index', 'query', 'token'];
  for (let i = 0; texts.length < n; i++) {
    texts.push(real > 0 ? `${texts[i % real]} copy${i}` : Array.from({ length: 20 }, () => words[Math.floor(r() * words.length)]).join(' '));
  }
  return { texts, source: real > 0 ? `${real.toLocaleString('en-US')} texts from ${files} files in /usr/share/doc (changelogs, copyright)${real < n ? `, repeated to ${n.toLocaleString('en-US')}` : ''}` : 'synthetic' };
}

const WORD = /[\p{L}\p{N}]+/gu;

interface QuerySet {
  kind: string;
  queries: string[];
}

/** Queries from the corpus's own words (lower-cased; words of 3+ letters, not numbers). */
export function makeQueries(texts: string[], n: number): QuerySet[] {
  const r = rng(42);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const wordsOf = (t: string): string[] => (t.toLowerCase().match(WORD) ?? []).filter((w) => w.length >= 3 && !/^\d+$/.test(w));
  const sample = (): string[] => {
    for (;;) {
      const ws = wordsOf(pick(texts));
      if (ws.length >= 3) return ws;
    }
  };
  const per = Math.ceil(n / 5);
  const gen = (f: () => string): string[] => Array.from({ length: per }, f);
  return [
    { kind: 'one word', queries: gen(() => pick(sample())) },
    { kind: 'two words (AND)', queries: gen(() => { const ws = sample(); return `${pick(ws)} ${pick(ws)}`; }) },
    {
      kind: 'phrase "a b"',
      queries: gen(() => {
        const ws = sample();
        const i = Math.floor(r() * (ws.length - 1));
        return `"${ws[i]} ${ws[i + 1]}"`;
      }),
    },
    { kind: 'prefix abc*', queries: gen(() => `${pick(sample()).slice(0, 3)}*`) },
    { kind: 'a OR b', queries: gen(() => `${pick(sample())} OR ${pick(sample())}`) },
  ];
}

// ---- measurements ----------------------------------------------------------------------------

export interface DurableResult {
  engine: string;
  n: number;
  memoryAddPerSec: number;
  streamAppendPerSec: number;
  /** streamAppendMany, 100 appends per commit (not durable per append; for scale). */
  streamAppendBatchedPerSec: number;
  bytesPerMemory: number;
  bytesPerAppend: number;
}

export interface HostResult {
  n: number;
  appendFsyncPerSec: number;
}

const MEMORY_TEXT = (i: number): string =>
  `note ${i}: the build of package ${i % 97} failed on step ${i % 13}; retry after clearing the cache and check the release notes`;
const APPEND = (i: number): string => `{"event":"step","i":${i},"ok":true}\n`;

function hostAppend(n: number): HostResult {
  const dir = mkdtempSync(join(tmpdir(), 'avfs-bench-host-'));
  const fd = openSync(join(dir, 'log'), 'a');
  try {
    const t0 = now();
    for (let i = 0; i < n; i++) {
      writeSync(fd, APPEND(i));
      fsyncSync(fd);
    }
    return { n, appendFsyncPerSec: n / (now() - t0) };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function durable(engine: string, n: number): Promise<DurableResult> {
  const o = await openFresh(engine);
  try {
    const v = o.vault;
    const t0 = now();
    for (let i = 0; i < n; i++) await v.memoryAdd(MEMORY_TEXT(i), { tags: [`t${i % 5}`] });
    const addS = now() - t0;
    const t1 = now();
    for (let i = 0; i < n; i++) await v.streamAppend('events', APPEND(i));
    const appendS = now() - t1;
    const t2 = now();
    const BATCH = 100;
    for (let i = 0; i < n; i += BATCH) await v.streamAppendMany('batched', Array.from({ length: BATCH }, (_, k) => APPEND(i + k)));
    const batchS = now() - t2;
    let bytesPerMemory = 0;
    let bytesPerAppend = 0;
    if (engine !== 'memory') {
      // Size per item, from a second fresh store holding only that kind.
      const size = async (fill: (w: Vault) => Promise<void>): Promise<number> => {
        const s = await openFresh(engine);
        try {
          const before = (await s.vault.stats()).bytesOnDisk;
          await fill(s.vault);
          await s.vault.compact();
          return ((await s.vault.stats()).bytesOnDisk - before) / n;
        } finally {
          await closeAndRemove(s);
        }
      };
      bytesPerMemory = await size(async (w) => {
        for (let i = 0; i < n; i += 500) await bulkMemories(w, Array.from({ length: Math.min(500, n - i) }, (_, k) => MEMORY_TEXT(i + k)));
      });
      bytesPerAppend = await size(async (w) => {
        for (let i = 0; i < n; i += 500) await w.streamAppendMany('events', Array.from({ length: Math.min(500, n - i) }, (_, k) => APPEND(i + k)));
      });
    }
    return { engine, n, memoryAddPerSec: n / addS, streamAppendPerSec: n / appendS, streamAppendBatchedPerSec: n / batchS, bytesPerMemory, bytesPerAppend };
  } finally {
    await closeAndRemove(o);
  }
}

/** Many memories in one transaction (bench set-up only: the library adds one per call). */
async function bulkMemories(v: Vault, texts: string[]): Promise<void> {
  await withWrite(v.engine, { chunkSize: v.record.chunkSize, actor: 'bench' }, async (s) => {
    for (const t of texts) await addMemory(s, t, []);
  });
}

export interface SearchResult {
  engine: string;
  memories: number;
  loadSeconds: number;
  bytesOnDisk: number;
  postings: number;
  terms: number;
  overall: Dist;
  byKind: { kind: string; latency: Dist; meanHits: number; zeroHits: number }[];
}

async function search(engine: string, texts: string[], sets: QuerySet[], warmup: boolean): Promise<SearchResult> {
  const o = await openFresh(engine);
  try {
    const v = o.vault;
    const t0 = now();
    for (let i = 0; i < texts.length; i += 1000) await bulkMemories(v, texts.slice(i, i + 1000));
    const loadSeconds = now() - t0;
    const st = await v.stats();
    if (warmup) for (const s of sets) for (const q of s.queries.slice(0, 20)) await v.memorySearch(q);
    const all: number[] = [];
    const byKind: SearchResult['byKind'] = [];
    for (const s of sets) {
      const lat: number[] = [];
      let hits = 0;
      let zero = 0;
      for (const q of s.queries) {
        const a = now();
        const r = await v.memorySearch(q, { limit: 10 });
        lat.push((now() - a) * 1000);
        hits += r.length;
        if (r.length === 0) zero++;
      }
      all.push(...lat);
      byKind.push({ kind: s.kind, latency: dist(lat), meanHits: hits / s.queries.length, zeroHits: zero });
    }
    return {
      engine,
      memories: texts.length,
      loadSeconds,
      bytesOnDisk: st.bytesOnDisk,
      postings: st.entries.memory_postings ?? 0,
      terms: Math.max(0, (st.entries.memory_terms ?? 0) - 1),
      overall: dist(all),
      byKind,
    };
  } finally {
    await closeAndRemove(o);
  }
}

export interface WatchResult {
  engine: string;
  what: 'state watch' | 'stream follow';
  mode: 'fs.watch + 50 ms poll' | '50 ms poll only';
  n: number;
  seen: number;
  inOrder: boolean;
  /** Child saw it minus the parent starting the set (includes the commit). */
  fromStart: Dist;
  /** Child saw it minus the set having returned (the commit is done: notification and read). */
  fromCommit: Dist;
}

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'memory-watcher.js');
const clock = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function watchLatency(engine: string, what: WatchResult['what'], pollOnly: boolean, n: number): Promise<WatchResult> {
  const o = await openFresh(engine, 'setter');
  try {
    const child = spawn(process.execPath, [CHILD, o.path, what === 'state watch' ? 'state' : 'stream', String(n), pollOnly ? 'poll-only' : 'watch'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err += d;
      if (err.includes('ready')) ready();
    });
    const done = new Promise<void>((r) => child.on('close', () => r()));
    await isReady;
    await sleep(200);
    const r = rng(3);
    const starts: number[] = [];
    const commits: number[] = [];
    for (let i = 1; i <= n; i++) {
      starts[i] = clock();
      if (what === 'state watch') await o.vault.stateSet({ i });
      else await o.vault.streamAppend('events', `${i}\n`);
      commits[i] = clock();
      await sleep(5 + r() * 20);
    }
    const timer = setTimeout(() => child.kill(), 10_000);
    await done;
    clearTimeout(timer);
    const seenAt = new Map<number, number>();
    const order: number[] = [];
    for (const line of out.split('\n')) {
      const [i, t] = line.split(' ').map(Number);
      if (!Number.isFinite(i) || !Number.isFinite(t)) continue;
      order.push(i);
      if (!seenAt.has(i)) seenAt.set(i, t);
    }
    const fromStart: number[] = [];
    const fromCommit: number[] = [];
    for (let i = 1; i <= n; i++) {
      const t = seenAt.get(i);
      if (t === undefined) continue;
      fromStart.push(t - starts[i]);
      fromCommit.push(Math.max(0, t - commits[i]));
    }
    const inOrder = order.every((x, k) => k === 0 || x > order[k - 1]);
    return {
      engine,
      what,
      mode: pollOnly ? '50 ms poll only' : 'fs.watch + 50 ms poll',
      n,
      seen: seenAt.size,
      inOrder,
      fromStart: dist(fromStart),
      fromCommit: dist(fromCommit),
    };
  } finally {
    await closeAndRemove(o);
  }
}

// ---- run and report --------------------------------------------------------------------------

export interface MemoryResults {
  date: string;
  machine: Machine;
  options: MemoryBenchOptions;
  corpus: string;
  host: HostResult;
  durable: DurableResult[];
  search: SearchResult[];
  watch: WatchResult[];
  load: { start: number; end: number };
  totalSeconds: number;
}

export async function runMemoryBench(root: string, o: MemoryBenchOptions): Promise<MemoryResults> {
  const log = (m: string): void => void process.stderr.write(`${m}\n`);
  const t0 = now();
  const load0 = loadavg()[0];
  log(`bench --memory: engines ${o.engines.join(', ')}; ${o.durableN} durable ops, ${o.searchN} memories, ${o.queries} queries, ${o.watchN} state sets`);
  const m = machine();
  if (o.warmup) {
    log('  warm-up (untimed)');
    for (const e of o.engines) await durable(e, 100);
  }
  log('  host: append + fsync');
  const host = hostAppend(o.durableN);
  const durableRes: DurableResult[] = [];
  for (const e of o.engines) {
    log(`  ${e}: durable memory add / stream append`);
    durableRes.push(await durable(e, o.durableN));
  }
  log('  corpus');
  const { texts, source } = corpus(o.searchN);
  const sets = makeQueries(texts, o.queries);
  const searchRes: SearchResult[] = [];
  for (const e of o.engines) {
    log(`  ${e}: search over ${o.searchN} memories`);
    searchRes.push(await search(e, texts, sets, o.warmup));
  }
  const watch: WatchResult[] = [];
  for (const e of o.engines.filter((x) => x !== 'memory')) {
    for (const what of ['state watch', 'stream follow'] as const) {
      for (const pollOnly of [false, true]) {
        log(`  ${e}: ${what} across processes${pollOnly ? ' (poll only)' : ''}`);
        watch.push(await watchLatency(e, what, pollOnly, what === 'state watch' ? o.watchN : Math.min(o.watchN, 100)));
      }
    }
  }
  const results: MemoryResults = {
    date: new Date().toISOString(),
    machine: m,
    options: o,
    corpus: source,
    host,
    durable: durableRes,
    search: searchRes,
    watch,
    load: { start: load0, end: loadavg()[0] },
    totalSeconds: now() - t0,
  };
  const md = renderMemoryMarkdown(results);
  const outDir = join(root, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'memory.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(outDir, 'memory.md'), md);
  console.log(md);
  log(`bench --memory: wrote bench/results/memory.json and memory.md in ${results.totalSeconds.toFixed(1)} s`);
  return results;
}

const f1 = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const int = (x: number): string => Math.round(x).toLocaleString('en-US');

export function renderMemoryMarkdown(r: MemoryResults): string {
  const L: string[] = [];
  L.push('# Agent memory benchmark', '');
  L.push(`${r.date}; ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}, ${r.machine.os}; temp folder on ${r.machine.tmpFs}, 1 KiB write+fsync ${r.machine.fsyncMs.toFixed(3)} ms (median). Load average ${r.load.start.toFixed(2)} at the start, ${r.load.end.toFixed(2)} at the end. ${r.totalSeconds.toFixed(0)} s in all.`, '');
  L.push('## Durable writes (one commit per call)', '');
  L.push(`Host baseline: append a ~40-byte line to a file and fsync it: **${int(r.host.appendFsyncPerSec)}/s**.`, '');
  L.push('| engine | memory add /s | × host | stream append /s | × host | append, 100 per commit /s | bytes per memory | bytes per append |');
  L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const d of r.durable) {
    L.push(
      `| ${d.engine} | ${int(d.memoryAddPerSec)} | ${(d.memoryAddPerSec / r.host.appendFsyncPerSec).toFixed(2)} | ${int(d.streamAppendPerSec)} | ${(d.streamAppendPerSec / r.host.appendFsyncPerSec).toFixed(2)} | ${int(d.streamAppendBatchedPerSec)} | ${d.bytesPerMemory ? int(d.bytesPerMemory) : '—'} | ${d.bytesPerAppend ? int(d.bytesPerAppend) : '—'} |`,
    );
  }
  L.push('', 'A memory add writes the memory, its tags, one posting and one document-frequency row per distinct word, the corpus stats, the id counter and an operation-log record, in one transaction; `memory` is the in-memory engine (no disk) for reference. × host: the rate over the host file\'s append+fsync rate (1.00 = as fast).', '');
  L.push('## Memory search', '');
  L.push(`Corpus: ${r.corpus}. ${r.options.queries} queries from its own words (limit 10).`, '');
  L.push('| engine | memories | load s (1,000 per commit) | bytes on disk | posting blocks | terms | p50 ms | p95 ms | p99 ms | max ms |');
  L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const s of r.search) {
    L.push(`| ${s.engine} | ${int(s.memories)} | ${s.loadSeconds.toFixed(1)} | ${s.bytesOnDisk ? int(s.bytesOnDisk) : '—'} | ${int(s.postings)} | ${int(s.terms)} | ${f1(s.overall.p50)} | ${f1(s.overall.p95)} | ${f1(s.overall.p99)} | ${f1(s.overall.max)} |`);
  }
  L.push('', '| engine | query kind | p50 ms | p95 ms | max ms | mean hits | no hits |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const s of r.search) for (const k of s.byKind) L.push(`| ${s.engine} | ${k.kind} | ${f1(k.latency.p50)} | ${f1(k.latency.p95)} | ${f1(k.latency.max)} | ${k.meanHits.toFixed(1)} | ${k.zeroHits} |`);
  L.push('');
  L.push('## Watch latency across processes', '');
  L.push('A child process watches (`stateWatch`) or follows (`streamEntries --follow`); the parent sets the state / appends at random 5-25 ms gaps. "from set" counts from the start of the set call (so it includes the durable commit); "from commit" from its return.', '');
  L.push('| engine | what | wake-up | n | seen | in order | from set p50 / p95 / max ms | from commit p50 / p95 / max ms |');
  L.push('| --- | --- | --- | ---: | ---: | --- | ---: | ---: |');
  for (const w of r.watch) {
    L.push(
      `| ${w.engine} | ${w.what} | ${w.mode} | ${w.n} | ${w.seen} | ${w.inOrder ? 'yes' : 'NO'} | ${f1(w.fromStart.p50)} / ${f1(w.fromStart.p95)} / ${f1(w.fromStart.max)} | ${f1(w.fromCommit.p50)} / ${f1(w.fromCommit.p95)} / ${f1(w.fromCommit.max)} |`,
    );
  }
  L.push('');
  return L.join('\n') + '\n';
}
