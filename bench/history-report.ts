// The history benchmark's markdown report (bench/results/history.md, also printed).
import type { Growth, HistoryOptions, LogResult, LsAtResult, RestoreResult, SaveResult } from './history.js';
import type { Machine } from './report.js';
import { fmtBytes, fmtRatio } from './timing.js';

export interface Figure {
  name: string;
  /** What the size counts: files or versions. */
  unit: string;
  small: number;
  large: number;
  smallSeconds: number;
  largeSeconds: number;
  /** largeSeconds ÷ smallSeconds (medians). */
  ratio: number;
  /** The same with the fastest run of each (less disturbed by other load on the machine). */
  minRatio: number;
  /** The ratio the complexity class predicts for large ÷ small sizes. */
  expected: number;
  klass: string;
}

export interface EngineHistory {
  engine: string;
  save: SaveResult[];
  lsAt: LsAtResult[];
  log: LogResult[];
  restore: RestoreResult[];
  figures?: Figure[];
  /** Wrong answers seen while measuring (empty when every check passed). */
  problems: string[];
}

export interface HistoryResults {
  date: string;
  machine: Machine;
  options: HistoryOptions & { batchFiles: number; folderSize: number; firstBytes: number; rewriteBytes: number };
  engines: EngineHistory[];
  /** One-minute load average when the run started and ended (2 cores: above 2, other work was competing). */
  load: { start: number; end: number };
  totalSeconds: number;
}

const ms = (s: number | undefined): string => {
  if (s === undefined || Number.isNaN(s)) return '—';
  const v = s * 1000;
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  if (v >= 1) return v.toFixed(2);
  return v.toFixed(3);
};
const int = (n: number) => n.toLocaleString('en-US');
const sz = (n: number) => (n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));
const bytes = (n: number | undefined, engine: string) => (engine === 'memory' ? '—' : fmtBytes(n));
const rowsOf = (g: Growth) =>
  `${g.rows}${Object.keys(g.entries).length ? ` (${Object.entries(g.entries).map(([k, n]) => `${k} ${n > 0 ? '+' : ''}${n}`).join(', ')})` : ''}`;

/**
 * A ratio well above what its class predicts (over 2× the prediction, and over 2×) is flagged
 * when the medians and the fastest runs agree; when only one of them says so, it is borderline (noise, or a small real growth).
 */
function verdict(f: Figure): string {
  const limit = Math.max(2, 2 * f.expected);
  const a = f.ratio > limit;
  const b = f.minRatio > limit;
  return a && b ? '**worse than its class**' : a || b ? 'borderline' : 'ok';
}

export function renderHistoryMarkdown(r: HistoryResults): string {
  const m = r.machine;
  const o = r.options;
  const L: string[] = [];
  L.push('# agentvfs history benchmark', '');
  L.push(`${r.date} · ${m.cpu} (${m.cores} cores, ${m.memoryGiB} GiB) · Node ${m.node} · ${m.os} · temp folders in ${m.tmpdir} (${m.tmpFs}, 1 KiB write+fsync ${m.fsyncMs.toFixed(2)} ms) · whole run ${r.totalSeconds.toFixed(1)} s · load average ${r.load.start.toFixed(1)} at the start, ${r.load.end.toFixed(1)} at the end`, '');
  L.push(
    `Vaults are built with \`vault.batch()\`, ${o.batchFiles} files per transaction, ${o.folderSize} files per folder (\`/tree/dNNNN/fNN.txt\`), ${o.firstBytes} B per file (${o.rewriteBytes} B for the second version). ` +
      `Each engine's vaults live in fresh temporary folders; an untimed warm-up pass runs every measurement on tiny vaults first. ` +
      `Read figures are the median of ${o.readReps} runs after one untimed run; \`snapshot save\` the median of ${o.saveReps} saves; \`snapshot restore\` the median of ${o.restoreReps} restores. Times in milliseconds.`,
    '',
  );

  L.push('## Growth: large ÷ small', '');
  L.push('How each figure grows with the vault (or with the file\'s version count): medians, their ratio, and the ratio of the fastest runs. "expected" is the ratio its complexity class predicts; a figure over twice that (and over 2×) by both ratios is flagged, by one of them only is "borderline".', '');
  L.push('| engine | figure | small | large | small (ms) | large (ms) | large ÷ small | fastest ÷ fastest | expected | verdict |');
  L.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const e of r.engines) {
    for (const f of e.figures ?? []) {
      L.push(`| ${e.engine} | ${f.name} | ${sz(f.small)} ${f.unit} | ${sz(f.large)} ${f.unit} | ${ms(f.smallSeconds)} | ${ms(f.largeSeconds)} | ${fmtRatio(f.ratio)} | ${fmtRatio(f.minRatio)} | ${fmtRatio(f.expected)} (${f.klass}) | ${verdict(f)} |`);
    }
  }
  L.push('');

  L.push('## snapshot save', '');
  L.push(
    `\`vault.saveSnapshot(name)\` ${o.saveReps} times on a vault of N files, after \`vault.sync()\` (the build leaves dirty pages that a commit's fsync would otherwise wait for). Every save commits durably, so its time is mostly one fsync: "fsync" is the median 1 KiB write+fsync in the temp folder just before. Growth is what one save added, averaged over the saves: bytes on disk (sqlite: database + WAL file; lmdb: data.mdb + lock.mdb), bytes in use (sqlite: used pages; lmdb: pages up to the highest in use) and rows.`,
    '',
  );
  L.push('| engine | files | build (s) | on disk before → after | save (ms, median) | fastest | fsync (ms) | on disk +/save | in use +/save | rows +/save |');
  L.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const e of r.engines) {
    for (const s of e.save) {
      L.push(
        `| ${e.engine} | ${int(s.files)} | ${s.buildSeconds.toFixed(2)} | ${bytes(s.before.bytesOnDisk, e.engine)} → ${bytes(s.after.bytesOnDisk, e.engine)} | ${ms(s.time.median)} | ${ms(s.time.min)} | ${e.engine === 'memory' ? '—' : s.fsyncMs.toFixed(2)} | ${bytes(s.perSave.bytesOnDisk, e.engine)} | ${bytes(s.perSave.usedBytes, e.engine)} | ${rowsOf(s.perSave)} |`,
      );
    }
  }
  L.push('');

  L.push('## ls --at', '');
  L.push(
    "A folder of 100 in a vault of N files where every file then got a second version (rewritten in a scattered order, 1000 per batch), with snapshot `mid` saved halfway through the rewrites. `--at`: `(await vault.at('mid')).readdir(folder)` / `.list(folder)`, point resolution included; `now`: `vault.readdir(folder)` / `vault.list(folder)`. \"v2 at mid\" counts the entries `list` showed at their second version (checked against the rewrite order). Medians, ms.",
    '',
  );
  L.push('| engine | files | file versions | rewrites (s) | folder | ls --at | ls -l --at | ls now | ls -l now | --at ÷ now (ls / ls -l) | v2 at mid |');
  L.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const e of r.engines) {
    for (const l of e.lsAt) {
      L.push(
        `| ${e.engine} | ${int(l.files)} | ${int(l.versions)} | ${l.rewriteSeconds.toFixed(1)} | ${l.folder} | ${ms(l.atReaddir.median)} | ${ms(l.atList.median)} | ${ms(l.nowReaddir.median)} | ${ms(l.nowList.median)} | ${fmtRatio(l.atReaddir.median / l.nowReaddir.median)} / ${fmtRatio(l.atList.median / l.nowList.median)} | ${l.rewrittenAtMid} |`,
      );
    }
  }
  L.push('');

  L.push('## log and cat -v', '');
  L.push('One file written V times (a version each, 1000 per batch). `log`: `vault.history(path)`; `log -n 10`: `vault.history(path, { limit: 10 })`; `cat -v 1`: `vault.readVersion(path, 1)`; `cat`: `vault.readFile(path)` (the current version). Medians, ms.', '');
  L.push('| engine | versions | build (s) | log | log -n 10 | cat -v 1 | cat |');
  L.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const e of r.engines) {
    for (const x of e.log) L.push(`| ${e.engine} | ${int(x.versions)} | ${x.buildSeconds.toFixed(2)} | ${ms(x.log.median)} | ${ms(x.logLimit10.median)} | ${ms(x.catV1.median)} | ${ms(x.catLatest.median)} |`);
  }
  L.push('');

  L.push('## snapshot restore', '');
  L.push('`vault.restoreSnapshot(base)` on a vault of N files, every one of which was rewritten after `base` (so all N change back). Growth: what the restore added (the last run).', '');
  L.push('| engine | files | restore (ms, median) | runs (ms) | files changed | µs per file | on disk + | in use + | rows + |');
  L.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const e of r.engines) {
    for (const x of e.restore) {
      L.push(
        `| ${e.engine} | ${int(x.files)} | ${ms(x.time.median)} | ${x.time.runs.map(ms).join(', ')} | ${int(x.changed)} | ${((x.time.median * 1e6) / x.files).toFixed(0)} | ${bytes(x.growth.bytesOnDisk, e.engine)} | ${bytes(x.growth.usedBytes, e.engine)} | ${rowsOf(x.growth)} |`,
      );
    }
  }
  L.push('');

  const problems = r.engines.flatMap((e) => e.problems.map((p) => `${e.engine}: ${p}`));
  L.push('## Checks', '');
  L.push(problems.length === 0 ? 'Every answer was checked (entry counts, sizes at `mid`, bytes of `cat -v 1`, restored content and counts): all correct.' : problems.map((p) => `- ${p}`).join('\n'));
  L.push('');
  return L.join('\n');
}
