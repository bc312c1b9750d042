// Bundles the CLI into dist/cli/: one main file plus a chunk per lazily loaded part (each
// command, each engine). Start-up time is a measured target, and Node spends most of a short
// command loading modules one by one; a bundle loads a handful. The library (dist/src) stays
// as tsc emits it. Native packages (better-sqlite3, lmdb) stay outside the bundle.
import { build } from 'esbuild';
import { renameSync, rmSync } from 'node:fs';

// Built beside dist/cli and swapped in with renames, so a test run that is using dist/cli while
// another build runs never finds it half written.
const out = new URL('../dist/cli', import.meta.url);
const fresh = new URL(`../dist/cli.new-${process.pid}`, import.meta.url);
const old = new URL(`../dist/cli.old-${process.pid}`, import.meta.url);
rmSync(fresh, { recursive: true, force: true });
await build({
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: `dist/cli.new-${process.pid}`,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'lmdb', 'fuse-native', 'pg', '@nxtedition/rocksdb'],
  logLevel: 'warning',
  legalComments: 'none',
});
try {
  renameSync(out, old);
} catch {
  // no earlier build
}
renameSync(fresh, out);
rmSync(old, { recursive: true, force: true });
