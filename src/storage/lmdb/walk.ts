// The LMDB integrity walk, run as a child process by check(): LMDB trusts its file, and a
// damaged page can crash the reader (SIGSEGV, SIGBUS) rather than return an error, which must
// not take the caller's process down. Prints a JSON array of problems on stdout.
//   node walk.js STORE_DIR
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { COLLECTION_NAMES, MAX_KEY_BYTES } from '../contract.js';
import { oneLine } from '../messages.js';
import { checkDataFile, dbName } from './header.js';

const DB_OPTIONS = { keyEncoding: 'binary', encoding: 'binary' } as const;

async function walk(dir: string): Promise<string[]> {
  const problems: string[] = [];
  checkDataFile(dir, COLLECTION_NAMES);
  const { open } = await import('lmdb');
  const root = open<Buffer, Buffer>({ path: dir, noSubdir: false, maxDbs: 128, readOnly: true, overlappingSync: false, ...DB_OPTIONS });
  // Open the databases first: in read-only mode each openDB ends the current read transaction.
  const names = new Set([...root.getKeys()].map((k) => dbName(k as Buffer)));
  const dbs = COLLECTION_NAMES.filter((c) => names.has(c)).map((c) => [c, root.openDB<Buffer, Buffer>(c, DB_OPTIONS)] as const);
  const txn = root.useReadTransaction();
  try {
    for (const [c, db] of dbs) {
      let prev: Buffer | undefined;
      let n = 0;
      for (const { key, value } of db.getRange({ transaction: txn })) {
        const k = key as Buffer;
        if (k.length === 0 || k.length > MAX_KEY_BYTES) problems.push(`${c}: key ${n} has ${k.length} bytes`);
        if (prev && Buffer.compare(prev, k) >= 0) problems.push(`${c}: key ${n} is out of order`);
        if (!(value instanceof Uint8Array)) problems.push(`${c}: value ${n} is unreadable`);
        prev = k;
        n++;
      }
    }
  } finally {
    txn.done();
    await root.close();
  }
  return problems;
}

/** Run the walk in a child process; a crash there is reported as damage, not rethrown. */
export function walkInChild(dir: string): Promise<string[]> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => resolve([`could not start the checker: ${oneLine(e.message)}`]));
    child.on('close', (code, signal) => {
      if (signal) return resolve([`reading the store crashed the checker (${signal}): the store is damaged`]);
      try {
        const found = JSON.parse(out) as unknown;
        if (Array.isArray(found) && code === 0) return resolve(found.map(String));
      } catch {
        // fall through: report what the child said
      }
      resolve([`checker failed: ${oneLine(err || out).slice(0, 300) || `exit code ${code}`}`]);
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  walk(process.argv[2]).then(
    (problems) => process.stdout.write(JSON.stringify(problems)),
    (e: Error) => process.stdout.write(JSON.stringify([oneLine(e.message)])),
  );
}
