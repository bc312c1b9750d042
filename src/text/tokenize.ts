// Words for the full-text index: the rules of SQLite FTS5's unicode61 tokenizer (the search
// issue's index on sqlite), so that the same text and query find the same things on every
// engine. A token is a run of letters and digits (any script; anything else separates),
// folded to lower case with diacritics removed ("Café" -> "cafe"). No stemming, no stop words.
// Positions count every token, so a phrase never matches across a word the index skipped.

/** Longer tokens (hashes, base64 blobs) are not indexed: they bloat the index and are never typed. */
export const MAX_TERM_BYTES = 200;

const WORD = /[\p{L}\p{N}\p{Co}]+/gu;
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
