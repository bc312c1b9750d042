// A child process for the search crash test: writes files, each holding a word no other file
// holds, and prints "ack WORD" after each write returned; every few writes it also searches (so
// that on engines whose index catches up before answering, a kill can land in a catch-up).
//   node search-writer.js VAULT_PATH PREFIX COUNT
import { openVault } from '../../src/index.js';

const [vaultPath, prefix, countArg] = process.argv.slice(2);
if (!vaultPath || !prefix || !countArg) {
  console.error('usage: search-writer.js VAULT_PATH PREFIX COUNT');
  process.exit(2);
}
const v = await openVault(vaultPath, { actor: `search-writer-${prefix}` });
for (let i = 0; i < Number(countArg); i++) {
  const word = `${prefix}w${i}`;
  // Text around the word so that the catch-up has real work to do.
  await v.writeFile(`/${prefix}/f${i}.txt`, `note ${i}: the unique word is ${word}\n${'filler text line\n'.repeat(50)}`);
  process.stdout.write(`ack ${word}\n`);
  if (i % 4 === 3) await v.search(`${prefix}w${i - 1}`);
}
await v.close();
