// A child for the memory multi-process tests: follows a stream from offset 0 and prints
// "OFFSET DATA" for each append it sees (DATA without its newline), until it has seen COUNT.
// Prints "ready" on stderr once it is following.
//   node stream-follower.js VAULT_PATH STREAM COUNT
import { openVault } from '../../src/index.js';

const [vaultPath, name, countArg] = process.argv.slice(2);
const count = Number(countArg);
const v = await openVault(vaultPath, { actor: 'follower' });
let n = 0;
const out: string[] = [];
process.stderr.write('ready\n');
for await (const e of v.streamEntries(name, { follow: true })) {
  out.push(`${e.offset} ${e.data.toString().replace(/\n$/, '')}\n`);
  if (out.length >= 500) process.stdout.write(out.splice(0).join(''));
  if (++n >= count) break;
}
process.stdout.write(out.join(''));
await v.close();
