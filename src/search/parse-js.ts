// JavaScript's regex syntax (the 'extended' dialect: -E, -P and the library's default) parsed
// into the tree of pattern-tree.ts, as V8 reads it in non-Unicode mode with its Annex B
// leniencies (a '{' that is no quantifier, legacy octal escapes, a lone '\c'), plus GNU's
// POSIX classes ([[:alpha:]]) and word edges (\< \>, as \b). compilePatterns (pattern.ts) has
// V8 judge each pattern first, so the messages for bad ones are V8's.
import { DOT, complement, escapeSet, one, posixClassAt, union, type Ranges } from './charsets.js';
import { PatternError, type Node } from './pattern-tree.js';

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

export class JsParser {
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
