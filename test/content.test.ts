// Chunked content against a plain Buffer model: random writes at offsets, appends and
// truncations with a tiny chunk size, so every boundary case (holes, growing the last chunk,
// cutting inside a chunk, crossing from one chunk to a manifest, and from a flat manifest to a
// root of leaves) comes up many times.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openMemory } from '../src/storage/memory/engine.js';
import { LEAF_CHUNKS, putContent, readContent, sha256, truncateContent, writeAt, verifyContent, type ContentRef } from '../src/content/chunks.js';
import { isVfsError } from '../src/errors.js';

async function randomEdits(steps: number, scale: number): Promise<number> {
  const engine = await openMemory({ path: '', create: true });
  const CHUNK = 16;
  let model: Buffer = Buffer.alloc(0);
  let ref: ContentRef = await engine.write((tx) => putContent(tx, model, CHUNK));
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let largest = 0;
  for (let step = 0; step < steps; step++) {
    const op = rnd(4);
    if (op === 0) {
      const data = randomBytes(rnd(40 * scale));
      const off = rnd(model.length + 30 * scale);
      ref = await engine.write((tx) => writeAt(tx, ref, off, data, CHUNK));
      const grown = Buffer.alloc(Math.max(model.length, off + data.length));
      model.copy(grown);
      data.copy(grown, off);
      model = grown;
    } else if (op === 1) {
      const data = randomBytes(rnd(50 * scale));
      ref = await engine.write((tx) => writeAt(tx, ref, model.length, data, CHUNK));
      model = Buffer.concat([model, data]);
    } else if (op === 2) {
      const size = rnd(model.length + 40 * scale);
      ref = await engine.write((tx) => truncateContent(tx, ref, size, CHUNK));
      const next = Buffer.alloc(size);
      model.copy(next, 0, 0, Math.min(size, model.length));
      model = next;
    } else {
      const data = randomBytes(rnd(100 * scale));
      ref = await engine.write((tx) => putContent(tx, data, CHUNK));
      model = data;
    }
    assert.equal(ref.size, model.length, `size after step ${step}`);
    largest = Math.max(largest, model.length);
    const all = await engine.read((tx) => readContent(tx, ref, CHUNK));
    assert.ok(all.equals(model), `content after step ${step} (op ${op})`);
    const a = rnd(model.length + 1);
    const b = a + rnd(model.length + 1 - a);
    assert.ok((await engine.read((tx) => readContent(tx, ref, CHUNK, a, b))).equals(model.subarray(a, b)), `range ${a}-${b}`);
    // The same bytes always get the same id, however they were produced.
    const direct = await engine.write((tx) => putContent(tx, model, CHUNK));
    assert.equal(direct.hash, ref.hash, `content id after step ${step}`);
  }
  assert.deepEqual(await engine.read((tx) => verifyContent(tx, ref, CHUNK)), []);
  return largest;
}

it('random writes, appends and truncations read back exactly like a Buffer', async () => {
  await randomEdits(2000, 1);
});

// At 16-byte chunks a leaf of LEAF_CHUNKS chunks is 4 KiB: content of up to ~16 KiB crosses
// from a flat manifest to a root of several leaves and back, with edits at every leaf edge.
it('the same across the leaves of two-level manifests', async () => {
  const largest = await randomEdits(200, 40);
  assert.ok(largest > 2 * LEAF_CHUNKS * 16, `content grew to ${largest} bytes, past two leaves`);
});

// A read copies each chunk into the answer as it comes, so a chunk that is shorter than it
// should be (or gone) must be an error, never a shifted or half-uninitialised answer.
it('a short or missing chunk is ECORRUPT on read, whole or in part', async () => {
  const engine = await openMemory({ path: '', create: true });
  const CHUNK = 16;
  const data = randomBytes(CHUNK * 3 + 5);
  const ref = await engine.write((tx) => putContent(tx, data, CHUNK));
  const middle = data.subarray(CHUNK, 2 * CHUNK);
  const corrupt = (code: string) => (e: unknown) => isVfsError(e) && e.code === code;
  await engine.write((tx) => tx.put('chunks', sha256(middle), middle.subarray(0, 10)));
  await assert.rejects(engine.read((tx) => readContent(tx, ref, CHUNK)), corrupt('ECORRUPT'));
  await assert.rejects(engine.read((tx) => readContent(tx, ref, CHUNK, 20, 40)), corrupt('ECORRUPT'));
  await engine.write((tx) => tx.del('chunks', sha256(middle)));
  await assert.rejects(engine.read((tx) => readContent(tx, ref, CHUNK)), corrupt('ECORRUPT'));
  // The chunks around it still read.
  assert.ok((await engine.read((tx) => readContent(tx, ref, CHUNK, 2 * CHUNK, data.length))).equals(data.subarray(2 * CHUNK)));
});
