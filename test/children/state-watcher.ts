// A child for the memory multi-process tests: watches the agent state and prints one JSON line
// per state it sees, {value, version, lagMs} (lagMs: now minus value.t when the value has a t),
// until it has seen COUNT, or until a state whose value is "stop". Prints "ready" on stderr
// once it is watching.
//   node state-watcher.js VAULT_PATH COUNT [poll-only]
import { openVault } from '../../src/index.js';

const [vaultPath, countArg, mode] = process.argv.slice(2);
const count = Number(countArg);
const v = await openVault(vaultPath, { actor: 'watcher' });
let n = 0;
process.stderr.write('ready\n');
for await (const s of v.stateWatch({ noWatch: mode === 'poll-only' })) {
  const value = s.value as { t?: number } | string;
  const lagMs = typeof value === 'object' && value !== null && typeof value.t === 'number' ? Date.now() - value.t : undefined;
  process.stdout.write(JSON.stringify({ value, version: s.version, lagMs }) + '\n');
  if (++n >= count || value === 'stop') break;
}
await v.close();
