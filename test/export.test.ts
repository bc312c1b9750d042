// Export on every engine (test/suites/export.suite.ts), and the round trip of a large real host
// tree: import -r then export -r gives back the same tree (bytes, symlinks verbatim, modes,
// mtimes), checked with diff -r --no-dereference and find's list of links.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSuite } from './suites/export.suite.js';
import { ENGINES, vaultFactory } from './helpers/vaults.js';

for (const kind of ENGINES) exportSuite(vaultFactory(kind));

const TREE = '/usr/share/doc';

function links(root: string): string {
  const r = spawnSync('find', ['.', '-type', 'l', '-printf', '%p %l\\n'], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').sort().join('\n');
}

/** path -> type, mode and mtime (ms) of every entry below root, from lstat. */
function entries(root: string, rel = '', out = new Map<string, { type: string; mode: number; mtimeMs: number }>()): typeof out {
  const st = lstatSync(rel === '' ? root : join(root, rel));
  const type = st.isSymbolicLink() ? 'l' : st.isDirectory() ? 'd' : st.isFile() ? 'f' : 'other';
  out.set(rel, { type, mode: type === 'l' ? 0 : st.mode & 0o7777, mtimeMs: st.mtimeMs });
  if (type === 'd') for (const n of readdirSync(rel === '' ? root : join(root, rel))) entries(root, rel === '' ? n : join(rel, n), out);
  return out;
}

for (const kind of ENGINES.filter((k) => k !== 'memory')) {
  describe(`import -> export round trip of ${TREE} on ${kind}`, { skip: existsSync(TREE) ? false : `no ${TREE} on this machine` }, () => {
    let dir = '';
    before(() => {
      dir = mkdtempSync(join(tmpdir(), `avfs-roundtrip-${kind}-`));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('gives back the same tree', async () => {
      const v = await vaultFactory(kind).create(dir);
      try {
        const imp = await v.importFrom(TREE, '/doc', { recursive: true });
        assert.ok(imp.files > 100, `a large tree (${imp.files} files)`);
        const out = join(dir, 'out');
        const exp = await v.exportTo('/doc', out, { recursive: true });
        assert.deepEqual([exp.files, exp.dirs, exp.symlinks, exp.bytes], [imp.files, imp.dirs, imp.symlinks, imp.bytes]);
        const d = spawnSync('diff', ['-r', '--no-dereference', TREE, out], { encoding: 'utf8', maxBuffer: 1 << 26 });
        assert.equal(d.status, 0, `diff -r: ${d.stdout.slice(0, 2000)}${d.stderr}`);
        assert.equal(links(out), links(TREE));
        const want = entries(TREE);
        const got = entries(out);
        assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
        for (const [p, w] of want) {
          const g = got.get(p)!;
          assert.deepEqual([g.type, g.mode], [w.type, w.mode], `${p}: type and mode`);
          assert.ok(Math.abs(g.mtimeMs - w.mtimeMs) < 1, `${p}: mtime ${g.mtimeMs} vs ${w.mtimeMs}`);
        }
      } finally {
        await v.close();
      }
    });
  });
}
