// The full-text query language, the one SQLite FTS5 speaks (so `memory search` and the search
// issue's `search` read queries alike):
//
//   word          a word (folded like the text: case and diacritics do not matter)
//   data*         any word starting with "data"
//   "a b c"       the words one after another (a phrase); "a b"* (or "a b*") ends in a prefix
//   a b           both (AND is implied); `a AND b` says it out loud
//   a OR b        either
//   a NOT b       a, but not b (NOT needs something on its left, as in FTS5)
//   ( ... )       grouping
//
// Operators are upper case; lower-case "and", "or", "not" are ordinary words. Precedence, from
// tightest: NOT, AND, OR. A bare word holding punctuation ("foo.bar", "e-mail") is the phrase
// of its parts, as FTS5 treats a quoted one. Errors are VfsError EINVAL with a one-line reason.
import { vfsError } from '../errors.js';
import type { TextQuery } from '../storage/contract.js';
import { fold, tokenize } from './tokenize.js';

/** The parsed query; the storage contract defines its shape (engines with their own index take it). */
export type QueryNode = TextQuery;

/** Queries longer than this are refused (an agent's runaway query should fail, not grind). */
export const MAX_QUERY_CHARS = 4096;
const MAX_DEPTH = 32;

type Tok =
  | { t: 'word'; text: string; prefix: boolean; at: number }
  | { t: 'phrase'; text: string; prefix: boolean; at: number }
  | { t: 'op'; op: 'AND' | 'OR' | 'NOT'; at: number }
  | { t: '(' | ')'; at: number };

const bad = (why: string): Error => vfsError('EINVAL', undefined, `query: ${why}`);

function lex(q: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      out.push({ t: c, at: i });
      i++;
    } else if (c === '"') {
      // A doubled quote inside a phrase is a literal quote (FTS5's rule); it separates words anyway.
      let j = i + 1;
      let text = '';
      for (;;) {
        if (j >= q.length) throw bad(`missing closing quote for the phrase at character ${i + 1}`);
        if (q[j] === '"') {
          if (q[j + 1] === '"') {
            text += '"';
            j += 2;
            continue;
          }
          break;
        }
        text += q[j++];
      }
      j++;
      let prefix = q[j] === '*';
      if (prefix) j++;
      // "a b*" (the star inside) means what "a b"* (FTS5's spelling) means.
      const inner = /\*\s*$/.exec(text);
      if (inner) {
        text = text.slice(0, inner.index);
        prefix = true;
      }
      out.push({ t: 'phrase', text, prefix, at: i });
      i = j;
    } else {
      let j = i;
      while (j < q.length && !/[\s()"]/.test(q[j])) j++;
      let text = q.slice(i, j);
      if (text === 'AND' || text === 'OR' || text === 'NOT') {
        out.push({ t: 'op', op: text, at: i });
      } else {
        const prefix = text.endsWith('*');
        if (prefix) text = text.slice(0, -1);
        if (text.includes('*')) throw bad(`"*" may only end a word ("${q.slice(i, j)}")`);
        if (text === '') throw bad('"*" needs a word before it (like data*)');
        out.push({ t: 'word', text, prefix, at: i });
      }
      i = j;
    }
  }
  return out;
}

/** The folded terms of a word or phrase; null when it holds no letters or digits at all. */
function leaf(text: string, prefix: boolean): QueryNode | null {
  const terms = tokenize(text).tokens.map((t) => t.term);
  if (terms.length === 0) {
    // "*" after punctuation only, or a phrase of punctuation: nothing to look for.
    return null;
  }
  return { kind: 'phrase', terms, prefix };
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private toks: Tok[]) {}

  private peek(): Tok | undefined {
    return this.toks[this.i];
  }

  parse(): QueryNode | null {
    const n = this.or();
    const t = this.peek();
    if (t) throw bad(t.t === ')' ? `unmatched ")" at character ${t.at + 1}` : `unexpected ${describe(t)} at character ${t.at + 1}`);
    return n;
  }

  private or(): QueryNode | null {
    const parts: (QueryNode | null)[] = [this.and()];
    while (this.peek()?.t === 'op' && (this.peek() as { op: string }).op === 'OR') {
      const at = this.toks[this.i++].at;
      if (!this.startsOperand()) throw bad(`OR at character ${at + 1} needs a term after it`);
      parts.push(this.and());
    }
    return combine('or', parts);
  }

  private and(): QueryNode | null {
    const first = this.peek();
    if (!this.startsOperand()) {
      if (first?.t === 'op') throw bad(`${first.op} at character ${first.at + 1} needs a term before it`);
      if (first?.t === ')') throw bad(`unmatched ")" at character ${first.at + 1}`);
      throw bad('nothing to search for');
    }
    const parts: (QueryNode | null)[] = [this.not()];
    for (;;) {
      const t = this.peek();
      if (t?.t === 'op' && t.op === 'AND') {
        this.i++;
        if (!this.startsOperand()) throw bad(`AND at character ${t.at + 1} needs a term after it`);
        parts.push(this.not());
      } else if (this.startsOperand()) {
        parts.push(this.not());
      } else {
        break;
      }
    }
    return combine('and', parts);
  }

  private not(): QueryNode | null {
    let left = this.primary();
    while (this.peek()?.t === 'op' && (this.peek() as { op: string }).op === 'NOT') {
      const at = this.toks[this.i++].at;
      if (!this.startsOperand()) throw bad(`NOT at character ${at + 1} needs a term after it`);
      const right = this.primary();
      if (left === null) throw bad(`NOT at character ${at + 1} needs a term with letters or digits before it`);
      if (right !== null) left = { kind: 'not', pos: left, neg: right };
    }
    return left;
  }

  private primary(): QueryNode | null {
    const t = this.toks[this.i++];
    if (t.t === '(') {
      if (++this.depth > MAX_DEPTH) throw bad(`parentheses nested deeper than ${MAX_DEPTH}`);
      if (this.peek()?.t === ')') throw bad(`empty parentheses at character ${t.at + 1}`);
      const inner = this.or();
      const close = this.toks[this.i++];
      if (close?.t !== ')') throw bad(`missing ")" for the "(" at character ${t.at + 1}`);
      this.depth--;
      return inner;
    }
    if (t.t === 'word' || t.t === 'phrase') return leaf(t.text, t.prefix);
    throw bad(`unexpected ${describe(t)} at character ${t.at + 1}`);
  }

  private startsOperand(): boolean {
    const t = this.peek();
    return t !== undefined && (t.t === 'word' || t.t === 'phrase' || t.t === '(');
  }
}

function describe(t: Tok): string {
  return t.t === 'op' ? t.op : t.t === 'word' || t.t === 'phrase' ? `"${t.text}"` : `"${t.t}"`;
}

function combine(kind: 'and' | 'or', parts: (QueryNode | null)[]): QueryNode | null {
  const kept: QueryNode[] = [];
  for (const p of parts) {
    if (p === null) continue;
    // Flatten a AND (b AND c): one node, so evaluation can order all the parts at once.
    if (p.kind === kind) kept.push(...p.children);
    else kept.push(p);
  }
  if (kept.length === 0) return null;
  return kept.length === 1 ? kept[0] : { kind, children: kept };
}

/** Parse a query. Throws EINVAL for a syntax error or a query with nothing to look for. */
export function parseQuery(q: string): QueryNode {
  if (q.length > MAX_QUERY_CHARS) throw bad(`longer than ${MAX_QUERY_CHARS} characters`);
  if (q.includes('\0')) throw bad('contains a NUL character');
  const toks = lex(q);
  if (toks.length === 0) throw bad('empty (give a word, a "phrase" or a prefix*)');
  const n = new Parser(toks).parse();
  if (n === null) throw bad('no letters or digits to search for');
  return n;
}

/** The query again in its canonical form (tests, messages). */
export function formatQuery(n: QueryNode): string {
  switch (n.kind) {
    case 'phrase': {
      const body = n.terms.join(' ');
      return (n.terms.length > 1 ? `"${body}"` : body) + (n.prefix ? '*' : '');
    }
    case 'and':
      return `(${n.children.map(formatQuery).join(' AND ')})`;
    case 'or':
      return `(${n.children.map(formatQuery).join(' OR ')})`;
    case 'not':
      return `(${formatQuery(n.pos)} NOT ${formatQuery(n.neg)})`;
  }
}

/** Every phrase in the query that a matching document must or may contain (not under NOT). */
export function positivePhrases(n: QueryNode): { terms: string[]; prefix: boolean }[] {
  switch (n.kind) {
    case 'phrase':
      return [n];
    case 'and':
    case 'or':
      return n.children.flatMap(positivePhrases);
    case 'not':
      return positivePhrases(n.pos);
  }
}

export { fold };
