// The syntax tree grep's patterns are parsed into (parse-js.ts, parse-bre.ts), the error the
// parsers throw, and the walks over the tree that compiling a pattern list needs (pattern.ts):
// closing sets under case, renumbering back-references when patterns are joined.
import { caseClose, complement, type Ranges } from './charsets.js';

/** 'basic': GNU grep's BRE; 'extended': JavaScript's regex syntax; 'fixed': the text as is (see pattern.ts). */
export type Dialect = 'basic' | 'extended' | 'fixed';

export type Node =
  | { t: 'empty' }
  /** `neg`: a negated class's own members (case-insensitivity closes them before the complement). */
  | { t: 'set'; r: Ranges; neg?: Ranges }
  | { t: 'cat'; items: Node[] }
  | { t: 'alt'; alts: Node[] }
  | { t: 'rep'; sub: Node; min: number; max: number; lazy: boolean }
  | { t: 'group'; sub: Node; capture: boolean; name?: string }
  | { t: 'look'; sub: Node; behind: boolean; neg: boolean }
  | { t: 'assert'; kind: '^' | '$' | 'b' | 'B' }
  | { t: 'backref'; n?: number; name?: string };

/** A pattern the parsers refuse (compilePatterns makes it an EINVAL). */
export class PatternError extends Error {}

export function mapSets(n: Node, f: (r: Ranges) => Ranges): Node {
  switch (n.t) {
    case 'set':
      return { t: 'set', r: f(n.r) };
    case 'cat':
      return { t: 'cat', items: n.items.map((x) => mapSets(x, f)) };
    case 'alt':
      return { t: 'alt', alts: n.alts.map((x) => mapSets(x, f)) };
    case 'rep':
    case 'group':
    case 'look':
      return { ...n, sub: mapSets(n.sub, f) };
    default:
      return n;
  }
}

/** Case-insensitive sets: each set closed under case, a negated class's members before the complement. */
export function closeSets(n: Node): Node {
  switch (n.t) {
    case 'set':
      return { t: 'set', r: n.neg ? complement(caseClose(n.neg)) : caseClose(n.r) };
    case 'cat':
      return { t: 'cat', items: n.items.map(closeSets) };
    case 'alt':
      return { t: 'alt', alts: n.alts.map(closeSets) };
    case 'rep':
    case 'group':
    case 'look':
      return { ...n, sub: closeSets(n.sub) };
    default:
      return n;
  }
}

export function some(n: Node, pred: (n: Node, inNegLook: boolean) => boolean, inNegLook = false): boolean {
  if (pred(n, inNegLook)) return true;
  switch (n.t) {
    case 'cat':
      return n.items.some((x) => some(x, pred, inNegLook));
    case 'alt':
      return n.alts.some((x) => some(x, pred, inNegLook));
    case 'rep':
    case 'group':
      return some(n.sub, pred, inNegLook);
    case 'look':
      return some(n.sub, pred, inNegLook || n.neg);
    default:
      return false;
  }
}

export function countCaptures(n: Node): number {
  let k = 0;
  some(n, (x) => {
    if (x.t === 'group' && x.capture) k++;
    return false;
  });
  return k;
}

export function shiftBackrefs(n: Node, by: number): Node {
  if (by === 0) return n;
  switch (n.t) {
    case 'backref':
      return n.n !== undefined ? { t: 'backref', n: n.n + by } : n;
    case 'cat':
      return { t: 'cat', items: n.items.map((x) => shiftBackrefs(x, by)) };
    case 'alt':
      return { t: 'alt', alts: n.alts.map((x) => shiftBackrefs(x, by)) };
    case 'rep':
    case 'group':
    case 'look':
      return { ...n, sub: shiftBackrefs(n.sub, by) };
    default:
      return n;
  }
}
