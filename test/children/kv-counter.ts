// A child for the memory multi-process tests: adds 1 to the kv key "counter" COUNT times with
// compare-and-set (read the version, set --if-version, retry on ECONFLICT), then prints
// "conflicts N".
//   node kv-counter.js VAULT_PATH COUNT
import { openVault, isVfsError } from '../../src/index.js';

const [vaultPath, countArg] = process.argv.slice(2);
const v = await openVault(vaultPath, { actor: `counter-${process.pid}` });
let conflicts = 0;
for (let i = 0; i < Number(countArg); i++) {
  for (;;) {
    let version = 0;
    let n = 0;
    try {
      const e = await v.kvGet('counter');
      version = e.version;
      n = Number(e.value.toString());
    } catch (e) {
      if (!isVfsError(e, 'ENOENT')) throw e;
    }
    try {
      await v.kvSet('counter', String(n + 1), { ifVersion: version });
      break;
    } catch (e) {
      if (!isVfsError(e, 'ECONFLICT')) throw e;
      conflicts++;
    }
  }
}
await v.close();
process.stdout.write(`conflicts ${conflicts}\n`);
