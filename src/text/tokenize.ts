// Words for the full-text indexes, made here for every engine: SQLite's FTS5 is handed these
// words ready-made (see ftsWords), so the same text and query find the same things everywhere.
// A token is a run of letters and digits (any script; anything else separates), folded to
// lower case with diacritics removed ("Café" -> "cafe"). Chinese and Japanese write without
// spaces, so each Han, Hiragana or Katakana character is a token of its own and a query word
// in them becomes a phrase of characters ("東京" finds 東京 inside any sentence). No stemming,
// no stop words. Positions count every token, so a phrase never matches across a skipped word.

/** Longer tokens (hashes, base64 blobs) are not indexed: they bloat the index and are never typed. */
export const MAX_TERM_BYTES = 200;

// The 'v' flag (set subtraction) is in Node 20's V8; built from a string for tsc's ES2022 target.
const CJK = '[\\p{sc=Han}\\p{sc=Hiragana}\\p{sc=Katakana}]';
const WORD = new RegExp(`${CJK}|[[\\p{L}\\p{N}\\p{Co}]--${CJK}]+`, 'gv');
/** Stands in for a token too long to index, so FTS5 counts positions and lengths as we do. */
const SKIPPED = '\u{F0000}';
const MARKS = /\p{M}+/gu;

export interface Token {
  term: string;
  /** Index of the token in the text (0, 1, 2, ...). */
  pos: number;
}

/** Fold one word the way the index stores it. */
export function fold(word: string): string {
  return word.normalize('NFKD').replace(MARKS, '').toLowerCase();
}

/** The tokens of a text, in order; `count` includes tokens too long to index. */
export function tokenize(text: string): { tokens: Token[]; count: number } {
  const tokens: Token[] = [];
  let pos = 0;
  // Folding first: NFKD may split a character into letter + mark, and the mark must not split the word.
  for (const m of fold(text).matchAll(WORD)) {
    const term = m[0];
    if (Buffer.byteLength(term) <= MAX_TERM_BYTES) tokens.push({ term, pos });
    pos++;
  }
  return { tokens, count: pos };
}

/** term -> its positions, for indexing one document. */
export function termPositions(text: string): { terms: Map<string, number[]>; length: number } {
  const { tokens, count } = tokenize(text);
  const terms = new Map<string, number[]>();
  for (const t of tokens) {
    const list = terms.get(t.term);
    if (list) list.push(t.pos);
    else terms.set(t.term, [t.pos]);
  }
  return { terms, length: count };
}

/**
 * A text as FTS5 gets it: the folded tokens separated by single spaces (with SQLite's 'ascii'
 * tokenizer, which splits on ASCII non-alphanumerics only, FTS5 sees exactly these words), a
 * placeholder for each token too long to index. Also returns the token count (the length).
 */
export function ftsWords(text: string): { words: string; length: number } {
  const parts: string[] = [];
  for (const m of fold(text).matchAll(WORD)) {
    const term = m[0];
    parts.push(Buffer.byteLength(term) <= MAX_TERM_BYTES ? term : SKIPPED);
  }
  return { words: parts.join(' '), length: parts.length };
}
