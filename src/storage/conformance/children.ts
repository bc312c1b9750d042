// Child processes for the conformance suite: small scripts written into the test's folder that
// open the store through the engine registry in dist/, exactly as another avfs process would.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { EngineKind } from '../contract.js';

const ENGINES_URL = new URL('../engines.js', import.meta.url).href;

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Write `body` as an ES module that has `openEngine`, `kind`, `storePath` and `args` in scope. */
export function writeScript(dir: string, name: string, body: string): string {
  const file = path.join(dir, `${name}.mjs`);
  fs.writeFileSync(
    file,
    `import { openEngine } from ${JSON.stringify(ENGINES_URL)};\n` +
      `const [kind, storePath, ...args] = process.argv.slice(2);\n` +
      body,
  );
  return file;
}

export function runChild(script: string, kind: EngineKind, storePath: string, args: string[] = [], timeoutMs = 120_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, kind, storePath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A child that keeps running: resolves `ready` once it printed `marker` on stdout. */
export function startChild(script: string, kind: EngineKind, storePath: string, marker: string) {
  const child = spawn(process.execPath, [script, kind, storePath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const done = new Promise<ChildResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes(marker)) resolve();
    });
    child.stderr.on('data', (d) => (stderr += d));
    void done.then((r) => reject(new Error(`child exited before "${marker}": ${r.stderr}`)));
  });
  ready.catch(() => {});
  return { child, ready, done };
}

/** Puts a value, says so, and then waits forever inside its write transaction. */
export const STUCK_IN_WRITE_SCRIPT = `
const e = await openEngine(kind, { path: storePath, create: false });
setInterval(() => {}, 1000);
await e.write(async (tx) => {
  await tx.put('meta', Buffer.from('ghost'), Buffer.from('boo'));
  console.log('inside');
  await new Promise(() => {});
});
`;

/** Each run: args[0] increments of one counter in meta, each a read-modify-write transaction. */
export const COUNTER_SCRIPT = `
const key = Buffer.from('counter');
const e = await openEngine(kind, { path: storePath, create: false });
for (let i = 0; i < Number(args[0]); i++) {
  await e.write(async (tx) => {
    const v = await tx.get('meta', key);
    const n = v === undefined ? 0 : v.readUInt32BE(0);
    await new Promise((r) => setImmediate(r));
    const out = Buffer.alloc(4);
    out.writeUInt32BE(n + 1);
    await tx.put('meta', key, out);
  });
}
await e.close();
`;

/** Write args[1] values of args[2] bytes under keys named after args[0], one transaction each. */
export const BIG_WRITES_SCRIPT = `
const e = await openEngine(kind, { path: storePath, create: false });
for (let i = 0; i < Number(args[1]); i++) {
  const key = Buffer.from(args[0] + '-' + i);
  await e.write(async (tx) => { await tx.put('chunks', key, Buffer.alloc(Number(args[2]), i + 1)); });
}
await e.close();
`;

/** One write of a counter value, then the process is killed the moment that write returned. */
export const KILLED_AFTER_WRITE_SCRIPT = `
const e = await openEngine(kind, { path: storePath, create: false });
for (let i = 1; i <= Number(args[0]); i++) {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(i);
  await e.write(async (tx) => { await tx.put('meta', Buffer.from('durable'), out); });
}
process.kill(process.pid, 'SIGKILL');
`;

/** Set the counter to args[0] and exit. */
export const SET_COUNTER_SCRIPT = `
const e = await openEngine(kind, { path: storePath, create: false });
const out = Buffer.alloc(4);
out.writeUInt32BE(Number(args[0]));
await e.write(async (tx) => { await tx.put('meta', Buffer.from('counter'), out); });
await e.close();
`;

/** Open and read every collection; print {ok} or the error's code and message, never crash. */
export const OPEN_AND_READ_SCRIPT = `
const { COLLECTION_NAMES } = await import(${JSON.stringify(new URL('../contract.js', import.meta.url).href)});
try {
  const e = await openEngine(kind, { path: storePath, create: false });
  try {
    for (const c of COLLECTION_NAMES) await e.read((tx) => tx.range(c));
    const problems = await e.check();
    console.log(JSON.stringify({ ok: true, problems }));
  } finally {
    await e.close();
  }
} catch (err) {
  console.log(JSON.stringify({ code: err.code, name: err.name, message: err.message }));
}
`;
