// A model-based test: random operations (some valid, many not) applied both to a real vault
// and to a plain in-memory model of a POSIX tree. After every step the error codes must agree,
// and every few steps the whole tree must be equal, on every engine. Hostile paths ('..' chains,
// '//' runs, control characters, long names) are part of the mix.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forkVault, openVault, type Vault } from '../src/index.js';
import { vaultFactory, ENGINES } from './helpers/vaults.js';

type MNode = { type: 'file'; data: Buffer } | { type: 'directory' };

class Model {
  nodes = new Map<string, MNode>([['/', { type: 'directory' }]]);

  private parentOf(p: string): string {
    const i = p.lastIndexOf('/');
    return i <= 0 ? '/' : p.slice(0, i);
  }
  /** The POSIX error for reaching `p`'s parent, if any. */
  private parentError(p: string): string | undefined {
    const names = p.split('/').filter(Boolean);
    let cur = '';
    for (let i = 0; i < names.length - 1; i++) {
      cur += '/' + names[i];
      const n = this.nodes.get(cur);
      if (!n) return 'ENOENT';
      if (n.type !== 'directory') return 'ENOTDIR';
    }
    return undefined;
  }
  private below(p: string): string[] {
    return [...this.nodes.keys()].filter((k) => k !== p && k.startsWith(p === '/' ? '/' : p + '/'));
  }
  private ensureParents(p: string): string | undefined {
    const names = p.split('/').filter(Boolean);
    let cur = '';
    for (let i = 0; i < names.length - 1; i++) {
      cur += '/' + names[i];
      const n = this.nodes.get(cur);
      if (n && n.type !== 'directory') return 'ENOTDIR';
    }
    cur = '';
    for (let i = 0; i < names.length - 1; i++) {
      cur += '/' + names[i];
      if (!this.nodes.has(cur)) this.nodes.set(cur, { type: 'directory' });
    }
    return undefined;
  }

  write(p: string, data: Buffer, append: boolean): string | undefined {
    const e = this.ensureParentsDry(p);
    if (e) return e;
    const n = this.nodes.get(p);
    if (n?.type === 'directory') return 'EISDIR';
    this.ensureParents(p);
    this.nodes.set(p, { type: 'file', data: append && n?.type === 'file' ? Buffer.concat([n.data, data]) : data });
    return undefined;
  }
  private ensureParentsDry(p: string): string | undefined {
    const names = p.split('/').filter(Boolean);
    let cur = '';
    for (let i = 0; i < names.length - 1; i++) {
      cur += '/' + names[i];
      const n = this.nodes.get(cur);
      if (!n) return undefined;
      if (n.type !== 'directory') return 'ENOTDIR';
    }
    return undefined;
  }
  mkdirp(p: string): string | undefined {
    const names = p.split('/').filter(Boolean);
    let cur = '';
    for (const name of names) {
      cur += '/' + name;
      const n = this.nodes.get(cur);
      if (n && n.type !== 'directory') return 'ENOTDIR';
    }
    cur = '';
    for (const name of names) {
      cur += '/' + name;
      if (!this.nodes.has(cur)) this.nodes.set(cur, { type: 'directory' });
    }
    return undefined;
  }
  rm(p: string): string | undefined {
    const e = this.parentError(p);
    if (e) return e;
    const n = this.nodes.get(p);
    if (!n) return 'ENOENT';
    if (p === '/') return 'EBUSY';
    for (const k of this.below(p)) this.nodes.delete(k);
    this.nodes.delete(p);
    return undefined;
  }
  rename(a: string, b: string): string | undefined {
    const ea = this.parentError(a);
    if (ea) return ea;
    const src = this.nodes.get(a);
    if (!src) return 'ENOENT';
    if (a === '/') return 'EBUSY';
    const eb = this.parentError(b);
    if (eb) return eb;
    if (src.type === 'directory' && (b === a || b.startsWith(a + '/'))) return b === a ? undefined : 'EINVAL';
    const dst = this.nodes.get(b);
    if (dst) {
      if (src.type === 'directory' && dst.type !== 'directory') return 'ENOTDIR';
      if (src.type !== 'directory' && dst.type === 'directory') return 'EISDIR';
      if (dst.type === 'directory' && this.below(b).length > 0) return 'ENOTEMPTY';
    }
    const moved = [a, ...this.below(a)].map((k) => [k, this.nodes.get(k)!] as const);
    if (dst) this.nodes.delete(b);
    for (const [k] of moved) this.nodes.delete(k);
    for (const [k, v] of moved) this.nodes.set(b + k.slice(a.length), v);
    return undefined;
  }
  copy(a: string, b: string): string | undefined {
    const ea = this.parentError(a);
    if (ea) return ea;
    const src = this.nodes.get(a);
    if (!src) return 'ENOENT';
    const eb = this.parentError(b);
    if (eb) return eb;
    if (src.type === 'directory' && (b === a || b.startsWith(a + '/'))) return 'EINVAL';
    const dst = this.nodes.get(b);
    if (dst && b === a) return 'EINVAL';
    if (dst && src.type === 'directory' && dst.type !== 'directory') return 'ENOTDIR';
    if (dst && src.type !== 'directory' && dst.type === 'directory') return 'EISDIR';
    const items = [a, ...this.below(a)].map((k) => [b + k.slice(a.length), this.nodes.get(k)!] as const);
    // A merge that meets a file where a folder goes (or the reverse) fails as a whole.
    for (const [k, v] of items) {
      const existing = this.nodes.get(k);
      if (existing && v.type === 'directory' && existing.type !== 'directory') return 'ENOTDIR';
      if (existing && v.type !== 'directory' && existing.type === 'directory') return 'EISDIR';
    }
    for (const [k, v] of items) {
      const existing = this.nodes.get(k);
      if (existing?.type === 'directory' && v.type === 'directory') continue;
      this.nodes.set(k, v.type === 'file' ? { type: 'file', data: v.data } : v);
    }
    return undefined;
  }
}

/** Deterministic pseudo-random numbers (so a failure can be replayed). */
function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

const NAMES = ['a', 'b', 'c', 'dir', 'x y', 'ünï', '.hidden', 'f.txt'];

function randomPath(r: (n: number) => number): { raw: string; norm: string } {
  const parts: string[] = [];
  const depth = 1 + r(3);
  for (let i = 0; i < depth; i++) parts.push(NAMES[r(NAMES.length)]);
  let raw = '/' + parts.join('/');
  // Sprinkle in what normalisation must absorb: '.', '..', '//' and a trailing '/'.
  if (r(5) === 0) raw = raw.replace('/', '//./');
  if (r(6) === 0) raw = '/../..' + raw;
  if (r(8) === 0) raw = raw + '/x/..';
  const norm = '/' + parts.join('/');
  return { raw, norm };
}

let lastError: unknown;
async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    lastError = e;
    const err = e as { code?: string; message?: string };
    assert.ok(err.code, `error without a code: ${String(e)}`);
    assert.ok(!String(err.message).includes('\n'), 'one-line message');
    return err.code;
  }
}

async function snapshotOf(v: Pick<Vault, 'walk' | 'readFile'>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of v.walk('/')) {
    out.set(e.path, e.stat.type === 'file' ? `file:${(await v.readFile(e.path)).toString('hex')}` : e.stat.type);
  }
  return out;
}

function modelSnapshot(m: Model): Map<string, string> {
  return new Map([...m.nodes].map(([k, v]) => [k, v.type === 'file' ? `file:${v.data.toString('hex')}` : 'directory']));
}

for (const kind of ENGINES) {
  describe(`model-based operations on ${kind}`, () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), `avfs-model-${kind}-`));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    for (const seed of [1, 2, 3]) {
      it(`seed ${seed}: 300 random operations agree with the model`, async () => {
        const d = join(dir, String(seed));
        mkdirSync(d);
        const v = await vaultFactory(kind).create(d);
        const m = new Model();
        const r = rng(seed * 7919);
        try {
          for (let step = 0; step < 300; step++) {
            const a = randomPath(r);
            const b = randomPath(r);
            const data = Buffer.from(`s${step}-`.repeat(r(4) === 0 ? 20_000 : 1 + r(5)));
            let got: string | undefined;
            let want: string | undefined;
            let what = '';
            switch (r(7)) {
              case 0:
              case 1:
                what = `write ${a.raw}`;
                got = await codeOf(v.writeFile(a.raw, data));
                want = m.write(a.norm, data, false);
                break;
              case 2:
                what = `append ${a.raw}`;
                got = await codeOf(v.appendFile(a.raw, data));
                want = m.write(a.norm, data, true);
                break;
              case 3:
                what = `mkdir -p ${a.raw}`;
                got = await codeOf(v.mkdir(a.raw, { recursive: true }));
                want = m.mkdirp(a.norm);
                break;
              case 4:
                what = `rm -r ${a.raw}`;
                got = await codeOf(v.rm(a.raw, { recursive: true }));
                want = m.rm(a.norm);
                break;
              case 5:
                what = `mv ${a.raw} ${b.raw}`;
                got = await codeOf(v.rename(a.raw, b.raw));
                want = m.rename(a.norm, b.norm);
                break;
              default:
                what = `cp -r ${a.raw} ${b.raw}`;
                got = await codeOf(v.copy(a.raw, b.raw, { recursive: true }));
                want = m.copy(a.norm, b.norm);
            }
            if (got !== want) {
              const tree = [...m.nodes].map(([k, n]) => `${k}${n.type === 'directory' ? '/' : ''}`).sort();
              assert.fail(`step ${step}: ${what}: vault says ${got ?? 'ok'} (${(lastError as Error)?.message}), model says ${want ?? 'ok'}; tree before: ${tree.join(' ')}`);
            }
            if (step % 25 === 24) assert.deepEqual(await snapshotOf(v), modelSnapshot(m), `tree after step ${step}`);
          }
          assert.deepEqual(await snapshotOf(v), modelSnapshot(m));
          assert.deepEqual((await v.check()).problems, []);
        } finally {
          await v.close();
        }
      });
    }
  });
}

// The same random operations, with snapshots at random moments: every snapshot, and the tree at
// every operation number seen, must equal the model as it was then, and a restore must bring
// the model's old state back.
for (const kind of ENGINES) {
  describe(`model-based history on ${kind}`, () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), `avfs-model-hist-${kind}-`));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    for (const seed of [11, 12]) {
      it(`seed ${seed}: snapshots, --at views and restores agree with the model`, async () => {
        const d = join(dir, String(seed));
        mkdirSync(d);
        const v = await vaultFactory(kind).create(d);
        let m = new Model();
        const r = rng(seed * 104729);
        const snaps = new Map<string, Map<string, string>>();
        const atSeq = new Map<number, Map<string, string>>();
        const clone = (x: Model): Model => {
          const c = new Model();
          c.nodes = new Map([...x.nodes].map(([k, n]) => [k, n.type === 'file' ? { type: 'file', data: n.data } : n]));
          return c;
        };
        const snapModels = new Map<string, Model>();
        try {
          for (let step = 0; step < 200; step++) {
            const a = randomPath(r);
            const b = randomPath(r);
            const data = Buffer.from(`h${step}-`.repeat(1 + r(5)));
            const op = r(10);
            if (op === 0) {
              const name = `s${step}`;
              await v.saveSnapshot(name);
              snaps.set(name, modelSnapshot(m));
              snapModels.set(name, clone(m));
              continue;
            }
            if (op === 1 && snapModels.size > 0) {
              const names = [...snapModels.keys()];
              const name = names[r(names.length)];
              await v.restoreSnapshot(name);
              m = clone(snapModels.get(name)!);
              assert.deepEqual(await snapshotOf(v), modelSnapshot(m), `after restoring ${name} at step ${step}`);
              continue;
            }
            if (op < 5) await codeOf(v.writeFile(a.raw, data)).then(() => m.write(a.norm, data, false));
            else if (op === 5) await codeOf(v.mkdir(a.raw, { recursive: true })).then(() => m.mkdirp(a.norm));
            else if (op === 6) await codeOf(v.rm(a.raw, { recursive: true })).then(() => m.rm(a.norm));
            else if (op === 7) await codeOf(v.rename(a.raw, b.raw)).then(() => m.rename(a.norm, b.norm));
            else await codeOf(v.copy(a.raw, b.raw, { recursive: true })).then(() => m.copy(a.norm, b.norm));
            if (step % 7 === 0) atSeq.set((await v.audit({ limit: 1 }))[0].seq, modelSnapshot(m));
          }
          for (const [name, want] of snaps) assert.deepEqual(await snapshotOf(await v.at(name)), want, `snapshot ${name}`);
          for (const [seq, want] of atSeq) assert.deepEqual(await snapshotOf(await v.at(seq)), want, `--at ${seq}`);
          assert.deepEqual((await v.check()).problems, []);
          // A fork at a snapshot starts as that snapshot's tree (same engine, and onto sqlite).
          const names = [...snaps.keys()];
          if (names.length > 0) {
            const name = names[r(names.length)];
            // A fork to a path is a local store: memory and postgres vaults fork onto sqlite there.
            for (const backend of kind === 'memory' || kind === 'postgres' ? ['sqlite'] : [kind, kind === 'sqlite' ? 'lmdb' : 'sqlite']) {
              const dst = join(d, `fork-${backend}.${backend === 'sqlite' ? 'avfs' : 'lmdb'}`);
              await forkVault(kind === 'memory' ? v : v.path, dst, { at: name, backend, home: join(d, 'home') });
              const fork = await openVault(dst, { home: join(d, 'home') });
              try {
                assert.deepEqual(await snapshotOf(fork), snaps.get(name), `fork at ${name} onto ${backend}`);
                assert.deepEqual((await fork.check()).problems, []);
              } finally {
                await fork.close();
              }
            }
          }
        } finally {
          await v.close();
        }
      });
    }
  });
}
