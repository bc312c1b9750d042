// Bundles the CLI into dist/cli/: one main file plus a chunk per lazily loaded part (each
// command, each engine). Start-up time is a measured target, and Node spends most of a short
// command loading modules one by one; a bundle loads a handful. The library (dist/src) stays
// as tsc emits it. Native packages (better-sqlite3, lmdb) stay outside the bundle.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync(new URL('../dist/cli', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'lmdb'],
  logLevel: 'warning',
  legalComments: 'none',
});
