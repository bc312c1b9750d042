// `npm run bench`: every subject in turn, each workload in a fresh temporary folder, then the
// start-up measurement; writes bench/results/latest.{json,md} and prints the markdown.
//
//   node dist/bench/run.js [--only sqlite,host] [--files N] [--big-mib N] [--no-startup]
//                          [--startup-runs N] [--no-warmup]
//   node dist/bench/run.js --history [--only sqlite,lmdb,memory] [--files N] [--no-warmup]
//     the history benchmark instead (bench/history.ts): bench/results/history.{json,md}
//   node dist/bench/run.js --memory [--only sqlite,lmdb,memory] [--files N] [--no-warmup]
//     the agent-memory benchmark instead (bench/memory.ts): bench/results/memory.{json,md}
//   node dist/bench/run.js --search [--only sqlite,lmdb,memory] [--no-warmup]
//     the full-text search benchmark instead (bench/search.ts): bench/results/search.{json,md}
//   node dist/bench/run.js --grep [--only sqlite,lmdb,memory]
//     grep against ripgrep on the same corpus (bench/grep.ts): bench/results/grep.{json,md}
//   node dist/bench/run.js --mount [--only sqlite,lmdb,host] [--runs N] [--tree PATH] [--big-mib N] [--huge-mib N] [--mount-args=ARGS]
//     real tools (tar, find | xargs cat, git, rm -rf, dd, cat) on `avfs mount` against a host
//     folder (bench/mount.ts): bench/results/mount.{json,md}
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeBigFile, makeSmallSet } from './data.js';
import { machine } from './machine.js';
import { computeTargets, renderMarkdown, type Results, type SubjectResult } from './report.js';
import { measureStartup } from './startup.js';
import { BATCH_FILES } from './subjects/agentvfs.js';
import { pickSubjects } from './subjects/index.js';
import type { Subject } from './subjects/subject.js';
import { collectGarbage, now } from './timing.js';
import { runBig } from './workload-big.js';
import { runSmall } from './workload-small.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = join(ROOT, 'bench/results');
const SMALL_BYTES = 1024;

function positiveInt(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${v}"`);
  return n;
}

const errMsg = (e: unknown) => ((e as Error)?.message ?? String(e)).split('\n')[0];

/** Open a subject in a fresh temporary folder, run one workload, close it and remove the folder. */
async function inFreshFolder<T>(make: () => Subject, fn: (s: Subject) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'avfs-bench-'));
  const s = make();
  try {
    await s.open(dir);
    return await fn(s);
  } finally {
    await s.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    collectGarbage();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      files: { type: 'string' },
      'big-mib': { type: 'string' },
      'no-startup': { type: 'boolean' },
      'no-warmup': { type: 'boolean' },
      'startup-runs': { type: 'string' },
      history: { type: 'boolean' },
      memory: { type: 'boolean' },
      search: { type: 'boolean' },
      grep: { type: 'boolean' },
      mount: { type: 'boolean' },
      runs: { type: 'string' },
      tree: { type: 'string' },
      'huge-mib': { type: 'string' },
      'mount-args': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: npm run bench -- [--only sqlite,lmdb,log,rocksdb,memory,host,agentfs,memfs,agentvfs] [--files N] [--big-mib N] [--no-startup] [--startup-runs N] [--no-warmup]');
    console.log('       npm run bench -- --history [--only sqlite,lmdb,memory] [--files N (largest vault, default 100000)] [--no-warmup]');
    console.log('       npm run bench -- --memory [--only sqlite,lmdb,memory] [--files N (memories searched, default 100000)] [--no-warmup]');
    console.log('       npm run bench -- --search [--only sqlite,lmdb,memory] [--no-warmup]');
    console.log('       npm run bench -- --grep [--only sqlite,lmdb,memory] (also: node dist/bench/grep.js --help)');
    console.log('       npm run bench -- --mount [--only sqlite,lmdb,host] [--runs N (default 3)] [--tree PATH (default node_modules)] [--big-mib N (default 256)] [--huge-mib N (default 1024)] [--mount-args="--cache 1"] (also: node dist/bench/mount.js --help)');
    return;
  }
  if (values.mount) {
    const { mountBenchMain } = await import('./mount.js');
    const pass: [string, string | undefined][] = [['--only', values.only], ['--runs', values.runs], ['--tree', values.tree], ['--big-mib', values['big-mib']], ['--huge-mib', values['huge-mib']], ['--mount-args', values['mount-args']]];
    await mountBenchMain(pass.flatMap(([k, v]) => (v === undefined ? [] : [k, v])));
    return;
  }
  if (values.grep) {
    const { grepBenchMain } = await import('./grep.js');
    await grepBenchMain(values.only ? ['--engine', values.only] : []);
    return;
  }
  if (values.search) {
    const { searchOptionsFromFlags, runSearchBench } = await import('./search.js');
    await runSearchBench(ROOT, searchOptionsFromFlags(values.only, values['no-warmup']));
    return;
  }
  if (values.memory) {
    const { memoryOptionsFromFlags, runMemoryBench } = await import('./memory.js');
    await runMemoryBench(ROOT, memoryOptionsFromFlags(values.only, values.files, values['no-warmup']));
    return;
  }
  if (values.history) {
    const { historyOptionsFromFlags, runHistoryBench } = await import('./history.js');
    await runHistoryBench(ROOT, historyOptionsFromFlags(values.only, values.files, values['no-warmup']));
    return;
  }
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  const files = Math.round(positiveInt(values.files, '--files', 10_000));
  const bigMiB = positiveInt(values['big-mib'], '--big-mib', 100);
  const startupRuns = Math.round(positiveInt(values['startup-runs'], '--startup-runs', 20));
  const specs = pickSubjects(only);

  const t0 = now();
  const log = (m: string) => process.stderr.write(`${m}\n`);
  log(`bench: ${specs.map((s) => s.id).join(', ')}; ${files} files of ${SMALL_BYTES} B, big file ${bigMiB} MiB`);
  const set = makeSmallSet(files, SMALL_BYTES);
  const big = makeBigFile(bigMiB);

  // Untimed warm-up: every subject once on a tiny set, so that whichever runs first does not
  // pay for JIT compilation, lazy module loading and cold file-system caches.
  if (!values['no-warmup']) {
    log('  warm-up (untimed)');
    const tiny = makeSmallSet(200, SMALL_BYTES);
    const tinyBig = makeBigFile(1);
    for (const spec of specs) {
      await inFreshFolder(spec.make, (s) => runSmall(s, tiny, () => {})).catch(() => {});
      await inFreshFolder(spec.make, (s) => runBig(s, tinyBig, () => {})).catch(() => {});
    }
  }

  const subjects: SubjectResult[] = [];
  for (const spec of specs) {
    const probe = spec.make();
    const r: SubjectResult = { id: probe.id, label: probe.label, kind: probe.kind, mode: probe.mode, note: probe.note };
    if (probe.engine) r.engine = probe.engine;
    const tag = (w: string) => (m: string) => log(`  ${probe.id} ${w} ${m}`);
    try {
      r.small = await inFreshFolder(spec.make, (s) => runSmall(s, set, tag('A')));
    } catch (e) {
      r.smallError = errMsg(e);
      log(`  ${probe.id} A failed: ${r.smallError}`);
    }
    try {
      r.big = await inFreshFolder(spec.make, (s) => runBig(s, big, tag('B')));
    } catch (e) {
      r.bigError = errMsg(e);
      log(`  ${probe.id} B failed: ${r.bigError}`);
    }
    subjects.push(r);
  }

  let startup;
  if (!values['no-startup']) {
    log('  start-up: bin/avfs cat vs node -e 0');
    startup = await measureStartup(ROOT, startupRuns);
  }

  const results: Results = {
    date: new Date().toISOString(),
    machine: machine(),
    options: { files, bytesPerFile: SMALL_BYTES, bigMiB, ...(only ? { only } : {}), batchFiles: BATCH_FILES, startupRuns },
    subjects,
    ...(startup ? { startup } : {}),
    targets: computeTargets(subjects),
    totalSeconds: 0,
  };
  results.totalSeconds = now() - t0;
  const md = renderMarkdown(results);
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(OUT, 'latest.md'), md);
  console.log(md);
  log(`bench: wrote ${join('bench/results', 'latest.json')} and latest.md in ${results.totalSeconds.toFixed(1)} s`);
}

main().catch((e) => {
  console.error(`bench: ${errMsg(e)}`);
  process.exitCode = 1;
});
