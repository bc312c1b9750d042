// Two-level manifests (src/content/chunks.ts): content of more than LEAF_CHUNKS chunks is named
// by a root listing leaf manifests. Range reads and edits across leaf edges, the manifests an
// edit stores, old flat manifests still read and edited, gc keeping (and later dropping) the
// leaves, check finding a missing one, and a fork into another engine carrying them. Takes a
// factory and runs unchanged on every engine.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forkVault, openVault, type Vault } from '../../src/index.js';
import type { VaultFactory } from './fs.suite.js';
import { scan } from '../../src/storage/contract.js';
import { LEAF_CHUNKS, ROOT_TAG, manifestParts, parseManifest, putChunks } from '../../src/content/chunks.js';
import * as core from '../../src/core/fs.js';
import { withWrite } from '../../src/core/scope.js';
import { code } from '../helpers/errors.js';
import { freshVaults } from '../helpers/vaults.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest();

async function manifestKeys(v: Vault): Promise<Set<string>> {
  return v.engine.read(async (tx) => {
    const out = new Set<string>();
    for await (const e of scan(tx, 'manifests')) out.add(e.key.toString('hex'));
    return out;
  });
}

async function rootOf(v: Vault, path: string): Promise<{ raw: Buffer; leaves: Buffer[] }> {
  const st = await v.stat(path);
  return v.engine.read(async (tx) => {
    const raw = (await tx.get('manifests', Buffer.from(st.hash!, 'hex')))!;
    const m = parseManifest(raw, st.hash!);
    return { raw, leaves: m.kind === 'root' ? m.leaves : [] };
  });
}

export function manifestsSuite(f: VaultFactory): void {
  describe(`two-level manifests [${f.kind}]`, () => {
    const vaults = freshVaults(f, 'avfs-manifests');
    let cs = 0;
    let edge = 0; // the first byte of the second leaf
    let model: Buffer;

    async function bigVault(chunks = LEAF_CHUNKS + 10): Promise<Vault> {
      const v = await vaults.fresh();
      cs = v.record.chunkSize;
      edge = LEAF_CHUNKS * cs;
      model = randomBytes(chunks * cs - 123);
      await v.writeFile('/big.bin', model);
      return v;
    }

    it('content over one leaf is named by a root of leaves; range reads cross the leaf edge', async () => {
      const v = await bigVault();
      const { raw, leaves } = await rootOf(v, '/big.bin');
      assert.ok(raw.subarray(0, ROOT_TAG.length).equals(ROOT_TAG), 'a root manifest');
      assert.equal(leaves.length, 2);
      assert.equal((await v.stat('/big.bin')).hash, sha(raw).toString('hex'), "the file's id is its root's hash");
      for (const [a, b] of [
        [edge - 5, edge + 5],
        [edge - cs, edge + cs],
        [edge, edge + 1],
        [edge - 1, edge],
        [0, model.length],
        [model.length - 70_000, model.length],
      ]) {
        assert.ok((await v.readFile('/big.bin', { start: a, end: b })).equals(model.subarray(a, b)), `range ${a}-${b}`);
      }
      const parts: Buffer[] = [];
      for await (const p of v.readStream('/big.bin', { start: edge - 3, end: edge + 2 * cs })) parts.push(p);
      assert.ok(Buffer.concat(parts).equals(model.subarray(edge - 3, edge + 2 * cs)), 'a streamed range across the edge');
      // The same bytes written again, another way, get the same id.
      await v.writeStream('/copy.bin', (async function* () {
        for (let o = 0; o < model.length; o += 100_000) yield model.subarray(o, o + 100_000);
      })());
      assert.equal((await v.stat('/copy.bin')).hash, (await v.stat('/big.bin')).hash);
    });

    it('an overwrite stores one chunk, one leaf and a root; edits at chunk and leaf edges read back', async () => {
      const v = await bigVault();
      const before = await manifestKeys(v);
      const chunksBefore = (await v.stats()).entries.chunks;
      model[edge + 7] ^= 0xff;
      await v.writeAt('/big.bin', edge + 7, model.subarray(edge + 7, edge + 8));
      const added = [...(await manifestKeys(v))].filter((k) => !before.has(k));
      assert.equal(added.length, 2, 'one new leaf and one new root');
      const { leaves } = await rootOf(v, '/big.bin');
      assert.ok(added.includes(leaves[1].toString('hex')) && !added.includes(leaves[0].toString('hex')), 'the untouched leaf is shared');
      if (chunksBefore !== undefined) assert.equal((await v.stats()).entries.chunks, chunksBefore + 1, 'one new chunk');

      for (const [off, len] of [
        [edge - 1, 2], // across the leaf edge
        [edge - cs, cs], // exactly the last chunk of the first leaf
        [cs - 1, 2], // across a chunk edge inside a leaf
        [0, 1],
        [model.length - 1, 1],
      ]) {
        const data = randomBytes(len);
        data.copy(model, off);
        await v.writeAt('/big.bin', off, data);
      }
      assert.ok((await v.readFile('/big.bin')).equals(model));
      const direct = await v.writeFile('/direct.bin', model);
      assert.equal((await v.stat('/big.bin')).hash, direct.hash, 'edited content has the id of the same bytes written whole');
      assert.deepEqual((await v.check()).problems, []);
    });

    it('truncate and extend across leaves; back under one leaf the manifest is flat again', async () => {
      const v = await bigVault(LEAF_CHUNKS * 2 + 3);
      const sizes = [edge * 2 + 5, edge + 3, edge, edge - 3, 3 * cs + 1, edge * 2 + 2 * cs + 9];
      for (const size of sizes) {
        await v.truncate('/big.bin', size);
        const next = Buffer.alloc(size);
        model.copy(next, 0, 0, Math.min(size, model.length));
        model = next;
        assert.ok((await v.readFile('/big.bin')).equals(model), `content at ${size} bytes`);
        assert.ok((await v.readFile('/big.bin', { start: edge - 2, end: edge + 2 })).equals(model.subarray(edge - 2, edge + 2)), `edge at ${size} bytes`);
        const { raw } = await rootOf(v, '/big.bin');
        const chunks = Math.ceil(size / cs);
        assert.equal(raw.subarray(0, ROOT_TAG.length).equals(ROOT_TAG), chunks > LEAF_CHUNKS, `manifest kind at ${chunks} chunks`);
        assert.equal((await v.writeFile('/direct.bin', model)).hash, (await v.stat('/big.bin')).hash, `id at ${size} bytes`);
      }
      // Appends that cross into a new leaf.
      const tail = randomBytes(2 * cs);
      await v.truncate('/big.bin', edge - cs);
      model = Buffer.concat([model.subarray(0, edge - cs), tail]);
      await v.appendFile('/big.bin', tail);
      assert.ok((await v.readFile('/big.bin')).equals(model));
      assert.equal((await rootOf(v, '/big.bin')).leaves.length, 2);
      assert.deepEqual((await v.check()).problems, []);
    });

    it('a flat manifest of a big file (written before roots existed) still reads, edits and checks', async () => {
      const v = await vaults.fresh();
      cs = v.record.chunkSize;
      edge = LEAF_CHUNKS * cs;
      model = randomBytes((LEAF_CHUNKS + 4) * cs + 77);
      // Stored the old way, straight through the engine: one flat list of every chunk's hash.
      const flatId = await withWrite(v.engine, { chunkSize: cs, actor: 'test' }, async (s) => {
        const parts: Buffer[] = [];
        for (let o = 0; o < model.length; o += cs) parts.push(model.subarray(o, o + cs));
        const hashes = await putChunks(s.tx, parts);
        const list = Buffer.concat(hashes);
        const id = sha(list);
        await s.tx.put('manifests', id, list);
        await core.setContent(s, '/old.bin', { hash: id.toString('hex'), size: model.length });
        return id.toString('hex');
      });
      assert.equal((await v.stat('/old.bin')).hash, flatId);
      assert.ok((await v.readFile('/old.bin')).equals(model));
      assert.ok((await v.readFile('/old.bin', { start: edge - 9, end: edge + 9 })).equals(model.subarray(edge - 9, edge + 9)));
      assert.deepEqual((await v.check()).problems, []);
      await v.gc();
      assert.ok((await v.readFile('/old.bin')).equals(model), 'gc keeps the flat manifest');
      // An edit writes the new kind.
      model[5] ^= 1;
      await v.writeAt('/old.bin', 5, model.subarray(5, 6));
      assert.ok((await v.readFile('/old.bin')).equals(model));
      assert.equal((await rootOf(v, '/old.bin')).leaves.length, 2);
      assert.equal((await v.readVersion('/old.bin', 1)).data[5], model[5] ^ 1, 'the old version still reads');
      assert.deepEqual((await v.check()).problems, []);
    });

    it('gc keeps leaves a kept version names, and drops them once nothing does', async () => {
      const v = await bigVault();
      model[3] ^= 1;
      await v.writeAt('/big.bin', 3, model.subarray(3, 4));
      const v1 = await rootOf(v, '/big.bin');
      const r = await v.gc();
      assert.equal(r.manifests.removed, 0);
      assert.ok((await v.readVersion('/big.bin', 1)).data.subarray(0, 10).equals(Buffer.from([...model.subarray(0, 10)].map((b, i) => (i === 3 ? b ^ 1 : b)))));
      assert.ok((await v.readFile('/big.bin')).equals(model));
      assert.deepEqual((await v.check()).problems, []);
      const keys = await manifestKeys(v);
      for (const l of v1.leaves) assert.ok(keys.has(l.toString('hex')), 'a leaf of the current root is kept');

      await v.writeFile('/big.bin', 'small now');
      await v.prune({ keep: 1 });
      const r2 = await v.gc();
      assert.ok(r2.manifests.removed >= 4, `two roots and their leaves removed (got ${r2.manifests.removed})`);
      assert.equal((await manifestKeys(v)).size, 0);
    });

    it('check finds a missing leaf; the other leaf still reads', async () => {
      const v = await bigVault();
      const { leaves } = await rootOf(v, '/big.bin');
      await v.engine.write((tx) => tx.del('manifests', leaves[1]));
      const c = await v.check();
      assert.equal(c.ok, false);
      assert.ok(c.problems.some((p) => p.includes(`leaf ${leaves[1].toString('hex').slice(0, 12)} is missing`)), c.problems.join('\n'));
      assert.equal(await code(v.readFile('/big.bin', { start: edge, end: edge + 1 })), 'ECORRUPT');
      assert.ok((await v.readFile('/big.bin', { start: 0, end: 100 })).equals(model.subarray(0, 100)));
      // gc counts what it cannot follow and keeps what it can.
      await v.gc();
      assert.ok((await v.readFile('/big.bin', { start: edge - 100, end: edge })).equals(model.subarray(edge - 100, edge)));
    });

    describe('fork into another engine', () => {
      let dir = '';
      before(() => {
        dir = mkdtempSync(join(tmpdir(), `avfs-manifests-fork-${f.kind}-`));
      });
      after(() => rmSync(dir, { recursive: true, force: true }));

      it('carries the leaves of the content it keeps', async () => {
        const v = await bigVault();
        model[edge + 1] ^= 1;
        await v.writeAt('/big.bin', edge + 1, model.subarray(edge + 1, edge + 2));
        const backend = f.kind === 'sqlite' ? 'lmdb' : 'sqlite';
        const home = join(dir, 'home');
        const r = await forkVault(v, join(dir, backend === 'lmdb' ? 'fork.lmdb' : 'fork.avfs'), { home, backend });
        const g = await openVault(r.path, { home });
        try {
          assert.ok((await g.readFile('/big.bin')).equals(model));
          assert.deepEqual((await g.check()).problems, []);
          const id = Buffer.from((await v.stat('/big.bin')).hash!, 'hex');
          assert.equal((await g.stat('/big.bin')).hash, id.toString('hex'));
          const want = await v.engine.read(async (tx) => (await manifestParts(tx, id)).manifests.length);
          const got = await g.engine.read(async (tx) => (await manifestParts(tx, id)).manifests.length);
          assert.equal(got, want);
          assert.equal(got, 3, 'a root and its two leaves');
          const first = await g.readVersion('/big.bin', 1);
          assert.equal(first.data[edge + 1], model[edge + 1] ^ 1, 'the version before the edit, with its own leaf');
        } finally {
          await g.close();
        }
      });
    });
  });
}
