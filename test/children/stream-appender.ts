// A child for the memory multi-process tests: appends "i\n" to a stream COUNT times, each
// append its own durable transaction, then prints "done".
//   node stream-appender.js VAULT_PATH STREAM COUNT
import { openVault } from '../../src/index.js';

const [vaultPath, name, countArg] = process.argv.slice(2);
const v = await openVault(vaultPath, { actor: 'appender' });
for (let i = 0; i < Number(countArg); i++) await v.streamAppend(name, `${i}\n`);
await v.close();
process.stdout.write('done\n');
