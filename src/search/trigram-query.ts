// From a pattern tree to the trigram query that tells the index (trigram.ts) which files can
// hold a match, in the style of Russ Cox's "Regular Expression Matching with a Trigram Index":
// exact string sets, prefixes and suffixes per node, combined into AND/OR of trigrams (the
// rules: docs/grep.md, "From a regex to a trigram query").
//
// The index holds trigrams of the UTF-8 bytes with ASCII A-Z folded to a-z, so query strings
// are UTF-8 bytes, ASCII-folded, held in "byte strings" (one char per byte).
import { NL, setSize } from './charsets.js';
import type { Node } from './pattern-tree.js';

export type TrigramQuery = { op: 'all' } | { op: 'none' } | { op: 'tri'; t: number } | { op: 'and' | 'or'; subs: TrigramQuery[] };

export const ALL: TrigramQuery = { op: 'all' };
export const NONE: TrigramQuery = { op: 'none' };

const MAX_AND = 24;
const MAX_OR = 64;

function keyOf(q: TrigramQuery): string {
  return q.op === 'tri' ? String(q.t) : q.op === 'and' || q.op === 'or' ? `${q.op}(${q.subs.map(keyOf).join(',')})` : q.op;
}

export function and(...qs: TrigramQuery[]): TrigramQuery {
  const subs: TrigramQuery[] = [];
  const seen = new Set<string>();
  for (const q of qs) {
    if (q.op === 'none') return NONE;
    if (q.op === 'all') continue;
    for (const x of q.op === 'and' ? q.subs : [q]) {
      const k = keyOf(x);
      if (!seen.has(k)) {
        seen.add(k);
        subs.push(x);
      }
    }
  }
  // Fewer terms in an AND ask less: dropping some is always safe (it only lets more files through).
  if (subs.length > MAX_AND) {
    const step = subs.length / MAX_AND;
    const kept: TrigramQuery[] = [];
    for (let i = 0; i < MAX_AND; i++) kept.push(subs[Math.floor(i * step)]);
    subs.splice(0, subs.length, ...kept);
  }
  return subs.length === 0 ? ALL : subs.length === 1 ? subs[0] : { op: 'and', subs };
}

export function or(...qs: TrigramQuery[]): TrigramQuery {
  const subs: TrigramQuery[] = [];
  const seen = new Set<string>();
  for (const q of qs) {
    if (q.op === 'all') return ALL;
    if (q.op === 'none') continue;
    for (const x of q.op === 'or' ? q.subs : [q]) {
      const k = keyOf(x);
      if (!seen.has(k)) {
        seen.add(k);
        subs.push(x);
      }
    }
  }
  // An OR cannot drop a branch; a very wide one says nothing worth the reads.
  if (subs.length > MAX_OR) return ALL;
  return subs.length === 0 ? NONE : subs.length === 1 ? subs[0] : { op: 'or', subs };
}

/** The trigrams of a byte string (each 3 bytes as a 24-bit number), none with a newline. */
export function stringTrigrams(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i + 3 <= s.length; i++) {
    const a = s.charCodeAt(i);
    const b = s.charCodeAt(i + 1);
    const c = s.charCodeAt(i + 2);
    if (a === NL || b === NL || c === NL) continue;
    out.push((a << 16) | (b << 8) | c);
  }
  return out;
}

const andOfString = (s: string): TrigramQuery => and(...stringTrigrams(s).map((t): TrigramQuery => ({ op: 'tri', t })));
const orOfStrings = (set: Set<string>): TrigramQuery => or(...[...set].map(andOfString));

/** One code unit as UTF-8 bytes with ASCII A-Z folded, as a byte string; undefined for a lone surrogate. */
function unitBytes(c: number): string | undefined {
  if (c < 0x80) return String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c);
  if (c >= 0xd800 && c <= 0xdfff) return undefined;
  return Buffer.from(String.fromCharCode(c), 'utf8').toString('latin1');
}

interface Info {
  emptyable: boolean;
  /** Every string the node matches, when few; else null and the fields below hold. */
  exact: Set<string> | null;
  /** Every match starts with one of these. */
  prefix: Set<string>;
  /** Every match ends with one of these. */
  suffix: Set<string>;
  /** Every match satisfies this. */
  match: TrigramQuery;
}

const MAX_EXACT = 32;
const MAX_SET = 32;
const MAX_CLASS = 16;

const EMPTY: Info = { emptyable: true, exact: new Set(['']), prefix: new Set(['']), suffix: new Set(['']), match: ALL };
const ANY_CHAR: Info = { emptyable: false, exact: null, prefix: new Set(['']), suffix: new Set(['']), match: ALL };
const ANY_STRING: Info = { emptyable: true, exact: null, prefix: new Set(['']), suffix: new Set(['']), match: ALL };

function trimSet(set: Set<string>, keep: number, fromEnd: boolean): Set<string> {
  for (let k = keep; ; k--) {
    const out = new Set<string>();
    for (const s of set) out.add(s.length <= k ? s : fromEnd ? s.slice(s.length - k) : s.slice(0, k));
    if (out.size <= MAX_SET || k === 0) return out;
  }
}

function cross(a: Set<string>, b: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const x of a) for (const y of b) out.add(x + y);
  return out;
}

/** The same facts without the exact set (its strings folded into match, prefix, suffix). */
function inexact(i: Info): Info {
  if (i.exact === null) return i;
  return {
    emptyable: i.emptyable,
    exact: null,
    prefix: trimSet(i.exact, 2, false),
    suffix: trimSet(i.exact, 2, true),
    match: and(i.match, orOfStrings(i.exact)),
  };
}

function concatInfo(a: Info, b: Info): Info {
  if (a.exact && b.exact && a.exact.size * b.exact.size <= MAX_EXACT) {
    const ex = cross(a.exact, b.exact);
    return { emptyable: a.emptyable && b.emptyable, exact: ex, prefix: ex, suffix: ex, match: ALL };
  }
  const A = inexact(a);
  const B = inexact(b);
  const pre = a.exact ? cross(a.exact, B.prefix) : A.prefix;
  const suf = b.exact ? cross(A.suffix, b.exact) : B.suffix;
  // Trigrams across the seam: the end of a's match joined to the start of b's.
  const edge = A.suffix.size * B.prefix.size <= MAX_EXACT * 4 ? orOfStrings(cross(A.suffix, B.prefix)) : ALL;
  return {
    emptyable: a.emptyable && b.emptyable,
    exact: null,
    prefix: trimSet(pre, 2, false),
    suffix: trimSet(suf, 2, true),
    match: and(A.match, B.match, edge),
  };
}

function altInfo(a: Info, b: Info): Info {
  if (a.exact && b.exact && a.exact.size + b.exact.size <= MAX_EXACT) {
    const ex = new Set([...a.exact, ...b.exact]);
    return { emptyable: a.emptyable || b.emptyable, exact: ex, prefix: ex, suffix: ex, match: ALL };
  }
  const A = inexact(a);
  const B = inexact(b);
  return {
    emptyable: A.emptyable || B.emptyable,
    exact: null,
    prefix: trimSet(new Set([...A.prefix, ...B.prefix]), 2, false),
    suffix: trimSet(new Set([...A.suffix, ...B.suffix]), 2, true),
    match: or(A.match, B.match),
  };
}

function power(i: Info, k: number): Info {
  let acc = EMPTY;
  for (let j = 0; j < k; j++) acc = concatInfo(acc, i);
  return acc;
}

function info(n: Node): Info {
  switch (n.t) {
    case 'empty':
    case 'assert':
    case 'look':
      return EMPTY;
    case 'backref':
      return ANY_STRING;
    case 'group':
      return info(n.sub);
    case 'set': {
      const r = n.r;
      if (setSize(r) > 4 * MAX_CLASS) return ANY_CHAR;
      const strs = new Set<string>();
      for (let i = 0; i < r.length; i += 2) {
        for (let c = r[i]; c <= r[i + 1]; c++) {
          const b = unitBytes(c);
          if (b === undefined) return ANY_CHAR;
          strs.add(b);
        }
      }
      if (strs.size > MAX_CLASS) return ANY_CHAR;
      return { emptyable: false, exact: strs, prefix: strs, suffix: strs, match: ALL };
    }
    case 'cat': {
      let acc = EMPTY;
      for (const x of n.items) acc = concatInfo(acc, info(x));
      return acc;
    }
    case 'alt': {
      let acc = info(n.alts[0]);
      for (const x of n.alts.slice(1)) acc = altInfo(acc, info(x));
      return acc;
    }
    case 'rep': {
      const sub = info(n.sub);
      if (n.max === 0) return EMPTY;
      if (sub.exact && n.max <= 4) {
        let acc: Info | undefined;
        for (let k = n.min; k <= n.max; k++) acc = acc ? altInfo(acc, power(sub, k)) : power(sub, k);
        return acc!;
      }
      if (n.min === 0) return ANY_STRING;
      const s1 = inexact(sub);
      const more: Info = { emptyable: sub.emptyable, exact: null, prefix: s1.prefix, suffix: s1.suffix, match: s1.match };
      return n.min >= 2 ? concatInfo(sub, more) : more;
    }
  }
}

/** What a file must hold (as trigrams) for the pattern to match one of its lines. */
export function trigramQuery(n: Node): TrigramQuery {
  return inexact(info(n)).match;
}
