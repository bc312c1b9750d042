// The search and grep benchmarks' corpus: text none of us wrote, on every Debian machine: the
// documentation and the C headers the system installs (/usr/share/doc, /usr/include; about
// 12,000 files and 250 MB here, of which ~1,700 gzip files that are binary to us).
import { cpSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Vault } from '../src/index.js';
import { now } from './timing.js';

/** Host folder -> where it goes in the vault. */
export const CORPUS: [string, string][] = [
  ['/usr/share/doc', '/doc'],
  ['/usr/include', '/include'],
];

export interface ImportTiming {
  seconds: number;
  files: number;
  bytes: number;
}

/** Import the corpus with the library's import (batches of files per transaction). */
export async function importCorpus(v: Vault): Promise<ImportTiming> {
  const t0 = now();
  let files = 0;
  let bytes = 0;
  for (const [host, at] of CORPUS) {
    const r = await v.importFrom(host, at, { recursive: true });
    files += r.files;
    bytes += r.bytes;
  }
  return { seconds: now() - t0, files, bytes };
}

/** The same trees copied on the host (cp -r through Node), for scale. */
export function hostCopySeconds(): number {
  const dir = mkdtempSync(join(tmpdir(), 'avfs-bench-hostcopy-'));
  try {
    const t0 = now();
    for (const [host, at] of CORPUS) cpSync(host, join(dir, at), { recursive: true, verbatimSymlinks: true });
    return now() - t0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Export the vault's copy of the corpus to a fresh host folder (for rg and GNU grep). */
export async function exportCorpus(v: Vault): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'avfs-bench-export-')), 'vault');
  // The whole vault at once: the docs hold symlinks into sibling trees, which export refuses
  // when they point outside the folder being exported.
  await v.exportTo('/', dir, { recursive: true });
  return dir;
}

/** The corpus's text files, read from the host (for drawing queries from its own words). */
export function corpusTexts(maxBytes = 64 * 1024 * 1024): string[] {
  const out: string[] = [];
  let total = 0;
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const n of names) {
      if (total >= maxBytes) return;
      const p = join(dir, n);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && st.size > 0 && st.size < 1024 * 1024) {
        const b = readFileSync(p);
        if (b.includes(0)) continue;
        out.push(b.toString('utf8'));
        total += b.length;
      }
    }
  };
  for (const [host] of CORPUS) walk(host);
  return out;
}
