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
/** Scripts written without spaces: each character is a word of its own (regex source, 'v' flag). */
export const CJK = '[\\p{sc=Han}\\p{sc=Hiragana}\\p{sc=Katakana}]';
const WORD = new RegExp(`${CJK}|[[\\p{L}\\p{N}\\p{Co}]--${CJK}]+`, 'gv');
/** Stands in for a token too long to index, so FTS5 counts positions and lengths as we do. */
const SKIPPED = '\u{F0000}';
const MARKS = /\p{M}+/gu;
const NON_ASCII = /[^\x00-\x7f]/;
const ASCII_WORD = /[a-z0-9]+/g;

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
  // Folding first: NFKD may split a character into letter + mark, and the mark must not split
  // the word. ASCII text folds by lower-casing alone (see ftsWords).
  const ascii = !NON_ASCII.test(text);
  for (const m of ascii ? text.toLowerCase().matchAll(ASCII_WORD) : fold(text).matchAll(WORD)) {
    const term = m[0];
    if ((ascii ? term.length : Buffer.byteLength(term)) <= MAX_TERM_BYTES) tokens.push({ term, pos });
    pos++;
  }
  return { tokens, count: pos };
}

/** term -> its positions, for indexing one document (no token objects: indexing is bulk work). */
export function termPositions(text: string): { terms: Map<string, number[]>; length: number } {
  const terms = new Map<string, number[]>();
  const ascii = !NON_ASCII.test(text);
  let pos = 0;
  for (const m of ascii ? text.toLowerCase().matchAll(ASCII_WORD) : fold(text).matchAll(WORD)) {
    const term = m[0];
    if ((ascii ? term.length : Buffer.byteLength(term)) <= MAX_TERM_BYTES) {
      const list = terms.get(term);
      if (list) list.push(pos);
      else terms.set(term, [pos]);
    }
    pos++;
  }
  return { terms, length: pos };
}

/**
 * A text as FTS5 gets it: the folded tokens separated by single spaces (with SQLite's 'ascii'
 * tokenizer, which splits on ASCII non-alphanumerics only, FTS5 sees exactly these words), a
 * placeholder for each token too long to index. Also returns the token count (the length).
 */
export function ftsWords(text: string): { words: string; length: number } {
  const parts: string[] = [];
  // Most files are ASCII (code, headers, logs): there folding is lower-casing and a word is
  // [a-z0-9]+, the same tokens for a fraction of the work.
  if (!NON_ASCII.test(text)) {
    for (const m of text.toLowerCase().matchAll(ASCII_WORD)) parts.push(m[0].length <= MAX_TERM_BYTES ? m[0] : SKIPPED);
    return { words: parts.join(' '), length: parts.length };
  }
  for (const m of fold(text).matchAll(WORD)) {
    const term = m[0];
    parts.push(Buffer.byteLength(term) <= MAX_TERM_BYTES ? term : SKIPPED);
  }
  return { words: parts.join(' '), length: parts.length };
}
