// A child process for the restore crash test: restores a snapshot of a real vault and prints
// "restored" when the call returned.   node restorer.js VAULT_PATH SNAPSHOT
import { openVault } from '../../src/index.js';

const [vaultPath, snapshot] = process.argv.slice(2);
if (!vaultPath || !snapshot) {
  console.error('usage: restorer.js VAULT_PATH SNAPSHOT');
  process.exit(2);
}
const v = await openVault(vaultPath);
process.stdout.write('started\n');
await v.restoreSnapshot(snapshot);
process.stdout.write('restored\n');
await v.close();
