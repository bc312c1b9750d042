// grep's patterns: a pattern list parsed into a small syntax tree (pattern-tree.ts, by
// parse-js.ts or parse-bre.ts), from which come
//   - the JavaScript regular expression that is actually run (regex-source.ts), rewritten for
//     line matching: no part of it can match a newline ('.', negated classes, \s, \W, \D lose
//     '\n'), so searching a whole file text at once (flags 'gm') finds exactly the lines a
//     line-by-line search finds; case-insensitivity is spelled out in the classes ([aA]) rather
//     than flag 'i', so V8 can fall back to its linear-time engine on a pattern that
//     backtracks (see matcher.ts);
//   - the trigram query (trigram-query.ts) that tells the index which files can hold a match;
//   - the plain strings that let a search skip most of the regex work (a literal, a string every
//     match contains).
//
// Dialects: 'basic' is GNU grep's default (BRE: \( \) \{ \} \| \+ \? are the operators, + ? |
// ( ) { } are plain characters); 'extended' (-E, -P) is JavaScript's own syntax (non-Unicode
// mode, with its Annex B leniencies); 'fixed' (-F) takes the text literally. Both regex
// dialects also take GNU's POSIX classes ([[:alpha:]]) and word edges (\< \>, as \b).
//
// Characters are UTF-16 code units, as in non-Unicode JavaScript regexes (charsets.ts).
import { vfsError } from '../errors.js';
import { WORD, complement, one, withoutNewline } from './charsets.js';
import { PatternError, closeSets, countCaptures, mapSets, shiftBackrefs, some, type Dialect, type Node } from './pattern-tree.js';
import { JsParser } from './parse-js.js';
import { BreParser } from './parse-bre.js';
import { toSource } from './regex-source.js';
import { trigramQuery, type TrigramQuery } from './trigram-query.js';

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
