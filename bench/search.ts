// `npm run bench -- --search`: full-text search (issue "Search", Speed section). Per engine, on
// the corpus of bench/corpus.ts (Debian's /usr/share/doc and /usr/include):
//
//   import    the library's import of both trees, against copying them on the host (cp -r);
//             on sqlite this includes FTS5 indexing (written with every file); on the others
//             the shared index is built by the catch-up of the first search, timed apart.
//   size      the vault on disk, and what the full-text index takes in it.
//   latency   QUERIES searches (limit 20, with snippets: what `avfs search` prints), queries
//             drawn from the corpus's own words (frequency-weighted, so common words come up as
//             often as they occur): one word, two words, a phrase of two neighbours, a prefix,
//             an OR, a NOT. p50 / p95 / p99 per engine and per kind.
//   vs rg     the same one-word questions answered by `rg -l -i -w WORD` over the vault
//             exported to disk (what an agent does without an index), on RG_QUERIES of them.
//
// Writes bench/results/search.{json,md} and prints the markdown.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVault, openVault, type Vault } from '../src/index.js';
import { tokenize } from '../src/text/tokenize.js';
import { scan } from '../src/storage/contract.js';
import { machine } from './machine.js';
import type { Machine } from './report.js';
import { collectGarbage, now } from './timing.js';
import { dist, rng, type Dist } from './stats.js';
import { corpusTexts, exportCorpus, hostCopySeconds, importCorpus, type ImportTiming } from './corpus.js';

export interface SearchBenchOptions {
  engines: string[];
  queries: number;
  rgQueries: number;
  warmup: boolean;
}

export const DEFAULT_SEARCH_BENCH: SearchBenchOptions = { engines: ['sqlite', 'lmdb'], queries: 1000, rgQueries: 30, warmup: true };

export function searchOptionsFromFlags(only?: string, noWarmup?: boolean): SearchBenchOptions {
  const o = { ...DEFAULT_SEARCH_BENCH };
  if (only) o.engines = only.split(',').map((s) => s.trim()).filter((s) => ['sqlite', 'lmdb', 'memory'].includes(s));
  if (noWarmup) o.warmup = false;
  return o;
}

interface QueryKind {
  kind: string;
  queries: string[];
}

/** Queries from the corpus's words: tokens picked at random from the running text. */
export function drawQueries(texts: string[], n: number, seed = 42): QueryKind[] {
  const r = rng(seed);
  const docs = texts.map((t) => tokenize(t).tokens.map((x) => x.term).filter((w) => w.length >= 3 && !/^\d+$/.test(w) && !/^[0-9a-f]{8,}$/.test(w)));
  const usable = docs.filter((d) => d.length >= 4);
  const doc = (): string[] => usable[Math.floor(r() * usable.length)];
  const word = (): string => {
    const d = doc();
    return d[Math.floor(r() * d.length)];
  };
  const kinds: [string, number, () => string][] = [
    ['one word', 0.4, word],
    ['two words (AND)', 0.2, () => {
      const d = doc();
      return `${d[Math.floor(r() * d.length)]} ${d[Math.floor(r() * d.length)]}`;
    }],
    ['phrase "a b"', 0.15, () => {
      const d = doc();
      const i = Math.floor(r() * (d.length - 1));
      return `"${d[i]} ${d[i + 1]}"`;
    }],
    ['prefix abc*', 0.1, () => `${word().slice(0, 3)}*`],
    ['a OR b', 0.1, () => `${word()} OR ${word()}`],
    ['a NOT b', 0.05, () => `${word()} NOT ${word()}`],
  ];
  return kinds.map(([kind, share, make]) => ({ kind, queries: Array.from({ length: Math.round(n * share) }, make) }));
}

export interface EngineSearchResult {
  engine: string;
  import: ImportTiming;
  /** The first search's catch-up (the shared index built); ~0 on sqlite. */
  catchUpSeconds: number;
  documents: number;
  bytesOnDisk: number;
  /** Bytes of the full-text index within the store. */
  indexBytes: number;
  indexBytesHow: string;
  overall: Dist;
  byKind: { kind: string; latency: Dist; meanHits: number; zeroHits: number }[];
  rg?: { queries: number; ours: Dist; rg: Dist; sameFiles: number };
}

export interface SearchBenchResults {
  date: string;
  machine: Machine;
  options: SearchBenchOptions;
  corpus: { files: number; bytes: number; hostCopySeconds: number };
  engines: EngineSearchResult[];
  load: { start: number; end: number };
  totalSeconds: number;
}

function rgAvailable(): boolean {
  return spawnSync('rg', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Bytes the full-text index takes: FTS5's tables (dbstat) on sqlite, the index collections' keys and values elsewhere. */
async function indexBytes(v: Vault): Promise<{ bytes: number; how: string }> {
  if (v.backend === 'sqlite') {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(v.path, { readonly: true });
    try {
      const row = db.prepare(`SELECT sum(pgsize) AS b FROM dbstat WHERE name LIKE 'search_fts%' OR name = 'search_docs'`).get() as { b: number };
      return { bytes: row.b, how: 'pages of the FTS5 tables + search_docs (dbstat)' };
    } finally {
      db.close();
    }
  }
  const bytes = await v.engine.read(async (tx) => {
    let n = 0;
    for (const c of ['search_terms', 'search_postings', 'search_docs'] as const) {
      for await (const e of scan(tx, c)) n += e.key.length + e.value.length;
    }
    return n;
  });
  return { bytes, how: 'keys + values of search_terms, search_postings, search_docs' };
}

async function benchEngine(engine: string, kinds: QueryKind[], o: SearchBenchOptions, log: (m: string) => void): Promise<EngineSearchResult> {
  const dir = mkdtempSync(join(tmpdir(), `avfs-bench-search-${engine}-`));
  const path = join(dir, engine === 'sqlite' ? 'corpus.avfs' : 'corpus.lmdb');
  const opts = { home: join(dir, 'home'), actor: 'bench' };
  let v: Vault = engine === 'memory' ? await openVault(':memory:', opts) : await createVault(path, { ...opts, backend: engine });
  let exported: string | undefined;
  try {
    log(`  ${engine}: import`);
    const imp = await importCorpus(v);
    const t0 = now();
    await v.search('warmup');
    const catchUpSeconds = now() - t0;
    if (engine !== 'memory') {
      // Searches run on a vault opened afresh, as a new `avfs` process would find it.
      await v.close();
      collectGarbage();
      v = await openVault(path, opts);
    }
    const st = await v.searchStatus();
    const size = engine === 'memory' ? { bytes: 0, how: '' } : await indexBytes(v);
    const bytesOnDisk = (await v.stats()).bytesOnDisk;
    if (o.warmup) for (const k of kinds) for (const q of k.queries.slice(0, 10)) await v.search(q);
    log(`  ${engine}: ${kinds.reduce((a, k) => a + k.queries.length, 0)} searches`);
    const all: number[] = [];
    const byKind: EngineSearchResult['byKind'] = [];
    for (const k of kinds) {
      const times: number[] = [];
      let hits = 0;
      let zero = 0;
      for (const q of k.queries) {
        const t = now();
        const r = await v.search(q, { limit: 20 });
        times.push((now() - t) * 1000);
        hits += r.hits.length;
        if (r.hits.length === 0) zero++;
      }
      all.push(...times);
      byKind.push({ kind: k.kind, latency: dist(times), meanHits: hits / k.queries.length, zeroHits: zero });
    }
    let rg: EngineSearchResult['rg'];
    if (o.rgQueries > 0 && rgAvailable()) {
      log(`  ${engine}: export, and ${o.rgQueries} one-word questions to rg`);
      exported = await exportCorpus(v);
      const words = kinds[0].queries.slice(0, o.rgQueries);
      const ours: number[] = [];
      const theirs: number[] = [];
      let same = 0;
      for (const w of words) {
        const t = now();
        const r = await v.search(w, { limit: 10_000, snippets: false });
        ours.push((now() - t) * 1000);
        const t2 = now();
        const p = spawnSync('rg', ['-l', '-i', '-w', '--no-messages', '-F', w, '.'], { cwd: exported, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
        theirs.push((now() - t2) * 1000);
        const rgFiles = new Set(p.stdout.split('\n').filter(Boolean).map((f) => '/' + f.replace(/^\.\//, '')));
        if (r.hits.length === rgFiles.size) same++;
      }
      rg = { queries: words.length, ours: dist(ours), rg: dist(theirs), sameFiles: same };
    }
    return { engine, import: imp, catchUpSeconds, documents: st.documents, bytesOnDisk, indexBytes: size.bytes, indexBytesHow: size.how, overall: dist(all), byKind, ...(rg ? { rg } : {}) };
  } finally {
    await v.close().catch(() => {});
    if (exported) rmSync(join(exported, '..'), { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
    collectGarbage();
  }
}

export async function runSearchBench(root: string, o: SearchBenchOptions): Promise<SearchBenchResults> {
  const log = (m: string): void => void process.stderr.write(`${m}\n`);
  const t0 = now();
  const load0 = loadavg()[0];
  log(`bench --search: engines ${o.engines.join(', ')}; ${o.queries} queries`);
  const m = machine();
  log('  corpus: host copy, and queries from its words');
  const hostCopy = hostCopySeconds();
  const kinds = drawQueries(corpusTexts(), o.queries);
  const engines: EngineSearchResult[] = [];
  for (const e of o.engines) engines.push(await benchEngine(e, kinds, o, log));
  const results: SearchBenchResults = {
    date: new Date().toISOString(),
    machine: m,
    options: o,
    corpus: { files: engines[0]?.import.files ?? 0, bytes: engines[0]?.import.bytes ?? 0, hostCopySeconds: hostCopy },
    engines,
    load: { start: load0, end: loadavg()[0] },
    totalSeconds: now() - t0,
  };
  const md = renderSearchMarkdown(results);
  const outDir = join(root, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'search.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(outDir, 'search.md'), md);
  console.log(md);
  log(`bench --search: wrote bench/results/search.json and search.md in ${results.totalSeconds.toFixed(1)} s`);
  return results;
}

const f2 = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const int = (x: number): string => Math.round(x).toLocaleString('en-US');
const mib = (b: number): string => (b / (1024 * 1024)).toFixed(1);

export function renderSearchMarkdown(r: SearchBenchResults): string {
  const L: string[] = [];
  L.push('# Full-text search benchmark', '');
  L.push(`${r.date}; ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}, ${r.machine.os}; temp folder on ${r.machine.tmpFs}, 1 KiB write+fsync ${r.machine.fsyncMs.toFixed(3)} ms (median). Load average ${r.load.start.toFixed(2)} at the start, ${r.load.end.toFixed(2)} at the end. ${r.totalSeconds.toFixed(0)} s in all.`, '');
  L.push(`Corpus: /usr/share/doc and /usr/include as Debian installs them: ${int(r.corpus.files)} files, ${mib(r.corpus.bytes)} MiB. Copying both trees on the host (cp -r) took ${r.corpus.hostCopySeconds.toFixed(2)} s.`, '');
  L.push('## Import and index', '');
  L.push('| engine | import s | × host copy | index catch-up s | text files indexed | vault on disk MiB | index MiB | index / text |');
  L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const e of r.engines) {
    L.push(
      `| ${e.engine} | ${e.import.seconds.toFixed(1)} | ${(e.import.seconds / r.corpus.hostCopySeconds).toFixed(1)} | ${e.catchUpSeconds.toFixed(1)} | ${int(e.documents)} | ${e.bytesOnDisk ? mib(e.bytesOnDisk) : '—'} | ${e.indexBytes ? mib(e.indexBytes) : '—'} | ${e.indexBytes ? (e.indexBytes / e.import.bytes).toFixed(2) : '—'} |`,
    );
  }
  L.push('', 'sqlite writes FTS5 in each import transaction, so its import includes the indexing; lmdb imports without indexing and its first search catches the shared index up (the "catch-up" column). The index on sqlite is measured in FTS5 pages (dbstat); on lmdb as the bytes of the index rows (B-tree overhead not counted).', '');
  L.push('## Search latency', '');
  L.push(`${r.options.queries} queries from the corpus's own words, limit 20, with snippets (what \`avfs search\` prints), on a vault opened afresh. Target: p50 under 5 ms.`, '');
  L.push('| engine | p50 ms | p95 ms | p99 ms | max ms | mean ms |');
  L.push('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const e of r.engines) L.push(`| ${e.engine} | ${f2(e.overall.p50)} | ${f2(e.overall.p95)} | ${f2(e.overall.p99)} | ${f2(e.overall.max)} | ${f2(e.overall.mean)} |`);
  L.push('', '| engine | query kind | n | p50 ms | p95 ms | max ms | mean hits | no hits |', '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const e of r.engines) for (const k of e.byKind) L.push(`| ${e.engine} | ${k.kind} | ${k.latency.n} | ${f2(k.latency.p50)} | ${f2(k.latency.p95)} | ${f2(k.latency.max)} | ${k.meanHits.toFixed(1)} | ${k.zeroHits} |`);
  const withRg = r.engines.filter((e) => e.rg);
  if (withRg.length > 0) {
    L.push('', '## The same question without an index', '');
    L.push('One-word queries as "which files hold this word": our search (all hits, no snippets) against `rg -l -i -w WORD` over the vault exported to disk (a process per query, as an agent would run it).', '');
    L.push('| engine | queries | ours p50 ms | rg p50 ms | ours ÷ rg (p50) | same file count |');
    L.push('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const e of withRg) {
      const g = e.rg!;
      L.push(`| ${e.engine} | ${g.queries} | ${f2(g.ours.p50)} | ${f2(g.rg.p50)} | ${(g.ours.p50 / g.rg.p50).toFixed(3)} | ${g.sameFiles} of ${g.queries} |`);
    }
    L.push('', 'File counts differ where the two disagree on what a word is (rg\'s \\w includes "_", our words do not; rg reads the binary and non-UTF-8 files we do not index).');
  }
  L.push('');
  return L.join('\n') + '\n';
}
