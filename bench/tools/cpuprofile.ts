// Summarise a V8 .cpuprofile (from node --cpu-prof): self time by function, and, with
// --focus NAME, only the samples whose stack passes through a function called NAME, split by
// the function they were in and by the call under NAME that led there.
//
// With --marks FILE (written by calls.js --marks), self time is split by operation window
// instead: what each operation spent its time in, per operation.
//
// --by-file groups self time by script instead of by function (for start-up: loader vs app).
//
//   node dist/bench/tools/cpuprofile.js FILE.cpuprofile [--focus writeFiles] [--marks M.json] [--by-file] [--top 25]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  startTime: number;
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

function short(n: Node): string {
  const f = n.callFrame;
  const url = f.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/').replace(/^node:/, 'node:');
  return `${f.functionName || '(anonymous)'} ${url ? `${url}:${f.lineNumber + 1}` : ''}`.trim();
}

/** The script a frame belongs to, with node's own module loader and natives lumped together. */
function byFile(n: Node): string {
  const url = n.callFrame.url;
  if (!url) return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native: fs/compile)';
  if (url.startsWith('node:internal/modules') || url.startsWith('node:internal/bootstrap')) return 'node: module loader';
  if (url.startsWith('node:')) return 'node: other built-ins';
  const m = /\/(dist\/src\/[^/]+|node_modules\/[^/]+)/.exec(url);
  return m ? m[1] : url;
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { focus: { type: 'string' }, top: { type: 'string' }, marks: { type: 'string' }, 'by-file': { type: 'boolean' } } });
  const p = JSON.parse(readFileSync(positionals[0], 'utf8')) as Profile;
  const top = Number(values.top ?? 25);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stack = (id: number): Node[] => {
    const out: Node[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) out.push(byId.get(cur)!);
    return out; // leaf first
  };

  if (values.marks) {
    const marks = JSON.parse(readFileSync(values.marks, 'utf8')) as { name: string; ops: number; fromUs: number; toUs: number }[];
    const per = marks.map(() => new Map<string, number>());
    let t = p.startTime;
    p.samples.forEach((id, i) => {
      t += p.timeDeltas[i] ?? 0;
      const m = marks.findIndex((w) => t >= w.fromUs && t < w.toUs);
      if (m < 0) return;
      const k = short(byId.get(id)!);
      per[m].set(k, (per[m].get(k) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
    });
    marks.forEach((w, m) => {
      const sum = [...per[m].values()].reduce((a, b) => a + b, 0);
      const wall = (w.toUs - w.fromUs) / 1000;
      console.log(`\n${w.name}: ${w.ops} ops, ${((wall * 1000) / w.ops).toFixed(1)} µs/op wall, ${((sum * 1000) / w.ops).toFixed(1)} µs/op sampled`);
      for (const [k, v] of [...per[m].entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
        console.log(`  ${((v * 1000) / w.ops).toFixed(1).padStart(9)} µs/op ${((100 * v) / sum).toFixed(1).padStart(5)}%  ${k}`);
      }
    });
    return;
  }

  const self = new Map<string, number>();
  const under = new Map<string, number>();
  let total = 0;
  let focused = 0;
  p.samples.forEach((id, i) => {
    const dt = (p.timeDeltas[i] ?? 0) / 1000; // ms
    total += dt;
    const st = stack(id);
    let childOfFocus: Node | undefined;
    if (values.focus) {
      const at = st.findIndex((n) => n.callFrame.functionName === values.focus);
      if (at < 0) return;
      childOfFocus = at > 0 ? st[at - 1] : undefined;
      focused += dt;
      const k = childOfFocus ? short(childOfFocus) : '(self)';
      under.set(k, (under.get(k) ?? 0) + dt);
    }
    const leaf = values['by-file'] ? byFile(st[0]) : short(st[0]);
    self.set(leaf, (self.get(leaf) ?? 0) + dt);
  });

  const base = values.focus ? focused : total;
  const show = (title: string, m: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [k, v] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`  ${v.toFixed(1).padStart(9)} ms ${((100 * v) / base).toFixed(1).padStart(5)}%  ${k}`);
    }
  };
  console.log(`profile: ${total.toFixed(0)} ms sampled${values.focus ? `; ${focused.toFixed(0)} ms under ${values.focus}` : ''}`);
  show('self time by function', self);
  if (values.focus) show(`time by direct callee of ${values.focus}`, under);
}

main();
