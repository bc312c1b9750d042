// Character sets for grep's patterns: sorted ranges of UTF-16 code units (as in non-Unicode
// JavaScript regexes), with what the parsers and the rewriting need: union, complement, taking
// '\n' out (line matching), closing under case as JavaScript's flag 'i' does, the named sets
// (\d \w \s, '.') and the POSIX classes. Apart from the parsers because the rewriting
// (pattern.ts, regex-source.ts) and the trigram query (trigram-query.ts) use them too.

/** Sorted, disjoint, non-adjacent inclusive ranges of UTF-16 code units, flat: [lo, hi, lo, hi, ...]. */
export type Ranges = number[];

const MAX_CP = 0xffff;
/** '\n', the one character nothing in a line match can match. */
export const NL = 10;

function normalize(pairs: [number, number][]): Ranges {
  pairs.sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  for (const [lo, hi] of pairs) {
    if (lo > hi) continue;
    const n = out.length;
    if (n > 0 && lo <= out[n - 1] + 1) out[n - 1] = Math.max(out[n - 1], hi);
    else out.push(lo, hi);
  }
  return out;
}

const pairsOf = (r: Ranges): [number, number][] => {
  const p: [number, number][] = [];
  for (let i = 0; i < r.length; i += 2) p.push([r[i], r[i + 1]]);
  return p;
};

export const union = (...sets: Ranges[]): Ranges => normalize(sets.flatMap(pairsOf));

export function complement(r: Ranges): Ranges {
  const out: Ranges = [];
  let next = 0;
  for (let i = 0; i < r.length; i += 2) {
    if (r[i] > next) out.push(next, r[i] - 1);
    next = r[i + 1] + 1;
  }
  if (next <= MAX_CP) out.push(next, MAX_CP);
  return out;
}

/** The set without '\n' (in line matching, nothing matches a newline). */
export function withoutNewline(r: Ranges): Ranges {
  const out: Ranges = [];
  for (let i = 0; i < r.length; i += 2) {
    const lo = r[i];
    const hi = r[i + 1];
    if (lo <= NL && NL <= hi) {
      if (lo < NL) out.push(lo, NL - 1);
      if (hi > NL) out.push(NL + 1, hi);
    } else out.push(lo, hi);
  }
  return out;
}

export function setSize(r: Ranges): number {
  let n = 0;
  for (let i = 0; i < r.length; i += 2) n += r[i + 1] - r[i] + 1;
  return n;
}

export const one = (c: number): Ranges => [c, c];

export const DIGIT: Ranges = [48, 57];
export const WORD: Ranges = [48, 57, 65, 90, 95, 95, 97, 122];
// JavaScript's \s: WhiteSpace and LineTerminator.
export const SPACE: Ranges = [9, 13, 32, 32, 0xa0, 0xa0, 0x1680, 0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x202f, 0x205f, 0x205f, 0x3000, 0x3000, 0xfeff, 0xfeff];
/** '.': any character but a newline (as in GNU grep; JavaScript's '.' also refuses \r, \u2028, \u2029). */
export const DOT: Ranges = [0, NL - 1, NL + 1, MAX_CP];

// POSIX classes, ASCII (GNU grep in a UTF-8 locale also counts non-ASCII letters).
const POSIX: Record<string, Ranges> = {
  alpha: [65, 90, 97, 122],
  digit: [48, 57],
  alnum: [48, 57, 65, 90, 97, 122],
  upper: [65, 90],
  lower: [97, 122],
  space: [9, 13, 32, 32],
  blank: [9, 9, 32, 32],
  punct: [33, 47, 58, 64, 91, 96, 123, 126],
  print: [32, 126],
  graph: [33, 126],
  cntrl: [0, 31, 127, 127],
  xdigit: [48, 57, 65, 70, 97, 102],
  word: WORD,
};

/** The set of a class escape (\d \D \w \W \s \S), or undefined. */
export function escapeSet(letter: string): Ranges | undefined {
  switch (letter) {
    case 'd':
      return DIGIT;
    case 'D':
      return complement(DIGIT);
    case 'w':
      return WORD;
    case 'W':
      return complement(WORD);
    case 's':
      return SPACE;
    case 'S':
      return complement(SPACE);
    default:
      return undefined;
  }
}

// Case-insensitivity as non-Unicode JavaScript regexes have it: two code units match when their
// Canonicalize() (toUpperCase, unless that maps a non-ASCII unit to ASCII or to several units)
// is the same. ASCII letters only ever pair with each other.
let canonTable: Uint16Array | undefined;
let variants: Map<number, number[]> | undefined;

function canonicalize(c: number): number {
  const u = String.fromCharCode(c).toUpperCase();
  if (u.length !== 1) return c;
  const cu = u.charCodeAt(0);
  return c >= 128 && cu < 128 ? c : cu;
}

function caseTables(): { canon: Uint16Array; variants: Map<number, number[]> } {
  if (!canonTable || !variants) {
    canonTable = new Uint16Array(MAX_CP + 1);
    const groups = new Map<number, number[]>();
    for (let c = 0; c <= MAX_CP; c++) {
      const k = canonicalize(c);
      canonTable[c] = k;
      const g = groups.get(k);
      if (g) g.push(c);
      else groups.set(k, [c]);
    }
    variants = new Map();
    for (const g of groups.values()) if (g.length > 1) for (const c of g) variants.set(c, g);
  }
  return { canon: canonTable, variants };
}

/** The set plus every case variant of its members. */
export function caseClose(r: Ranges): Ranges {
  const extra: [number, number][] = [];
  let nonAscii = false;
  for (let i = 0; i < r.length; i += 2) {
    const lo = r[i];
    const hi = r[i + 1];
    // ASCII letters: A-Z <-> a-z.
    const a0 = Math.max(lo, 65);
    const a1 = Math.min(hi, 90);
    if (a0 <= a1) extra.push([a0 + 32, a1 + 32]);
    const b0 = Math.max(lo, 97);
    const b1 = Math.min(hi, 122);
    if (b0 <= b1) extra.push([b0 - 32, b1 - 32]);
    if (hi >= 128) nonAscii = true;
  }
  if (nonAscii) {
    const { variants: v } = caseTables();
    for (let i = 0; i < r.length; i += 2) {
      for (let c = Math.max(128, r[i]); c <= r[i + 1]; c++) {
        const g = v.get(c);
        if (g) for (const x of g) extra.push([x, x]);
      }
    }
  }
  return extra.length === 0 ? r : normalize([...pairsOf(r), ...extra]);
}

/** A bracket's POSIX class at s[i] ('[:alpha:]'), or undefined. */
export function posixClassAt(s: string, i: number): { set: Ranges; end: number } | undefined {
  if (s[i] !== '[' || s[i + 1] !== ':') return undefined;
  const close = s.indexOf(':]', i + 2);
  if (close < 0) return undefined;
  const set = POSIX[s.slice(i + 2, close)];
  return set ? { set, end: close + 2 } : undefined;
}
