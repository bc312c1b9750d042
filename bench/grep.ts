// `node dist/bench/grep.js` (or `npm run bench -- --grep`): avfs grep against ripgrep on the same
// tree. The corpus (bench/corpus.ts: /usr/share/doc and /usr/include, ~12,000 files, ~250 MB)
// is imported into a vault with the library's import and exported to a host folder with its
// export (so rg searches exactly what the vault holds); then each of 20 patterns (rare
// identifiers, common words, alternations and classes, -i, -w, -F) runs as
//   - a library call, vault.grep(pattern, ['/'], {output: 'files' | 'count', ...}) (-l / -c:
//     no terminal output measured), the median of --reps runs after one untimed run;
//   - `rg --no-ignore --hidden -l|-c PATTERN tree` (ripgrep's own threads, warm page cache),
//     the median of --reps runs after one untimed run, in the same process's lifetime;
// and once more end to end: `avfs grep -r -l|-c` as a process against the rg process.
// Ratio = avfs time / rg time: below 1 means avfs was faster. Writes bench/results/grep.{md,json}.
//
//   node dist/bench/grep.js [--engine sqlite,lmdb,memory (default sqlite,lmdb)] [--reps N] [--rg PATH] [--no-cli] [--keep]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { GrepOptions } from '../src/api/grep.js';
import { createVault, type Vault } from '../src/index.js';
import { catchUpForGrep } from '../src/api/grep.js';
import { exportCorpus, importCorpus } from './corpus.js';
import { machine } from './machine.js';
import type { Machine } from './report.js';
import { median, now } from './timing.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUT = join(ROOT, 'bench/results');

interface Case {
  label: string;
  pattern: string;
  /** Our options (syntax: JavaScript regex unless fixed). */
  opts: GrepOptions;
  /** The same for rg. */
  rg: string[];
}

const L = (pattern: string, extra: Partial<GrepOptions> = {}, rg: string[] = []): Case => ({ label: '-l', pattern, opts: { output: 'files', ...extra }, rg: ['-l', ...rg] });
const C = (pattern: string, extra: Partial<GrepOptions> = {}, rg: string[] = []): Case => ({ label: '-c', pattern, opts: { output: 'count', ...extra }, rg: ['-c', ...rg] });

/** 20 patterns: rare identifiers, common words, regexes with alternation and classes, -i, -w, -F. */
export const CASES: Case[] = [
  L('pthread_mutex_lock'),
  C('EXIT_SUCCESS'),
  L('SIGKILL'),
  C('__BEGIN_DECLS'),
  L('inet_ntop'),
  L('the'),
  L('license', { ignoreCase: true }, ['-i']),
  C('include'),
  C('error'),
  L('foo|bar'),
  C('(malloc|calloc|realloc)\\('),
  L('[A-Z]{3}_[0-9]+'),
  C('\\b(int|long)\\s+\\w+\\('),
  L('https?://[a-z.]+\\.org'),
  C('copyright \\(c\\) 20[0-9]{2}', { ignoreCase: true }, ['-i']),
  L('GNU General Public License v[23]'),
  C('^#define\\s+\\w+_H$'),
  C('size_t', { word: true }, ['-w']),
  L('a.out', { syntax: 'fixed' }, ['-F']),
  L('segmentation fault', { ignoreCase: true }, ['-i']),
];

interface Row {
  label: string;
  pattern: string;
  flags: string;
  avfsMs: number;
  rgMs: number;
  ratio: number;
  /** Files with a match: avfs, rg. */
  avfsFiles: number;
  rgFiles: number;
  /** Files avfs read (the index ruled out the rest). */
  read: number;
  cliMs?: number;
  rgCliMs?: number;
}

export interface GrepBenchResult {
  date: string;
  machine: Machine;
  engine: string;
  corpus: { files: number; bytes: number; importSeconds: number; indexSeconds: number; exportSeconds: number; storeBytes: number; indexRows: number };
  rgVersion: string;
  reps: number;
  rows: Row[];
  geomean: number;
  geomeanCli?: number;
  loadStart: number;
  loadEnd: number;
  totalSeconds: number;
}

function flagsOf(c: Case): string {
  const f = [c.label];
  if (c.opts.ignoreCase) f.push('-i');
  if (c.opts.word) f.push('-w');
  if (c.opts.syntax === 'fixed') f.push('-F');
  return f.join(' ');
}

function runRg(rg: string, args: string[], dir: string): { ms: number; files: number } {
  const t0 = now();
  const r = spawnSync(rg, ['--no-ignore', '--hidden', '--no-messages', ...args, dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = (now() - t0) * 1000;
  if (r.status !== 0 && r.status !== 1) throw new Error(`rg ${args.join(' ')} failed: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter(Boolean);
  const files = args.includes('-c') ? lines.filter((l) => !l.endsWith(':0')).length : lines.length;
  return { ms, files };
}

const geomean = (xs: number[]): number => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
const fmt = (ms: number): string => (ms < 10 ? ms.toFixed(1) : ms.toFixed(0));

export async function runGrepBench(opts: { engine: 'sqlite' | 'lmdb' | 'memory'; reps: number; rg: string; cli: boolean; keep: boolean }): Promise<GrepBenchResult> {
  const log = (m: string): void => void process.stderr.write(`${m}\n`);
  const t0 = now();
  const loadStart = loadavg()[0];
  const rgVersion = spawnSync(opts.rg, ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? '';
  if (!rgVersion) throw new Error(`ripgrep not found at ${opts.rg} (--rg PATH)`);
  const dir = mkdtempSync(join(tmpdir(), 'avfs-bench-grep-'));
  log(`grep bench: corpus into a ${opts.engine} vault in ${dir}`);
  const storePath = join(dir, opts.engine === 'sqlite' ? 'corpus.avfs' : 'corpus.lmdb');
  const v: Vault = opts.engine === 'memory' ? await createVault(':memory:', { backend: 'memory' }) : await createVault(storePath, { backend: opts.engine, home: join(dir, 'home') });
  const rows: Row[] = [];
  let exported: string | undefined;
  try {
    const imp = await importCorpus(v);
    log(`  imported ${imp.files} files, ${(imp.bytes / 1e6).toFixed(0)} MB in ${imp.seconds.toFixed(1)} s; indexing`);
    let t = now();
    await catchUpForGrep(v.engine, v.record.chunkSize);
    const indexSeconds = now() - t;
    log(`  indexed in ${indexSeconds.toFixed(1)} s; exporting`);
    t = now();
    exported = await exportCorpus(v);
    const exportSeconds = now() - t;
    const corpus = { exported, files: imp.files, bytes: imp.bytes, importSeconds: imp.seconds, indexSeconds, exportSeconds };
    const st = await v.stats();
    const indexRows = (st.entries.grep_trigrams ?? 0) + (st.entries.grep_docs ?? 0);
    for (const c of CASES) {
      const grepOnce = (): Promise<{ files: number; read: number }> =>
        v.grep(c.pattern, ['/'], { syntax: 'extended', ...c.opts }).then((r) => ({ files: r.files.filter((f) => f.count > 0).length, read: r.searched }));
      const first = await grepOnce(); // untimed: warms caches and JIT
      const ours: number[] = [];
      for (let i = 0; i < opts.reps; i++) {
        const t = now();
        await grepOnce();
        ours.push((now() - t) * 1000);
      }
      const rgArgs = [...c.rg, '-e', c.pattern];
      const rgFirst = runRg(opts.rg, rgArgs, corpus.exported);
      const theirs: number[] = [];
      for (let i = 0; i < opts.reps; i++) theirs.push(runRg(opts.rg, rgArgs, corpus.exported).ms);
      const row: Row = {
        label: c.label,
        pattern: c.pattern,
        flags: flagsOf(c),
        avfsMs: median(ours),
        rgMs: median(theirs),
        ratio: median(ours) / median(theirs),
        avfsFiles: first.files,
        rgFiles: rgFirst.files,
        read: first.read,
      };
      rows.push(row);
      log(`  ${row.flags.padEnd(6)} ${c.pattern.padEnd(34)} avfs ${fmt(row.avfsMs).padStart(5)} ms  rg ${fmt(row.rgMs).padStart(5)} ms  ×${row.ratio.toFixed(2)}  files ${row.avfsFiles}/${row.rgFiles}, read ${row.read}`);
    }
    let geoCli: number | undefined;
    if (opts.cli && opts.engine !== 'memory') {
      // End to end: the avfs process (start-up, open, catch-up check, search, output) against the rg process.
      log('  the command line, once per pattern (after one untimed run):');
      const bin = join(ROOT, 'bin/avfs');
      for (const [i, c] of CASES.entries()) {
        const args = [bin, '--vault', storePath, 'grep', '-r', c.opts.syntax === 'fixed' ? '-F' : '-E', ...(c.label === '-l' ? ['-l'] : ['-c']), ...(c.opts.ignoreCase ? ['-i'] : []), ...(c.opts.word ? ['-w'] : []), '-e', c.pattern, '/'];
        const env = { ...process.env, AVFS_HOME: join(dir, 'home') };
        const once = (): number => {
          const t = now();
          const r = spawnSync(process.execPath, args, { env, encoding: 'utf8', maxBuffer: 1 << 28 });
          if (r.status !== 0 && r.status !== 1) throw new Error(`avfs grep ${c.pattern} failed (${r.status}): ${r.stderr}`);
          return (now() - t) * 1000;
        };
        once();
        rows[i].cliMs = once();
        rows[i].rgCliMs = runRg(opts.rg, [...c.rg, '-e', c.pattern], corpus.exported).ms;
      }
      geoCli = geomean(rows.map((r) => r.cliMs! / r.rgCliMs!));
    }
    const result: GrepBenchResult = {
      date: new Date().toISOString(),
      machine: machine(),
      engine: opts.engine,
      corpus: {
        files: corpus.files,
        bytes: corpus.bytes,
        importSeconds: corpus.importSeconds,
        indexSeconds: corpus.indexSeconds,
        exportSeconds: corpus.exportSeconds,
        storeBytes: st.bytesOnDisk,
        indexRows,
      },
      rgVersion,
      reps: opts.reps,
      rows,
      geomean: geomean(rows.map((r) => r.ratio)),
      ...(geoCli !== undefined ? { geomeanCli: geoCli } : {}),
      loadStart,
      loadEnd: loadavg()[0],
      totalSeconds: now() - t0,
    };
    return result;
  } finally {
    await v.close().catch(() => {});
    if (!opts.keep) {
      rmSync(dir, { recursive: true, force: true });
      if (exported) rmSync(dirname(exported), { recursive: true, force: true });
    } else log(`  kept ${dir} and ${exported}`);
  }
}

/** One engine's section: corpus, then the table. */
function renderEngine(r: GrepBenchResult): string[] {
  const c = r.corpus;
  const out: string[] = [];
  out.push(`## ${r.engine}`, '');
  out.push(
    `A ${r.engine} vault of ${(c.storeBytes / 1e6).toFixed(0)} MB (${c.indexRows.toLocaleString('en-US')} trigram-index rows). Import ${c.importSeconds.toFixed(1)} s; first catch-up of the search indexes (full text and trigrams) ${c.indexSeconds.toFixed(1)} s; export for rg ${c.exportSeconds.toFixed(1)} s. Load average ${r.loadStart.toFixed(2)} at the start, ${r.loadEnd.toFixed(2)} at the end.`,
    '',
  );
  const cli = r.rows.some((x) => x.cliMs !== undefined);
  out.push(`| flags | pattern | avfs ms | rg ms | × | files avfs / rg | read |${cli ? ' avfs CLI ms | rg ms | × |' : ''}`);
  out.push(`| --- | --- | ---: | ---: | ---: | ---: | ---: |${cli ? ' ---: | ---: | ---: |' : ''}`);
  for (const x of r.rows) {
    const tail = cli && x.cliMs !== undefined ? ` ${fmt(x.cliMs)} | ${fmt(x.rgCliMs!)} | ${(x.cliMs / x.rgCliMs!).toFixed(2)} |` : '';
    out.push(`| ${x.flags} | \`${x.pattern.replaceAll('|', '\\|')}\` | ${fmt(x.avfsMs)} | ${fmt(x.rgMs)} | ${x.ratio.toFixed(2)} | ${x.avfsFiles} / ${x.rgFiles} | ${x.read} |${tail}`);
  }
  out.push('');
  out.push(`Geometric mean of ×: **${r.geomean.toFixed(2)}** (library call)${r.geomeanCli !== undefined ? `, **${r.geomeanCli.toFixed(2)}** (command line, process start-up included on both sides)` : ''}.`);
  const slower = r.rows.filter((x) => x.ratio > 1);
  if (slower.length > 0) out.push('', `Slower than rg (library call) on ${slower.length} of ${r.rows.length}: ${slower.map((x) => `\`${x.pattern}\` (×${x.ratio.toFixed(2)})`).join(', ')}.`);
  out.push('');
  return out;
}

export function renderGrepMarkdown(results: GrepBenchResult[]): string {
  const r = results[0];
  const m = r.machine;
  const c = r.corpus;
  const out: string[] = [];
  out.push('# grep benchmark: avfs grep against ripgrep', '');
  out.push(`${r.date}; ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.os}; ${r.rgVersion}. ${results.reduce((a, x) => a + x.totalSeconds, 0).toFixed(0)} s in all.`, '');
  out.push(`Corpus (bench/corpus.ts): /usr/share/doc and /usr/include, ${c.files.toLocaleString('en-US')} files, ${(c.bytes / 1e6).toFixed(0)} MB, imported into a vault with the library's import, exported with its export for rg.`, '');
  out.push(
    `Each pattern: avfs as a library call (\`vault.grep(pattern, ['/'], { output: 'files' | 'count' })\`, JavaScript regex syntax; GNU's -c, so every file is listed, those without a match with 0) and \`rg --no-ignore --hidden -l|-c\` on the exported tree, median of ${r.reps} runs after an untimed one (which also starts avfs's helper threads), warm caches; then once more each as a process (\`avfs grep -r -E -l|-c\`, which searches on one thread). ` +
      '× = avfs time / rg time (below 1: avfs faster). Files: files with a match, avfs / rg (binary files are skipped by both; avfs also skips text that is not UTF-8). Read: files avfs read, the trigram index having ruled out the rest. Target: no slower than ripgrep (× ≤ 1).',
    '',
  );
  for (const x of results) out.push(...renderEngine(x));
  out.push(
    'Where the time goes: a pattern with selective trigrams reads a few dozen files (the index answers in a few ms), so avfs beats rg by 2-8×. ' +
      'A pattern found in most files (`the`, `include`), or without trigrams (`[A-Z]{3}_[0-9]+`), reads every text file out of the store (~170 MB); that costs about as much CPU as rg takes for its whole run, so those stay 1.3-2× slower even with both cores busy. ' +
      'The command line adds Node start-up (~60 ms on this machine, where rg needs ~5 ms) and runs cold (no JIT warm-up), so as a process avfs is 2-4× slower throughout.',
    '',
  );
  return out.join('\n');
}

async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      engine: { type: 'string' },
      reps: { type: 'string' },
      rg: { type: 'string' },
      'no-cli': { type: 'boolean' },
      keep: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log('usage: node dist/bench/grep.js [--engine sqlite,lmdb,memory (default sqlite,lmdb)] [--reps N] [--rg PATH] [--no-cli] [--keep]');
    return;
  }
  const engines = (values.engine ?? 'sqlite,lmdb').split(',').map((e) => e.trim()) as ('sqlite' | 'lmdb' | 'memory')[];
  for (const e of engines) if (!['sqlite', 'lmdb', 'memory'].includes(e)) throw new Error(`--engine: sqlite, lmdb or memory, not "${e}"`);
  const reps = Number(values.reps ?? 5);
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps must be a positive whole number`);
  const results: GrepBenchResult[] = [];
  for (const engine of engines) results.push(await runGrepBench({ engine, reps, rg: values.rg ?? 'rg', cli: !values['no-cli'], keep: !!values.keep }));
  const md = renderGrepMarkdown(results);
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'grep.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(OUT, 'grep.md'), md);
  console.log(md);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`grep bench: ${(e as Error)?.message ?? e}`);
    process.exitCode = 1;
  });
}

export { main as grepBenchMain };
