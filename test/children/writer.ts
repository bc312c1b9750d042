// A child process for the crash and concurrency tests: opens a real vault and writes files,
// printing "ack NAME" on stdout after each write returned (so the parent knows which writes
// were acknowledged before it killed us).
//   node writer.js VAULT_PATH PREFIX COUNT [mode]
// mode "mixed" (crash test): sizes from 0 to ~3 chunks, some appends, renames and batches;
// mode "plain": COUNT small 1 KiB files, one transaction each, under /PREFIX/;
// mode "shared" (concurrency test): the same, but every writer uses the one folder /shared/.
import { openVault } from '../../src/index.js';
import { contentFor } from './content.js';

const [vaultPath, prefix, countArg, mode = 'plain'] = process.argv.slice(2);
if (!vaultPath || !prefix || !countArg) {
  console.error('usage: writer.js VAULT_PATH PREFIX COUNT [plain|mixed]');
  process.exit(2);
}
const count = Number(countArg);
const out = (s: string): void => void process.stdout.write(s + '\n');

const v = await openVault(vaultPath, { actor: `writer-${prefix}` });
for (let i = 0; i < count; i++) {
  const name = mode === 'shared' ? `/shared/${prefix}-f${i}` : `/${prefix}/f${i}`;
  if (mode === 'mixed' && i % 10 === 9) {
    // A batch of five: acknowledged together, after the transaction committed.
    const names = [0, 1, 2, 3, 4].map((k) => `/${prefix}/b${i}-${k}`);
    await v.batch(async (b) => {
      for (const n of names) await b.writeFile(n, contentFor(n));
    });
    for (const n of names) out(`ack ${n}`);
    continue;
  }
  await v.writeFile(name, contentFor(name, mode === 'mixed'));
  if (mode === 'mixed' && i % 7 === 3) {
    await v.appendFile(name, contentFor(name + '+'));
    out(`append ${name}`);
  }
  if (mode === 'mixed' && i % 11 === 5) {
    await v.rename(name, name + '.moved');
    out(`ack ${name}.moved`);
    continue;
  }
  out(`ack ${name}`);
}
await v.close();
out('done');
