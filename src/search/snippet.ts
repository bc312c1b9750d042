// The snippet shown with a search hit: the line of the file that best matches the query, cut to
// a readable width around its first match, with the matching words marked. Made from the file's
// text, not from the index, so it reads the same whichever index found the file.
import { CJK, fold } from '../text/tokenize.js';

export interface Snippet {
  /** 1-based line number in the file. */
  line: number;
  text: string;
  /** [start, end) character offsets in `text` of the words that matched. */
  highlights: [number, number][];
}

export interface SnippetTerms {
  /** Folded words a match may be; a prefix term matches any word starting with it. */
  words: Set<string>;
  prefixes: string[];
}

// Tokens of the original text (marks kept inside a word so offsets stay the original's).
const TOKEN = new RegExp(`${CJK}|[[\\p{L}\\p{N}\\p{Co}\\p{M}]--${CJK}]+`, 'gv');
const WIDTH = 200;
/** A huge file's snippet is looked for in its first part only: a hit must answer quickly. */
const MAX_SCAN_CHARS = 2 * 1024 * 1024;
/** Lines looked at, at most: the best line is almost always among the first. */
const MAX_LINES = 20_000;

export function snippetTerms(phrases: { terms: string[]; prefix: boolean }[]): SnippetTerms {
  const words = new Set<string>();
  const prefixes: string[] = [];
  for (const p of phrases) {
    p.terms.forEach((t, i) => (p.prefix && i === p.terms.length - 1 ? prefixes.push(t) : words.add(t)));
  }
  return { words, prefixes };
}

function matches(terms: SnippetTerms, word: string): boolean {
  const f = fold(word);
  return terms.words.has(f) || terms.prefixes.some((p) => f.startsWith(p));
}

/** The best line: the most distinct query words, the earliest on a tie. Undefined when none matches. */
export function makeSnippet(text: string, terms: SnippetTerms): Snippet | undefined {
  const scan = text.length > MAX_SCAN_CHARS ? text.slice(0, MAX_SCAN_CHARS) : text;
  // Lines worth a look: those where a query word occurs as written, ignoring case (one regular
  // expression over the text, no lower-cased copy of it), taken in order until a line holds
  // every word.
  const needles = [...terms.words, ...terms.prefixes];
  let seenAny = false;
  let best: Best | undefined;
  if (needles.length > 0) {
    best = bestLine(scan, terms, linesHolding(scan, needles, () => (seenAny = true)));
  }
  // Nothing as written: folding made the match ("café" for cafe), so every line is looked at.
  if (!best && !seenAny) best = bestLine(scan, terms, allLineStarts(scan));
  if (!best) return undefined;
  const line = countLines(scan, best.start);
  const full = scan.slice(best.start, best.end).replace(/\r$/, '');
  // Cut around the first match; keep whole characters (no split surrogate pairs).
  let from = 0;
  if (full.length > WIDTH) from = Math.max(0, Math.min(best.hits[0][0] - 40, full.length - WIDTH));
  const chars = Array.from(full.slice(from, from + WIDTH + 1)).join('').slice(0, WIDTH);
  const lead = full.slice(0, from).trimStart().length > 0 ? '…' : '';
  const body = lead + chars.replace(/\t/g, ' ');
  const shift = lead.length - from;
  const highlights = best.hits
    .map(([s, e]) => [s + shift, e + shift] as [number, number])
    .filter(([s, e]) => s >= lead.length && e <= body.length);
  return { line, text: body, highlights };
}

interface Best {
  start: number;
  end: number;
  hits: [number, number][];
  distinct: number;
}

/** The starts of the lines where a needle occurs (case ignored, inside words too), in order. */
function* linesHolding(scan: string, needles: string[], found: () => void): Generator<number> {
  const any = new RegExp(needles.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'giu');
  for (let m = any.exec(scan); m !== null; m = any.exec(scan)) {
    found();
    yield scan.lastIndexOf('\n', m.index) + 1;
    // One look per line: go on from the next one.
    const nl = scan.indexOf('\n', m.index);
    if (nl < 0) return;
    any.lastIndex = nl + 1;
  }
}

/** Among the lines starting at `starts`, the one with the most distinct query words (the first on a tie). */
function bestLine(scan: string, terms: SnippetTerms, starts: Iterable<number>): Best | undefined {
  const wanted = terms.words.size + terms.prefixes.length;
  let best: Best | undefined;
  let looked = 0;
  for (const start of starts) {
    if (++looked > MAX_LINES) break;
    let end = scan.indexOf('\n', start);
    if (end < 0) end = scan.length;
    const hits: [number, number][] = [];
    const seen = new Set<string>();
    for (const m of scan.slice(start, end).matchAll(TOKEN)) {
      if (matches(terms, m[0])) {
        hits.push([m.index!, m.index! + m[0].length]);
        seen.add(fold(m[0]));
      }
    }
    if (hits.length > 0 && (!best || seen.size > best.distinct)) {
      best = { start, end, hits, distinct: seen.size };
      if (seen.size >= wanted) break;
    }
  }
  return best;
}

function allLineStarts(text: string): number[] {
  const out = [0];
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) out.push(at + 1);
  return out;
}

/** 1-based number of the line starting at `start`. */
function countLines(text: string, start: number): number {
  let n = 1;
  for (let at = text.indexOf('\n'); at >= 0 && at < start; at = text.indexOf('\n', at + 1)) n++;
  return n;
}

/** The snippet with its matches wrapped in `open`/`close` (ANSI colour on a terminal, ** otherwise). */
export function markSnippet(s: Snippet, open: string, close: string): string {
  let out = '';
  let at = 0;
  for (const [a, b] of s.highlights) {
    out += s.text.slice(at, a) + open + s.text.slice(a, b) + close;
    at = b;
  }
  return out + s.text.slice(at);
}
