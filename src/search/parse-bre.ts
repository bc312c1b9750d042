// GNU grep's basic regular expressions (the 'basic' dialect, the CLI's default) parsed into the
// tree of pattern-tree.ts: \( \) \{ \} \| \+ \? are the operators, + ? | ( ) { } plain
// characters, '*' with nothing before it a character, and brackets take backslash literally.
import { DOT, complement, escapeSet, one, posixClassAt, union, type Ranges } from './charsets.js';
import { PatternError, type Node } from './pattern-tree.js';

/** GNU grep's basic regular expressions (BRE, with GNU's extensions). */
export class BreParser {
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
