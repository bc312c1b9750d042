// Turning results into ratios, target verdicts and the markdown report (also printed).
import type { BigResult, Growth } from './workload-big.js';
import { BIG_PHASES, EDIT_REPS, READ_REPS } from './workload-big.js';
import type { SmallResult } from './workload-small.js';
import { LIST_REPS, SMALL_PHASES } from './workload-small.js';
import type { StartupResult } from './startup.js';
import type { SubjectKind, WriteMode } from './subjects/subject.js';
import { fmtBytes, fmtRatio, fmtSeconds } from './timing.js';

export interface SubjectResult {
  id: string;
  label: string;
  kind: SubjectKind;
  engine?: string;
  mode: WriteMode;
  note: string;
  small?: SmallResult;
  smallError?: string;
  big?: BigResult;
  bigError?: string;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  tmpdir: string;
  tmpFs: string;
  /** Median 1 KiB write + fsync in the temp folder. */
  fsyncMs: number;
}

export interface Options {
  files: number;
  bytesPerFile: number;
  bigMiB: number;
  only?: string[];
  batchFiles: number;
  startupRuns: number;
}

export interface TargetRow {
  target: string;
  subject: string;
  reference: string;
  /** The ratio must be at most this (below, for "faster than"). */
  limit: number;
  strict: boolean;
  worst?: { phase: string; ratio: number };
  failing: { phase: string; ratio: number }[];
  /** Undefined when the reference or the subject was not run. */
  pass?: boolean;
}

export interface Results {
  date: string;
  machine: Machine;
  options: Options;
  subjects: SubjectResult[];
  startup?: StartupResult;
  targets: TargetRow[];
  totalSeconds: number;
}

/** Phase ids across both workloads: A.write ... B.overwrite. */
export const ALL_PHASES = [...SMALL_PHASES.map((p) => `A.${p}`), ...BIG_PHASES.map((p) => `B.${p}`)];
const WRITE_PHASES = ['A.write', 'B.write', 'B.append', 'B.overwrite'];

export function phaseTime(r: SubjectResult | undefined, phase: string): number | undefined {
  if (!r) return undefined;
  const [w, p] = [phase.slice(0, 1), phase.slice(2)];
  const v = w === 'A' ? r.small?.seconds[p as keyof SmallResult['seconds']] : r.big?.seconds[p as keyof BigResult['seconds']];
  return typeof v === 'number' && v > 0 ? v : undefined;
}

function ratio(a: SubjectResult, b: SubjectResult | undefined, phase: string): number | undefined {
  const x = phaseTime(a, phase);
  const y = phaseTime(b, phase);
  return x !== undefined && y !== undefined ? x / y : undefined;
}

/** Which references each agentvfs subject is compared with. */
function referencesFor(r: SubjectResult): string[] {
  return r.mode === 'batch' ? ['host-plain', 'host-durable', 'agentfs-sdk'] : ['host-durable', 'agentfs-sdk'];
}

export function computeTargets(subjects: SubjectResult[]): TargetRow[] {
  const byId = new Map(subjects.map((s) => [s.id, s]));
  const rows: TargetRow[] = [];
  const check = (target: string, r: SubjectResult, refId: string, phases: string[], limit: number, strict: boolean) => {
    const ref = byId.get(refId);
    const row: TargetRow = { target, subject: r.id, reference: refId, limit, strict, failing: [] };
    const measured = phases.map((phase) => ({ phase, ratio: ratio(r, ref, phase) })).filter((m): m is { phase: string; ratio: number } => m.ratio !== undefined);
    if (measured.length > 0) {
      row.worst = measured.reduce((a, b) => (b.ratio > a.ratio ? b : a));
      row.failing = measured.filter((m) => (strict ? m.ratio >= limit : m.ratio > limit));
      row.pass = row.failing.length === 0;
    }
    rows.push(row);
  };
  const agentvfs = subjects.filter((s) => s.kind === 'agentvfs');
  // Batching only exists in Workload A: in B every edit is one transaction in both modes.
  const smallPhases = ALL_PHASES.filter((p) => p.startsWith('A.'));
  for (const r of agentvfs.filter((s) => s.mode === 'batch')) {
    check('batch at least as fast as the host filesystem (plain)', r, 'host-plain', smallPhases, 1, false);
    check('batch at least as fast as the host filesystem (durable)', r, 'host-durable', smallPhases, 1, false);
  }
  for (const r of agentvfs.filter((s) => s.mode === 'durable')) {
    check('durable writes at most 3x host durable', r, 'host-durable', WRITE_PHASES, 3, false);
  }
  for (const r of agentvfs) check('faster than agentfs-sdk everywhere', r, 'agentfs-sdk', ALL_PHASES, 1, true);
  return rows;
}

// ---- markdown --------------------------------------------------------------------------------

const table = (head: string[], rows: string[][]): string =>
  [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

function timesTable(subjects: SubjectResult[], w: 'A' | 'B'): string {
  const phases = w === 'A' ? SMALL_PHASES : BIG_PHASES;
  const head = ['subject', ...phases.map((p) => `${p} (s)`), w === 'A' ? 'read mismatches' : 'bytes verified'];
  const rows = subjects.map((r) => {
    const err = w === 'A' ? r.smallError : r.bigError;
    if (err) return [r.label, ...phases.map(() => '—'), `error: ${err}`];
    const cells = phases.map((p) => fmtSeconds(phaseTime(r, `${w}.${p}`)));
    let check: string;
    if (w === 'A') {
      const s = r.small!;
      check = `${s.mismatches}${s.listProblems.length ? `; listing: ${s.listProblems.join('; ')}` : ''}`;
    } else {
      const b = r.big!;
      check = b.readOk && b.finalOk ? 'ok' : `MISMATCH (read ${b.readOk ? 'ok' : 'bad'}, after edits ${b.finalOk ? 'ok' : 'bad'})`;
    }
    return [r.label, ...cells, check];
  });
  return table(head, rows);
}

function ratioTable(subjects: SubjectResult[], w: 'A' | 'B'): string {
  const phases = w === 'A' ? SMALL_PHASES : BIG_PHASES;
  const byId = new Map(subjects.map((s) => [s.id, s]));
  const rows: string[][] = [];
  for (const r of subjects.filter((s) => s.kind === 'agentvfs')) {
    for (const refId of referencesFor(r)) {
      const ref = byId.get(refId);
      if (!ref) continue;
      rows.push([r.label, ref.label, ...phases.map((p) => fmtRatio(ratio(r, ref, `${w}.${p}`)))]);
    }
  }
  return rows.length ? table(['agentvfs', 'vs', ...phases], rows) : '_No reference subject was run._';
}

function growthTable(subjects: SubjectResult[]): string {
  const rows: string[][] = [];
  const cells = (g: Growth) => [String(g.newChunks), fmtBytes(g.newChunkBytes), fmtBytes(g.manifestBytes), fmtBytes(g.diskBytes), g.usedBytes === undefined ? '—' : fmtBytes(g.usedBytes)];
  for (const r of subjects) {
    const g = r.big?.growth;
    if (!g) continue;
    rows.push([r.label, 'append 1 KiB', ...cells(g.append)]);
    rows.push([r.label, 'overwrite 1 byte', ...cells(g.overwrite)]);
  }
  if (!rows.length) return '';
  return table(['subject', 'edit', 'new chunks', 'new chunk bytes', 'new manifest', 'bytesOnDisk Δ', 'pages in use Δ'], rows);
}

function targetsTable(rows: TargetRow[], startup?: StartupResult): string {
  const out = rows.map((t) => [
    t.target,
    t.subject,
    t.reference,
    t.worst ? `${t.worst.phase} ${fmtRatio(t.worst.ratio)}` : '—',
    t.failing.length ? t.failing.map((f) => `${f.phase} ${fmtRatio(f.ratio)}`).join(', ') : '',
    t.pass === undefined ? 'not run' : t.pass ? 'PASS' : '**FAIL**',
  ]);
  if (startup && startup.ratio !== undefined) {
    out.push([
      `start-up under ${startup.target}x node -e 0`,
      'bin/avfs cat',
      'node -e 0',
      fmtRatio(startup.ratio),
      '',
      startup.ratio < startup.target ? 'PASS' : '**FAIL**',
    ]);
  }
  return table(['target', 'subject', 'vs', 'worst phase (ratio)', 'phases over the limit', 'result'], out);
}

function startupSection(s: StartupResult | undefined): string {
  if (!s) return '_Not measured (--no-startup)._';
  if (s.skipped) return `_Skipped: ${s.skipped}._`;
  return table(
    ['command', `median of ${s.runs} (s)`],
    [
      [`\`${s.command}\``, fmtSeconds(s.avfsSeconds)],
      ['`node -e 0`', fmtSeconds(s.nodeSeconds)],
      ['ratio', `${fmtRatio(s.ratio)} (target < ${s.target}×: ${s.ratio! < s.target ? 'PASS' : 'FAIL'})`],
    ],
  );
}

export function renderMarkdown(res: Results): string {
  const m = res.machine;
  const o = res.options;
  const subjects = res.subjects;
  const mib = (n: number) => `${n} MiB`;
  const first = subjects.find((s) => s.small)?.small;
  const treeShape = first ? `${first.folders} folders × ${Math.ceil(first.files / first.folders)} files` : '';
  const growth = growthTable(subjects);
  const parts = [
    `# agentvfs benchmark`,
    '',
    `${res.date} · ${m.cpu} (${m.cores} cores, ${m.memoryGiB} GiB) · Node ${m.node} · ${m.os} · temp folders in ${m.tmpdir} (${m.tmpFs}, 1 KiB write+fsync ${m.fsyncMs.toFixed(2)} ms) · whole run ${fmtSeconds(res.totalSeconds)} s`,
    '',
    `Options: ${o.files} small files of ${o.bytesPerFile} B, big file ${mib(o.bigMiB)}, batch size ${o.batchFiles}${o.only ? `, only ${o.only.join(',')}` : ''}.`,
    '',
    'Every operation is awaited before the next one starts (one agent, one stream of calls); each subject starts from an empty store in a fresh temporary folder for each workload, after an untimed warm-up pass of every subject on 200 files and a 1 MiB file.',
    '',
    '## Subjects',
    '',
    table(['subject', 'how it writes'], subjects.map((s) => [s.label, s.note])),
    '',
    `## Workload A: ${o.files} files of ${o.bytesPerFile} B`,
    '',
    `Written as a tree (${treeShape}), read back one by one and compared byte for byte, listed folder by folder (\`ls\`: names; \`ls -l\`: names and sizes), then a flat folder of ${o.files} files listed the same way (the flat folder is filled untimed, the fastest way each subject has). Listing phases are the median of ${LIST_REPS} runs (a process's first few listings run before V8 has optimised the code, up to 2-3× slower on agentvfs). Seconds, lower is better.`,
    '',
    timesTable(subjects, 'A'),
    '',
    'Ratios: agentvfs time ÷ reference time (below 1× means agentvfs is faster).',
    '',
    ratioTable(subjects, 'A'),
    '',
    `## Workload B: one ${mib(o.bigMiB)} file`,
    '',
    `Written whole, read back whole (median of ${READ_REPS} reads, each compared), appended with 1 KiB, then one byte in the middle overwritten (agentvfs: vault.writeAt). A single edit takes about a millisecond, so append and overwrite are each the median of ${EDIT_REPS} separate operations (appends one after another; overwrites one chunk apart from the middle on). The whole file is compared again after the edits (untimed). Seconds.`,
    '',
    timesTable(subjects, 'B'),
    '',
    ratioTable(subjects, 'B'),
    '',
    ...(growth
      ? [
          'What the first append and the first overwrite stored (agentvfs): chunks of the new content that the old content did not have, the manifests it did not have (a root and the changed leaf for a file of more than 256 chunks), and the change the engine reports (bytesOnDisk: SQLite reuses its WAL file, so it often does not move; "pages in use": SQLite page_count − freelist_count, LMDB highest page used, which moves only when free pages run out).',
          '',
          growth,
          '',
        ]
      : []),
    '## Targets',
    '',
    'Printed, not asserted. Phase names: A.* small files, B.* big file. The batch target is judged on Workload A only: Workload B has no batch form (a single write or edit is one durable transaction in both agentvfs modes), so its batch rows above compare a fsynced commit with host writes and are shown for information.',
    '',
    targetsTable(res.targets, res.startup),
    '',
    '## Start-up',
    '',
    startupSection(res.startup),
    '',
  ];
  return parts.join('\n');
}
