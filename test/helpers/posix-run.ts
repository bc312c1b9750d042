// Runs the POSIX cases (posix-cases.ts) in a folder and returns what each observed. Also a
// script, to point at any folder by hand (a mount, a host folder) and diff two outputs:
//
//   node dist/test/helpers/posix-run.js [--only TEXT] [--trace] DIR > out.json
//
// It prints a JSON array, one case per line. --only runs the cases whose name contains TEXT;
// --trace writes each case's name to stderr before running it (which case hung, if one does).
// Sync calls throughout: a case on a FUSE mount must be run from a process other than the one
// serving the mount, which is why the tests run this script as a child process.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASES, closeOpened } from './posix-cases.js';

export interface CaseResult {
  name: string;
  category: string;
  observation: unknown;
}

export interface RunCasesOptions {
  /** Run only the cases whose name contains this text. */
  only?: string;
  /** Called with a case's name before it runs. */
  trace?: (name: string) => void;
}

/**
 * Run the cases in a fresh folder inside `root`, each in its own empty subfolder made the working
 * folder, then remove the folder. A case that throws is observed as `{ threw: CODE, syscall }`.
 */
export function runCases(root: string, opts: RunCasesOptions = {}): CaseResult[] {
  const cases = CASES.filter((k) => opts.only === undefined || k.name.includes(opts.only));
  const start = process.cwd();
  // Creation modes depend on the umask; fix it so every run sees the same modes.
  const umask = process.umask(0o022);
  const run = mkdtempSync(join(resolve(root), 'posix-'));
  const results: CaseResult[] = [];
  try {
    cases.forEach((k, i) => {
      opts.trace?.(k.name);
      const dir = join(run, String(i));
      mkdirSync(dir);
      let observation: unknown;
      try {
        process.chdir(dir);
        observation = k.fn(dir);
      } catch (e) {
        // The failed call too: which step of the case broke is the first question.
        const err = e as NodeJS.ErrnoException;
        observation = { threw: err.code ?? String(err.message ?? e), ...(err.syscall ? { syscall: err.syscall } : {}) };
      } finally {
        closeOpened();
        process.chdir(start);
      }
      // Through JSON now, so `undefined` fields and the like compare as they will be printed.
      results.push({ name: k.name, category: k.category, observation: JSON.parse(JSON.stringify(observation ?? null)) });
    });
  } finally {
    process.chdir(start);
    process.umask(umask);
    try {
      rmSync(run, { recursive: true, force: true });
    } catch (e) {
      // Not an observation (it would hide the cases' own results); loud enough to be noticed.
      process.stderr.write(`posix-run: could not remove ${run}: ${(e as Error).message}\n`);
    }
  }
  return results;
}

/** The script's output: a JSON array with one case per line, so two runs diff line by line. */
export function formatResults(results: readonly CaseResult[]): string {
  return `[\n${results.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`;
}

function main(argv: string[]): number {
  let only: string | undefined;
  let trace = false;
  const dirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only') only = argv[++i];
    else if (argv[i] === '--trace') trace = true;
    else dirs.push(argv[i]);
  }
  if (dirs.length !== 1 || (only === undefined && argv.includes('--only'))) {
    process.stderr.write('usage: node posix-run.js [--only TEXT] [--trace] DIR\n');
    return 2;
  }
  const results = runCases(dirs[0], { only, trace: trace ? (n) => process.stderr.write(`${n}\n`) : undefined });
  process.stdout.write(formatResults(results));
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
