// grep's patterns: parsed into a small syntax tree, from which come
//   - the JavaScript regular expression that is actually run, rewritten for line matching: no
//     part of it can match a newline ('.', negated classes, \s, \W, \D lose '\n'), so searching
//     a whole file text at once (flags 'gm') finds exactly the lines a line-by-line search
//     finds; case-insensitivity is spelled out in the classes ([aA]) rather than flag 'i', so
//     V8 can fall back to its linear-time engine on a pattern that backtracks (see matcher.ts);
//   - the trigram query that tells the index (trigram.ts) which files can hold a match, in the
//     style of Russ Cox's "Regular Expression Matching with a Trigram Index": exact string
//     sets, prefixes and suffixes per node, combined into AND/OR of trigrams.
//
// Dialects: 'basic' is GNU grep's default (BRE: \( \) \{ \} \| \+ \? are the operators, + ? |
// ( ) { } are plain characters); 'extended' (-E, -P) is JavaScript's own syntax (non-Unicode
// mode, with its Annex B leniencies); 'fixed' (-F) takes the text literally. Both regex
// dialects also take GNU's POSIX classes ([[:alpha:]]) and word edges (\< \>, as \b).
//
// Characters are UTF-16 code units (as in non-Unicode JavaScript regexes). The index holds
// trigrams of the UTF-8 bytes with ASCII A-Z folded to a-z, so query strings are UTF-8 bytes,
// ASCII-folded, held in "byte strings" (one char per byte).
import { vfsError } from '../errors.js';

export type Dialect = 'basic' | 'extended' | 'fixed';

/** Sorted, disjoint, non-adjacent inclusive ranges of UTF-16 code units, flat: [lo, hi, lo, hi, ...]. */
export type Ranges = number[];

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

const MAX_CP = 0xffff;
const NL = 10;

// ---- character sets --------------------------------------------------------------------

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

const one = (c: number): Ranges => [c, c];

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

function escapeSet(letter: string): Ranges | undefined {
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

// ---- parsing ---------------------------------------------------------------------------

export class PatternError extends Error {}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/** Capturing groups in a JavaScript pattern, and whether any is named (V8 counts them first too). */
function scanGroups(s: string): { count: number; named: boolean } {
  let count = 0;
  let named = false;
  let inClass = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') {
      if (s[i + 1] !== '?') count++;
      else if (s[i + 2] === '<' && s[i + 3] !== '=' && s[i + 3] !== '!') {
        count++;
        named = true;
      }
    }
  }
  return { count, named };
}

/** A bracket's POSIX class at s[i] ('[:alpha:]'), or undefined. */
function posixClassAt(s: string, i: number): { set: Ranges; end: number } | undefined {
  if (s[i] !== '[' || s[i + 1] !== ':') return undefined;
  const close = s.indexOf(':]', i + 2);
  if (close < 0) return undefined;
  const set = POSIX[s.slice(i + 2, close)];
  return set ? { set, end: close + 2 } : undefined;
}

class JsParser {
  private i = 0;
  private readonly groups: number;
  private readonly named: boolean;

  constructor(private readonly s: string) {
    const g = scanGroups(s);
    this.groups = g.count;
    this.named = g.named;
  }

  parse(): Node {
    const n = this.disjunction();
    if (this.i < this.s.length) throw new PatternError(`unmatched ) at position ${this.i + 1}`);
    return n;
  }

  private disjunction(): Node {
    const alts = [this.alternative()];
    while (this.s[this.i] === '|') {
      this.i++;
      alts.push(this.alternative());
    }
    return alts.length === 1 ? alts[0] : { t: 'alt', alts };
  }

  private alternative(): Node {
    const items: Node[] = [];
    while (this.i < this.s.length && this.s[this.i] !== '|' && this.s[this.i] !== ')') items.push(this.term());
    return items.length === 0 ? { t: 'empty' } : items.length === 1 ? items[0] : { t: 'cat', items };
  }

  private term(): Node {
    const s = this.s;
    const c = s[this.i];
    if (c === '^' || c === '$') {
      this.i++;
      return { t: 'assert', kind: c };
    }
    if (c === '\\' && (s[this.i + 1] === 'b' || s[this.i + 1] === 'B')) {
      this.i += 2;
      return { t: 'assert', kind: s[this.i - 1] as 'b' | 'B' };
    }
    if (c === '\\' && (s[this.i + 1] === '<' || s[this.i + 1] === '>')) {
      this.i += 2;
      return { t: 'assert', kind: 'b' };
    }
    let atom: Node;
    if (c === '(') {
      this.i++;
      let kind: 'capture' | 'plain' | 'ahead' | 'nahead' | 'behind' | 'nbehind' = 'capture';
      let name: string | undefined;
      if (s[this.i] === '?') {
        const two = s.slice(this.i, this.i + 3);
        if (two.startsWith('?:')) {
          kind = 'plain';
          this.i += 2;
        } else if (two.startsWith('?=')) {
          kind = 'ahead';
          this.i += 2;
        } else if (two.startsWith('?!')) {
          kind = 'nahead';
          this.i += 2;
        } else if (two === '?<=') {
          kind = 'behind';
          this.i += 3;
        } else if (two === '?<!') {
          kind = 'nbehind';
          this.i += 3;
        } else if (two.startsWith('?<')) {
          const close = s.indexOf('>', this.i);
          if (close < 0) throw new PatternError('invalid capture group name');
          name = s.slice(this.i + 2, close);
          this.i = close + 1;
        } else throw new PatternError('invalid group');
      }
      const sub = this.disjunction();
      if (s[this.i] !== ')') throw new PatternError('unterminated group');
      this.i++;
      if (kind === 'behind' || kind === 'nbehind') return { t: 'look', sub, behind: true, neg: kind === 'nbehind' };
      atom =
        kind === 'ahead' || kind === 'nahead'
          ? { t: 'look', sub, behind: false, neg: kind === 'nahead' }
          : { t: 'group', sub, capture: kind === 'capture', ...(name !== undefined ? { name } : {}) };
    } else if (c === '.') {
      this.i++;
      atom = { t: 'set', r: DOT };
    } else if (c === '[') {
      atom = this.charClass();
    } else if (c === '\\') {
      atom = this.atomEscape();
    } else if (c === '*' || c === '+' || c === '?') {
      throw new PatternError('nothing to repeat');
    } else {
      this.i++;
      atom = { t: 'set', r: one(c.charCodeAt(0)) };
    }
    return this.quantified(atom);
  }

  private quantified(atom: Node): Node {
    const s = this.s;
    let min: number;
    let max: number;
    const c = s[this.i];
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(this.i));
      if (!m) return atom; // Annex B: a '{' that is no quantifier is a plain character (read next)
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (max < min) throw new PatternError('numbers out of order in {} quantifier');
      this.i += m[0].length - 1;
    } else return atom;
    this.i++;
    let lazy = false;
    if (s[this.i] === '?') {
      lazy = true;
      this.i++;
    }
    if (atom.t === 'assert') throw new PatternError('nothing to repeat');
    return { t: 'rep', sub: atom, min, max, lazy };
  }

  /** Legacy octal (Annex B): up to three octal digits, value at most 0o377. */
  private octal(): number {
    const s = this.s;
    let v = 0;
    let k = 0;
    while (k < 3 && s[this.i] >= '0' && s[this.i] <= '7' && v * 8 + Number(s[this.i]) <= 0o377) {
      v = v * 8 + Number(s[this.i]);
      this.i++;
      k++;
    }
    return v;
  }

  private atomEscape(): Node {
    const s = this.s;
    const e = s[this.i + 1];
    if (e === undefined) throw new PatternError('\\ at end of pattern');
    const set = escapeSet(e);
    if (set) {
      this.i += 2;
      return { t: 'set', r: set };
    }
    if (e >= '1' && e <= '9') {
      const m = /^\d+/.exec(s.slice(this.i + 1))!;
      const n = Number(m[0]);
      if (n <= this.groups) {
        this.i += 1 + m[0].length;
        return { t: 'backref', n };
      }
      this.i++;
      if (e === '8' || e === '9') {
        this.i++;
        return { t: 'set', r: one(e.charCodeAt(0)) };
      }
      return { t: 'set', r: one(this.octal()) };
    }
    if (e === 'k' && this.named) {
      const m = /^k<([^>]+)>/.exec(s.slice(this.i + 1));
      if (!m) throw new PatternError('invalid named reference');
      this.i += 1 + m[0].length;
      return { t: 'backref', name: m[1] };
    }
    return { t: 'set', r: one(this.charEscape(false)) };
  }

  /** An escape that stands for one character, at s[i] === '\\'; leaves i after it. */
  private charEscape(inClass: boolean): number {
    const s = this.s;
    const e = s[this.i + 1];
    this.i += 2;
    switch (e) {
      case 't':
        return 9;
      case 'n':
        return 10;
      case 'v':
        return 11;
      case 'f':
        return 12;
      case 'r':
        return 13;
      case 'b':
        if (inClass) return 8;
        break;
      case 'c': {
        const x = s[this.i];
        if (x !== undefined && (/[A-Za-z]/.test(x) || (inClass && /[0-9_]/.test(x)))) {
          this.i++;
          return x.charCodeAt(0) % 32;
        }
        // Annex B: a lone "\c" is a backslash, and the 'c' is read next.
        this.i--;
        return 92;
      }
      case 'x':
        if (isHex(s[this.i]) && isHex(s[this.i + 1])) {
          this.i += 2;
          return parseInt(s.slice(this.i - 2, this.i), 16);
        }
        return 'x'.charCodeAt(0);
      case 'u':
        if (isHex(s[this.i]) && isHex(s[this.i + 1]) && isHex(s[this.i + 2]) && isHex(s[this.i + 3])) {
          this.i += 4;
          return parseInt(s.slice(this.i - 4, this.i), 16);
        }
        return 'u'.charCodeAt(0);
      case '0':
        if (!isDigit(s[this.i])) return 0;
        this.i--;
        return this.octal();
      default:
        if (inClass && e >= '1' && e <= '7') {
          this.i--;
          return this.octal();
        }
    }
    return e.charCodeAt(0);
  }

  private charClass(): Node {
    const s = this.s;
    this.i++; // [
    let neg = false;
    if (s[this.i] === '^') {
      neg = true;
      this.i++;
    }
    const parts: Ranges[] = [];
    const atom = (): number | Ranges => {
      const px = posixClassAt(s, this.i);
      if (px) {
        this.i = px.end;
        return px.set;
      }
      if (s[this.i] === '\\') {
        const set = escapeSet(s[this.i + 1]);
        if (set) {
          this.i += 2;
          return set;
        }
        if (s[this.i + 1] === '-') {
          this.i += 2;
          return 45;
        }
        return this.charEscape(true);
      }
      if (this.i >= s.length) throw new PatternError('unterminated character class');
      return s.charCodeAt(this.i++);
    };
    while (s[this.i] !== ']') {
      if (this.i >= s.length) throw new PatternError('unterminated character class');
      const a = atom();
      if (s[this.i] === '-' && s[this.i + 1] !== ']' && this.i + 1 < s.length) {
        this.i++;
        const b = atom();
        if (typeof a === 'number' && typeof b === 'number') {
          if (a > b) throw new PatternError('range out of order in character class');
          parts.push([a, b]);
        } else {
          // Annex B: a class escape at either end makes '-' a plain character.
          parts.push(typeof a === 'number' ? one(a) : a, one(45), typeof b === 'number' ? one(b) : b);
        }
      } else parts.push(typeof a === 'number' ? one(a) : a);
    }
    this.i++; // ]
    const set = union(...parts);
    return neg ? { t: 'set', r: complement(set), neg: set } : { t: 'set', r: set };
  }
}

/** GNU grep's basic regular expressions (BRE, with GNU's extensions). */
class BreParser {
  private i = 0;
  private groups = 0;
  private open = 0;

  constructor(private readonly s: string) {}

  parse(): Node {
    const n = this.disjunction();
    if (this.i < this.s.length) throw new PatternError('unmatched \\)');
    return n;
  }

  private at(tok: string): boolean {
    return this.s.startsWith(tok, this.i);
  }

  private disjunction(): Node {
    const alts = [this.alternative()];
    while (this.at('\\|')) {
      this.i += 2;
      alts.push(this.alternative());
    }
    return alts.length === 1 ? alts[0] : { t: 'alt', alts };
  }

  private alternative(): Node {
    const s = this.s;
    const items: Node[] = [];
    const start = this.i;
    while (this.i < s.length && !this.at('\\|') && !(this.at('\\)') && this.open > 0)) {
      const c = s[this.i];
      const last = items.length > 0 ? items[items.length - 1] : undefined;
      const canRepeat = last !== undefined && !(last.t === 'assert' && last.kind === '^');
      // Quantifiers: *, \+, \?, \{m,n\}; with nothing before them they are plain characters.
      if (c === '*' || this.at('\\+') || this.at('\\?') || this.at('\\{')) {
        if (canRepeat) {
          let min: number;
          let max: number;
          if (c === '*') {
            [min, max] = [0, Infinity];
            this.i++;
          } else if (this.at('\\+') || this.at('\\?')) {
            [min, max] = this.at('\\+') ? [1, Infinity] : [0, 1];
            this.i += 2;
          } else {
            const m = /^\\\{(\d*)(,(\d*))?\\\}/.exec(s.slice(this.i));
            if (!m || (m[1] === '' && m[2] === undefined)) throw new PatternError('invalid content of \\{\\}');
            min = m[1] === '' ? 0 : Number(m[1]);
            max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
            if (max < min) throw new PatternError('invalid content of \\{\\}');
            this.i += m[0].length;
          }
          items[items.length - 1] = { t: 'rep', sub: last, min, max, lazy: false };
          continue;
        }
        if (c === '*') {
          this.i++;
          items.push({ t: 'set', r: one(42) });
          continue;
        }
        if (this.at('\\{')) throw new PatternError('invalid preceding regular expression');
        this.i += 2;
        items.push({ t: 'set', r: one(s.charCodeAt(this.i - 1)) });
        continue;
      }
      if (c === '^' && this.i === start) {
        this.i++;
        items.push({ t: 'assert', kind: '^' });
        continue;
      }
      if (c === '$') {
        const rest = s.slice(this.i + 1);
        if (rest === '' || rest.startsWith('\\|') || (rest.startsWith('\\)') && this.open > 0)) {
          this.i++;
          items.push({ t: 'assert', kind: '$' });
          continue;
        }
      }
      if (c === '.') {
        this.i++;
        items.push({ t: 'set', r: DOT });
        continue;
      }
      if (c === '[') {
        items.push(this.bracket());
        continue;
      }
      if (c === '\\') {
        items.push(this.escape());
        continue;
      }
      this.i++;
      items.push({ t: 'set', r: one(c.charCodeAt(0)) });
    }
    return items.length === 0 ? { t: 'empty' } : items.length === 1 ? items[0] : { t: 'cat', items };
  }

  private escape(): Node {
    const s = this.s;
    const e = s[this.i + 1];
    if (e === undefined) throw new PatternError('trailing backslash');
    if (e === '(') {
      this.i += 2;
      this.groups++;
      this.open++;
      const sub = this.disjunction();
      if (!this.at('\\)')) throw new PatternError('unmatched ( or \\(');
      this.i += 2;
      this.open--;
      return { t: 'group', sub, capture: true };
    }
    if (e === ')') throw new PatternError('unmatched ) or \\)');
    this.i += 2;
    if (e >= '1' && e <= '9') {
      const n = Number(e);
      if (n > this.groups) throw new PatternError('invalid back reference');
      return { t: 'backref', n };
    }
    const set = escapeSet(e);
    if (set) return { t: 'set', r: set };
    if (e === 'b' || e === 'B') return { t: 'assert', kind: e };
    if (e === '<' || e === '>') return { t: 'assert', kind: 'b' };
    if (e === '`') return { t: 'assert', kind: '^' };
    if (e === "'") return { t: 'assert', kind: '$' };
    return { t: 'set', r: one(e.charCodeAt(0)) };
  }

  /** A POSIX bracket expression: backslash is literal, ']' first is literal, [:class:]. */
  private bracket(): Node {
    const s = this.s;
    this.i++;
    let neg = false;
    if (s[this.i] === '^') {
      neg = true;
      this.i++;
    }
    const parts: Ranges[] = [];
    let first = true;
    const atom = (): number | Ranges => {
      const px = posixClassAt(s, this.i);
      if (px) {
        this.i = px.end;
        return px.set;
      }
      // [=a=] and [.a.]: equivalence class and collating symbol, taken as the character.
      const m = /^\[([=.])(.)\1\]/.exec(s.slice(this.i));
      if (m) {
        this.i += m[0].length;
        return m[2].charCodeAt(0);
      }
      if (s[this.i] === '[' && s[this.i + 1] === ':') throw new PatternError('invalid character class');
      return s.charCodeAt(this.i++);
    };
    while (first || s[this.i] !== ']') {
      if (this.i >= s.length) throw new PatternError('unmatched [, [^, [:, [., or [=');
      first = false;
      const a = atom();
      if (s[this.i] === '-' && s[this.i + 1] !== ']' && this.i + 1 < s.length) {
        this.i++;
        const b = atom();
        if (typeof a !== 'number' || typeof b !== 'number' || a > b) throw new PatternError('invalid range end');
        parts.push([a, b]);
      } else parts.push(typeof a === 'number' ? one(a) : a);
    }
    this.i++;
    const set = union(...parts);
    return neg ? { t: 'set', r: complement(set), neg: set } : { t: 'set', r: set };
  }
}

function literalNode(text: string): Node {
  const items: Node[] = [];
  for (let i = 0; i < text.length; i++) items.push({ t: 'set', r: one(text.charCodeAt(i)) });
  return items.length === 0 ? { t: 'empty' } : items.length === 1 ? items[0] : { t: 'cat', items };
}

/** Parse one pattern (one line of a grep pattern list) in a dialect. Throws PatternError. */
export function parsePattern(pattern: string, dialect: Dialect): Node {
  if (dialect === 'fixed') return literalNode(pattern);
  if (dialect === 'basic') return new BreParser(pattern).parse();
  return new JsParser(pattern).parse();
}

// ---- tree helpers ------------------------------------------------------------------------

function mapSets(n: Node, f: (r: Ranges) => Ranges): Node {
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
function closeSets(n: Node): Node {
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

function some(n: Node, pred: (n: Node, inNegLook: boolean) => boolean, inNegLook = false): boolean {
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

function countCaptures(n: Node): number {
  let k = 0;
  some(n, (x) => {
    if (x.t === 'group' && x.capture) k++;
    return false;
  });
  return k;
}

function shiftBackrefs(n: Node, by: number): Node {
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

// ---- serialising to a JavaScript regex ---------------------------------------------------

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

function toSource(n: Node): string {
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

// ---- trigram queries ---------------------------------------------------------------------

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

// ---- compiling a pattern list ------------------------------------------------------------

export interface PatternSpec {
  /** The patterns: a line matches when any matches (GNU: -e, or lines of the pattern). */
  patterns: string[];
  dialect: Dialect;
  ignoreCase?: boolean;
  /** -w: the match must be a whole word (no word character just before or after). */
  word?: boolean;
  /** -x: the match must be the whole line. */
  line?: boolean;
}

export interface CompiledPattern {
  /** Source for flags `flags` + 'gm', searching whole texts (no match can cross a newline). */
  source: string;
  /** 'i' only when case-insensitive with back-references (classes cannot spell that out). */
  flags: string;
  /**
   * The pattern uses ^ or $: with flag 'm' they also match beside \r (and \u2028, \u2029), which
   * a line-by-line search would not; a line holding one is checked again without 'm'.
   */
  anchored: boolean;
  /** Match line by line only (anchors inside a negative lookaround: 'm' could hide a match). */
  perLine: boolean;
  /** Every character the pattern can match is ASCII: it may run on the bytes read as latin1. */
  asciiOnly: boolean;
  /** The pattern is exactly this string (no variants, no anchors): found with indexOf on bytes. */
  literal?: string;
  /**
   * A string every match contains (the longest such run of plain characters), when there is
   * one: only lines holding it can match, and they are found with indexOf on the bytes.
   */
  required?: string;
  /** Which files can hold a match. */
  query: TrigramQuery;
  /** The tree (for tests and tools). */
  tree: Node;
}

const MAX_PATTERN = 10_000;

function invalid(detail: string): Error {
  return vfsError('EINVAL', undefined, `grep: invalid regular expression: ${detail}`);
}

/** Parse, check and rewrite a grep pattern list. Throws EINVAL with a one-line message. */
export function compilePatterns(spec: PatternSpec): CompiledPattern {
  const total = spec.patterns.reduce((a, p) => a + p.length, 0);
  if (total > MAX_PATTERN) throw vfsError('EINVAL', undefined, `grep: pattern longer than ${MAX_PATTERN} characters`);
  const trees: Node[] = [];
  let shift = 0;
  for (const p of spec.patterns) {
    if (spec.dialect === 'extended') {
      // V8's own verdict first: its message for a pattern it refuses, in our words.
      try {
        new RegExp(p);
      } catch (e) {
        throw invalid((e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '').replace(/^Invalid regular expression: /, ''));
      }
    }
    let tree: Node;
    try {
      tree = parsePattern(p, spec.dialect);
    } catch (e) {
      if (e instanceof PatternError) throw invalid(e.message);
      throw e;
    }
    const caps = countCaptures(tree);
    trees.push(shiftBackrefs(tree, shift));
    shift += caps;
  }
  let tree: Node = trees.length === 1 ? trees[0] : { t: 'alt', alts: trees.map((x) => ({ t: 'group', sub: x, capture: false })) };
  const hasBackref = some(tree, (x) => x.t === 'backref');
  const useFlagI = !!spec.ignoreCase && hasBackref;
  // Line matching: nothing matches '\n'; case variants spelled out unless flag 'i' does it.
  if (spec.ignoreCase) tree = closeSets(tree);
  tree = mapSets(tree, withoutNewline);
  const query = trigramQuery(tree);
  const core: Node = tree.t === 'alt' ? { t: 'group', sub: tree, capture: false } : tree;
  let whole: Node = core;
  if (spec.line) whole = { t: 'cat', items: [{ t: 'assert', kind: '^' }, core, { t: 'assert', kind: '$' }] };
  else if (spec.word) {
    // A word: no word character right before or after (GNU -w). Spelled with consuming
    // alternatives, not lookarounds, so the linear-time engine can still take it.
    const notWord = withoutNewline(complement(WORD));
    whole = {
      t: 'cat',
      items: [
        { t: 'group', capture: false, sub: { t: 'alt', alts: [{ t: 'assert', kind: '^' }, { t: 'set', r: notWord }] } },
        core,
        { t: 'group', capture: false, sub: { t: 'alt', alts: [{ t: 'assert', kind: '$' }, { t: 'set', r: notWord }] } },
      ],
    };
  }
  const anchored = some(whole, (x) => x.t === 'assert' && (x.kind === '^' || x.kind === '$'));
  const perLine = some(whole, (x, neg) => neg && x.t === 'assert' && (x.kind === '^' || x.kind === '$'));
  // Judged on the pattern itself: -w's edge characters take any non-word unit, and any byte of a
  // multi-byte character next to the match is one too, so reading bytes as latin1 changes nothing.
  const asciiOnly = !useFlagI && !some(core, (x) => x.t === 'set' && x.r.length > 0 && x.r[x.r.length - 1] >= 0x80);
  const source = toSource(whole);
  const flags = useFlagI ? 'i' : '';
  try {
    new RegExp(source, flags + 'gm');
  } catch (e) {
    throw invalid((e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, ''));
  }
  const out: CompiledPattern = { source, flags, anchored, perLine, asciiOnly, query, tree: whole };
  const req = requiredOf(whole).sort((a, b) => Buffer.byteLength(b) - Buffer.byteLength(a))[0];
  if (req !== undefined && Buffer.byteLength(req) >= 3 && !/[\ud800-\udfff]/.test(req)) out.required = req;
  const lit = literalOf(whole);
  if (lit !== undefined && lit.length > 0 && !useFlagI && !/[\ud800-\udfff]/.test(lit)) out.literal = lit;
  return out;
}

/** The one string a tree matches, when it is a plain sequence of single characters. */
function literalOf(n: Node): string | undefined {
  if (n.t === 'set') return n.r.length === 2 && n.r[0] === n.r[1] ? String.fromCharCode(n.r[0]) : undefined;
  if (n.t === 'group' && !n.capture) return literalOf(n.sub);
  if (n.t !== 'cat') return undefined;
  let s = '';
  for (const x of n.items) {
    const p = literalOf(x);
    if (p === undefined) return undefined;
    s += p;
  }
  return s;
}

/** Strings every match of the tree contains: runs of single characters in sequence. */
function requiredOf(n: Node): string[] {
  const single = (x: Node): string | undefined => (x.t === 'set' && x.r.length === 2 && x.r[0] === x.r[1] ? String.fromCharCode(x.r[0]) : undefined);
  switch (n.t) {
    case 'set': {
      const c = single(n);
      return c === undefined ? [] : [c];
    }
    case 'group':
      return requiredOf(n.sub);
    case 'rep':
      return n.min >= 1 ? requiredOf(n.sub) : [];
    case 'cat': {
      const out: string[] = [];
      let run = '';
      for (const x of n.items) {
        const c = single(x);
        if (c !== undefined) {
          run += c;
          continue;
        }
        // Zero-width assertions take no characters: the run goes on across them.
        if (x.t === 'assert') continue;
        if (run) out.push(run);
        run = '';
        out.push(...requiredOf(x));
      }
      if (run) out.push(run);
      return out;
    }
    default:
      return [];
  }
}
