// Crash safety: a child writes to a real vault and is killed with SIGKILL at a random moment;
// the vault must then open, pass `vault check`, hold every write the child saw return, and
// hold no torn write (every file present has one of the contents it could legitimately have).
// 200 kills on log and on rocksdb, 50 on sqlite and on lmdb (500 in all), five or ten per vault
// so each check stays small (the check after every kill reads the whole vault: it is most of a
// round's cost).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createVault, openVault } from '../src/index.js';
import { contentFor } from './children/content.js';
import { ROCKS_SKIP, STORE_NAME } from './helpers/vaults.js';

const WRITER = join(dirname(fileURLToPath(import.meta.url)), 'children', 'writer.js');
/**
 * Vaults and kills per vault. Our own engine gets the most: its recovery is ours to prove; so does
 * rocksdb, whose handover between processes is ours. On sqlite and lmdb the engine's own recovery
 * is theirs and our commit path is the one the others share, so fewer kills there keep the file
 * (the longest of the suite) within the CI budget.
 */
const PLAN: Record<string, { vaults: number; kills: number }> = {
  sqlite: { vaults: 10, kills: 5 },
  lmdb: { vaults: 10, kills: 5 },
  log: { vaults: 20, kills: 10 },
  rocksdb: { vaults: 20, kills: 10 },
};

interface Run {
  acked: string[];
  appended: Set<string>;
}

/** Start the writer, kill it after `delayMs`, and return what it acknowledged. */
function runAndKill(vaultPath: string, prefix: string, delayMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, vaultPath, prefix, '60', 'mixed'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL' && code !== 0) return reject(new Error(`writer failed (${code}): ${err}`));
      const lines = out.split('\n');
      lines.pop(); // a line cut by the kill is not an acknowledgement
      const run: Run = { acked: [], appended: new Set() };
      for (const l of lines) {
        if (l.startsWith('ack ')) run.acked.push(l.slice(4));
        else if (l.startsWith('append ')) run.appended.add(l.slice(7));
      }
      resolve(run);
    });
  });
}

/**
 * How long the writer takes to acknowledge its first write on this machine (start-up, imports,
 * opening the vault): on a busy machine that alone can exceed a fixed kill window, and a test
 * whose every kill lands before the first write proves nothing. Measured, never asserted.
 */
function firstAckMs(vaultPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [WRITER, vaultPath, 'warm', '60', 'mixed'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let ms = 0;
    child.stdout.once('data', () => {
      ms = Date.now() - t0;
      child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', () => resolve(ms || Date.now() - t0));
  });
}

/** Every content a file of this name may legitimately hold after a crash. */
function allowed(name: string): Buffer[] {
  const base = name.endsWith('.moved') ? name.slice(0, -'.moved'.length) : name;
  if (/\/b\d+-\d$/.test(base)) return [contentFor(base)];
  const first = contentFor(base, true);
  return [first, Buffer.concat([first, contentFor(base + '+')])];
}

function expected(name: string, run: Run): Buffer {
  const base = name.endsWith('.moved') ? name.slice(0, -'.moved'.length) : name;
  if (/\/b\d+-\d$/.test(base)) return contentFor(base);
  const first = contentFor(base, true);
  return run.appended.has(base) ? Buffer.concat([first, contentFor(base + '+')]) : first;
}

for (const kind of ['sqlite', 'lmdb', 'log', ...(ROCKS_SKIP ? [] : (['rocksdb'] as const))] as const) {
  describe(`crash safety on ${kind}`, () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), `avfs-crash-${kind}-`));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it(`survives ${PLAN[kind].vaults * PLAN[kind].kills} SIGKILLs with every acknowledged write intact`, async (t) => {
      let acked = 0;
      let startup = 0;
      for (let vi = 0; vi < PLAN[kind].vaults; vi++) {
        const path = join(dir, `${vi}-${STORE_NAME[kind]}`);
        await (await createVault(path, { backend: kind, home: join(dir, 'home') })).close();
        if (vi === 0) startup = await firstAckMs(path);
        for (let k = 0; k < PLAN[kind].kills; k++) {
          const prefix = `it${k}`;
          // From "still starting up" to "well into the writes".
          const run = await runAndKill(path, prefix, 30 + Math.floor(Math.random() * (400 + startup)));
          acked += run.acked.length;
          const v = await openVault(path, { home: join(dir, 'home') });
          try {
            const check = await v.check();
            assert.deepEqual(check.problems, [], `vault ${vi} after kill ${k}`);
            for (const name of run.acked) {
              const got = await v.readFile(name).catch((e) => assert.fail(`${name} acknowledged but ${e.code}`));
              assert.ok(got.equals(expected(name, run)), `${name}: wrong content after crash`);
            }
            if (await v.exists(`/${prefix}`)) {
              for (const e of await v.readdir(`/${prefix}`)) {
                const name = `/${prefix}/${e.name}`;
                const got = await v.readFile(name);
                assert.ok(allowed(name).some((a) => a.equals(got)), `${name}: torn write (${got.length} bytes)`);
              }
            }
          } finally {
            await v.close();
          }
        }
      }
      t.diagnostic(`${acked} acknowledged writes checked after ${PLAN[kind].vaults * PLAN[kind].kills} kills (first write acknowledged after ${startup} ms)`);
      assert.ok(acked > 0, 'the writer acknowledged some writes before being killed');
    });
  });
}
