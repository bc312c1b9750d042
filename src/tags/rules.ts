// What a tag name, a colour, a metadata key and a metadata value may be (docs/tags.md). Every
// check throws a VfsError with a one-line reason before anything is written.
import { vfsError } from '../errors.js';
import { normalizePath } from '../core/paths.js';

/** Longest tag name, in UTF-8 bytes (after lower-casing). */
export const MAX_TAG_BYTES = 128;
/** Longest metadata key, in UTF-8 bytes. */
export const MAX_META_KEY_BYTES = 255;
/** Largest metadata value, in UTF-8 bytes (64 KiB). */
export const MAX_META_VALUE_BYTES = 64 * 1024;

/** How a name or value is shown in a message: quoted, control characters escaped, long ones cut. */
export function show(s: string): string {
  return JSON.stringify(s.length > 60 ? s.slice(0, 60) + '…' : s);
}

// A UTF-16 half that has no other half: not text, and Buffer.from would silently replace it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// Whitespace, control and format characters (newline, tab, NUL, zero-width space, BOM...).
const INVISIBLE = /[\s\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Zs}]/u;

/**
 * A tag name as stored: Unicode NFC, lower case (tags are case-insensitive: `Draft` is `draft`),
 * 1..MAX_TAG_BYTES bytes, no whitespace or control characters, no ',' (lists of tags are
 * written with commas), not starting with '-' (it would read as a flag).
 */
export function checkTag(tag: unknown): string {
  if (typeof tag !== 'string') throw vfsError('EINVAL', undefined, 'a tag must be a string');
  if (tag.length === 0) throw vfsError('EINVAL', undefined, 'empty tag name');
  if (LONE_SURROGATE.test(tag)) throw vfsError('EINVAL', undefined, `tag ${show(tag)} is not valid Unicode text`);
  const t = tag.normalize('NFC').toLowerCase();
  if (INVISIBLE.test(t)) throw vfsError('EINVAL', undefined, `tag ${show(tag)} contains whitespace or a control character`);
  if (t.includes(',')) throw vfsError('EINVAL', undefined, `tag ${show(tag)} contains ','`);
  if (t.startsWith('-')) throw vfsError('EINVAL', undefined, `tag ${show(tag)} starts with '-'`);
  const bytes = Buffer.byteLength(t);
  if (bytes > MAX_TAG_BYTES) throw vfsError('ENAMETOOLONG', undefined, `tag ${show(tag)} is ${bytes} bytes long (at most ${MAX_TAG_BYTES})`);
  return t;
}

/** A list of tags (or one), checked, lower-cased, without repeats; at least one. */
export function checkTags(tags: unknown): string[] {
  const list = typeof tags === 'string' ? [tags] : tags;
  if (!Array.isArray(list)) throw vfsError('EINVAL', undefined, 'tags must be a string or an array of strings');
  if (list.length === 0) throw vfsError('EINVAL', undefined, 'no tag given');
  const out: string[] = [];
  for (const t of list) {
    const tag = checkTag(t);
    if (!out.includes(tag)) out.push(tag);
  }
  return out;
}

/** A colour: `#rgb` or `#rrggbb` (the '#' optional), stored as `#rrggbb` in lower case. */
export function checkColor(color: unknown): string {
  if (typeof color !== 'string') throw vfsError('EINVAL', undefined, 'a colour must be a string like "#ff8800"');
  const m = /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.exec(color);
  if (!m) throw vfsError('EINVAL', undefined, `colour ${show(color)} is not a hex colour (#rgb or #rrggbb)`);
  const hex = m[1].length === 3 ? [...m[1]].map((c) => c + c).join('') : m[1];
  return '#' + hex.toLowerCase();
}

/**
 * A metadata key: 1..MAX_META_KEY_BYTES bytes, case-sensitive, kept exactly as given; no
 * whitespace or control characters and no '=' (the CLI lists metadata as key=value lines).
 */
export function checkMetaKey(key: unknown): string {
  if (typeof key !== 'string') throw vfsError('EINVAL', undefined, 'a metadata key must be a string');
  if (key.length === 0) throw vfsError('EINVAL', undefined, 'empty metadata key');
  if (LONE_SURROGATE.test(key)) throw vfsError('EINVAL', undefined, `metadata key ${show(key)} is not valid Unicode text`);
  if (INVISIBLE.test(key)) throw vfsError('EINVAL', undefined, `metadata key ${show(key)} contains whitespace or a control character`);
  if (key.includes('=')) throw vfsError('EINVAL', undefined, `metadata key ${show(key)} contains '='`);
  const bytes = Buffer.byteLength(key);
  if (bytes > MAX_META_KEY_BYTES) throw vfsError('ENAMETOOLONG', undefined, `metadata key ${show(key)} is ${bytes} bytes long (at most ${MAX_META_KEY_BYTES})`);
  return key;
}

/** A metadata value: any text (newlines too) up to MAX_META_VALUE_BYTES bytes of UTF-8. */
export function checkMetaValue(value: unknown, key = ''): string {
  const of = key ? ` of ${show(key)}` : '';
  if (typeof value !== 'string') throw vfsError('EINVAL', undefined, `the metadata value${of} must be a string, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  if (LONE_SURROGATE.test(value)) throw vfsError('EINVAL', undefined, `the metadata value${of} is not valid Unicode text`);
  // Cheap bound first: a UTF-16 unit is at most 3 UTF-8 bytes.
  const bytes = value.length * 3 <= MAX_META_VALUE_BYTES ? value.length : Buffer.byteLength(value);
  if (bytes > MAX_META_VALUE_BYTES) {
    throw vfsError('EFBIG', undefined, `the metadata value${of} is ${bytes} bytes (at most ${MAX_META_VALUE_BYTES})`);
  }
  return value;
}

export type MetaMap = Record<string, string>;
/** What exportMeta() gives and importMeta() takes: canonical absolute vault path -> key -> value. */
export type MetaExport = Record<string, MetaMap>;

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Check a whole import document before anything is written: an object whose keys are
 * canonical absolute vault paths (as exportMeta writes them: no '.', '..', '//' or trailing
 * '/') and whose values are objects of string values. Returns [path, entries] pairs.
 */
export function checkMetaExport(doc: unknown): [string, [string, string][]][] {
  if (!isPlainObject(doc)) throw vfsError('EINVAL', undefined, `metadata to import must be an object of {"/path": {"key": "value"}}, got ${kind(doc)}`);
  const out: [string, [string, string][]][] = [];
  for (const [path, entries] of Object.entries(doc)) {
    let canonical: string | undefined;
    try {
      canonical = path.startsWith('/') ? normalizePath(path) : undefined;
    } catch {
      canonical = undefined;
    }
    if (canonical !== path) {
      throw vfsError('EINVAL', undefined, `metadata import: ${show(path)} is not a canonical absolute vault path (like "/docs/a.md": no "..", ".", "//" or trailing "/")`);
    }
    if (!isPlainObject(entries)) throw vfsError('EINVAL', undefined, `metadata import: the value for ${show(path)} must be an object of "key": "value", got ${kind(entries)}`);
    const pairs: [string, string][] = [];
    for (const [k, v] of Object.entries(entries)) {
      try {
        pairs.push([checkMetaKey(k), checkMetaValue(v, k)]);
      } catch (e) {
        const err = e as { code: 'EINVAL'; message: string };
        throw vfsError(err.code, path, `metadata import: ${err.message}`);
      }
    }
    out.push([path, pairs]);
  }
  return out;
}
