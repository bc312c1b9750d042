// Several processes writing one vault at once: 4 writers × 500 files, each file its own
// transaction, all into the same folder (so every write also updates that folder). All 2,000
// files must be there and intact, no writer may fail, and no "locked"/"busy" may reach anyone.
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
const WRITERS = 4;
const FILES = 500;

function run(vaultPath: string, prefix: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, vaultPath, prefix, String(FILES), 'shared'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

for (const kind of ['sqlite', 'lmdb', 'log', ...(ROCKS_SKIP ? [] : (['rocksdb'] as const))] as const) {
  describe(`concurrent writers on ${kind}`, () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), `avfs-conc-${kind}-`));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it(`${WRITERS} processes × ${FILES} files all land, with no busy errors`, async () => {
      const path = join(dir, STORE_NAME[kind]);
      await (await createVault(path, { backend: kind, home: join(dir, 'home') })).close();
      const results = await Promise.all(Array.from({ length: WRITERS }, (_, k) => run(path, `w${k}`)));
      for (const r of results) {
        assert.equal(r.stderr, '', 'a writer printed an error');
        assert.doesNotMatch(r.stdout + r.stderr, /locked|busy/i);
        assert.equal(r.code, 0);
        assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('ack ')).length, FILES);
      }
      const v = await openVault(path, { home: join(dir, 'home') });
      try {
        const names = (await v.readdir('/shared')).map((e) => e.name);
        assert.equal(names.length, WRITERS * FILES);
        for (let k = 0; k < WRITERS; k++) {
          for (let i = 0; i < FILES; i++) {
            const name = `/shared/w${k}-f${i}`;
            assert.ok((await v.readFile(name)).equals(contentFor(name)), `${name} intact`);
          }
        }
        assert.deepEqual((await v.check()).problems, []);
      } finally {
        await v.close();
      }
    });
  });
}
