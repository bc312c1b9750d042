// Restoring a 10,000-file snapshot is atomic: a SIGKILL in the middle leaves the old tree or the
// new one, never a mix, and the vault opens and passes its check.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createVault, openVault } from '../src/index.js';
import { ENGINES, storeRef } from './helpers/vaults.js';

const RESTORER = join(dirname(fileURLToPath(import.meta.url)), 'children', 'restorer.js');
const FILES = 10_000;
/**
 * Kills per engine. Four on sqlite and lmdb; two on the others, whose rounds cost more (each
 * round reopens, diffs 10,000 files and checks the vault) and whose commit paths the 200-kill
 * crash test already covers: the suite must stay within the CI budget. A kill lands 20-1,520 ms
 * into a restore that takes about 2 s, so nearly every round kills one mid-way (the diagnostic
 * counts them).
 */
const KILLS: Record<string, number> = { sqlite: 4, lmdb: 4, log: 2, rocksdb: 2, postgres: 2 };

/** A diff between the tree and a point in time that finds nothing. */
const same = (d: { added: unknown[]; removed: unknown[]; changed: unknown[] }): boolean => d.added.length + d.removed.length + d.changed.length === 0;

function restoreAndKill(path: string, snapshot: string, delayMs: number): Promise<{ finished: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RESTORER, path, snapshot], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d) => {
      out += d;
      // Kill a while after the restore started, so the kill lands inside its transaction.
      if (timer === undefined && out.includes('started')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL' && code !== 0) return reject(new Error(`restorer failed (${code}): ${err}`));
      resolve({ finished: out.includes('restored') });
    });
  });
}

// Every engine a process can die on (postgres: the server rolls the dead client's transaction back).
for (const kind of ENGINES.filter((k) => k !== 'memory')) {
  describe(`snapshot restore under SIGKILL on ${kind}`, () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), `avfs-restore-${kind}-`));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it(`leaves the old or the new ${FILES}-file tree, never a mix`, async (t) => {
      const path = storeRef(kind, dir);
      const v = await createVault(path, { backend: kind, home: join(dir, 'home') });
      for (let k = 0; k < FILES; k += 1000) {
        await v.batch(async (b) => {
          for (let i = k; i < k + 1000; i++) await b.writeFile(`/data/d${i % 100}/f${i}`, `A${i}`);
        });
      }
      await v.saveSnapshot('A');
      await v.rm('/data', { recursive: true });
      for (let k = 0; k < FILES; k += 1000) {
        await v.batch(async (b) => {
          for (let i = k; i < k + 1000; i++) await b.writeFile(`/other/d${i % 100}/g${i}`, `B${i}`);
        });
      }
      await v.saveSnapshot('B');
      await v.close();
      let finished = 0;
      let killed = 0;
      for (let k = 0; k < KILLS[kind]; k++) {
        const r = await restoreAndKill(path, 'A', 20 + Math.floor(Math.random() * 1500));
        const w = await openVault(path, { home: join(dir, 'home') });
        try {
          const toA = await w.diffPoints('A');
          const isA = same(toA);
          // A and B share no file, so a tree that is A is not B: the second diff only when needed.
          const isB = !isA && same(await w.diffPoints('B'));
          assert.ok(isA || isB, `after kill ${k}: the tree is exactly A or exactly B (A: ${JSON.stringify(toA).slice(0, 200)})`);
          assert.equal(isA, r.finished || isA, 'a restore that reported success left A');
          if (r.finished) assert.ok(isA);
          assert.deepEqual((await w.check()).problems, []);
          if (isA) {
            finished++;
            await w.restoreSnapshot('B'); // back to B for the next round
          } else killed++;
        } finally {
          await w.close();
        }
      }
      t.diagnostic(`${killed} restores killed mid-way (tree stayed B), ${finished} completed`);
    });
  });
}
