// A pattern tree written out as JavaScript regex source: the regex grep actually runs, once
// pattern.ts has rewritten the tree for line matching. A set is written as the shorter of
// itself and its complement; characters outside printable ASCII as \uXXXX.
import { complement, setSize, type Ranges } from './charsets.js';
import type { Node } from './pattern-tree.js';

const hex4 = (c: number): string => '\\u' + c.toString(16).padStart(4, '0');

function charOut(c: number): string {
  if (c < 0x20 || c >= 0x7f) return hex4(c);
  const ch = String.fromCharCode(c);
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? '\\' + ch : ch;
}

function classCharOut(c: number): string {
  if (c < 0x20 || c >= 0x7f) return hex4(c);
  const ch = String.fromCharCode(c);
  return /[\\\]^[-]/.test(ch) ? '\\' + ch : ch;
}

function rangesOut(r: Ranges): string {
  let out = '';
  for (let i = 0; i < r.length; i += 2) {
    const lo = r[i];
    const hi = r[i + 1];
    out += classCharOut(lo);
    if (hi === lo + 1) out += classCharOut(hi);
    else if (hi > lo) out += '-' + classCharOut(hi);
  }
  return out;
}

function setOut(r: Ranges): string {
  if (r.length === 0) return '[]';
  if (r.length === 2 && r[0] === r[1]) return charOut(r[0]);
  const comp = complement(r);
  if (comp.length === 0) return '[^]';
  return comp.length < r.length || (comp.length === r.length && setSize(comp) < setSize(r)) ? `[^${rangesOut(comp)}]` : `[${rangesOut(r)}]`;
}

export function toSource(n: Node): string {
  switch (n.t) {
    case 'empty':
      return '';
    case 'set':
      return setOut(n.r);
    case 'cat':
      return n.items.map((x) => (x.t === 'alt' ? `(?:${toSource(x)})` : toSource(x))).join('');
    case 'alt':
      return n.alts.map(toSource).join('|');
    case 'rep': {
      const sub = n.sub;
      const atomic = sub.t === 'set' || sub.t === 'group' || sub.t === 'backref' || (sub.t === 'look' && !sub.behind);
      const inner = atomic ? toSource(sub) : `(?:${toSource(sub)})`;
      const q = n.min === 0 && n.max === Infinity ? '*' : n.min === 1 && n.max === Infinity ? '+' : n.min === 0 && n.max === 1 ? '?' : n.max === Infinity ? `{${n.min},}` : n.min === n.max ? `{${n.min}}` : `{${n.min},${n.max}}`;
      return inner + q + (n.lazy ? '?' : '');
    }
    case 'group':
      return n.capture ? (n.name !== undefined ? `(?<${n.name}>${toSource(n.sub)})` : `(${toSource(n.sub)})`) : `(?:${toSource(n.sub)})`;
    case 'look':
      return `(?${n.behind ? '<' : ''}${n.neg ? '!' : '='}${toSource(n.sub)})`;
    case 'assert':
      return n.kind === '^' ? '^' : n.kind === '$' ? '$' : n.kind === 'b' ? '\\b' : '\\B';
    case 'backref':
      return n.name !== undefined ? `\\k<${n.name}>` : `(?:\\${n.n})`;
  }
}
