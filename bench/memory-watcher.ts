// The child of the memory benchmark's watch measurement: watches the agent state (or follows
// a stream) of a vault and prints "I T" per value, I being the value's number and T the time it
// saw it (performance.timeOrigin + performance.now(), comparable across processes), until it
// has seen N. Prints "ready" on stderr once watching.
//   node memory-watcher.js VAULT_PATH state|stream N watch|poll-only
import { openVault } from '../src/index.js';

const [path, what, nArg, mode] = process.argv.slice(2);
const n = Number(nArg);
const noWatch = mode === 'poll-only';
const clock = (): number => performance.timeOrigin + performance.now();
const v = await openVault(path, { actor: 'watcher' });
const lines: string[] = [];
process.stderr.write('ready\n');
if (what === 'state') {
  for await (const s of v.stateWatch({ noWatch })) {
    const t = clock();
    const i = (s.value as { i: number }).i;
    lines.push(`${i} ${t}`);
    if (i >= n) break;
  }
} else {
  for await (const e of v.streamEntries('events', { follow: true, noWatch })) {
    const t = clock();
    const i = Number(e.data.toString());
    lines.push(`${i} ${t}`);
    if (i >= n) break;
  }
}
process.stdout.write(lines.join('\n') + '\n');
await v.close();
