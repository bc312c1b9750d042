// Every collection lives in one RocksDB key space under its own prefix: the collection's name and
// a 0x00 byte. Names (not numbers) so that collections added to the contract later shift
// nothing; the 0x00 keeps "tags\0..." apart from "tag_defs\0...", and since names never hold
// 0x00, one collection's keys all sort together. Keys starting with 0x00 are the engine's own
// (the format record).
import type { Bounds, Collection } from '../contract.js';
import { COLLECTION_NAMES } from '../contract.js';

/**
 * The engine's format record, {"format":N}, written when the store is made. Format 2 stores the
 * values of `dirents` as text (textValue below); format 1 stored them as they came. Both are
 * read; new stores, compaction and copies write format 2.
 */
export const FORMAT_KEY = Buffer.from('\0format', 'latin1');
export const FORMATS = [1, 2] as const;
export const TEXT_FORMAT = 2;
export function formatValue(format: number): Buffer {
  return Buffer.from(JSON.stringify({ format }));
}
export const FORMAT_VALUE = formatValue(TEXT_FORMAT);

/**
 * The collection whose values are stored as text in format 2: each byte as the character of
 * that code, in UTF-8 (a byte under 0x80 is itself; one above takes two). A folder listing
 * (rangeTexts) can then take both keys and values from the binding as strings, which it makes
 * about five times faster than Buffers (a Buffer per key and value is most of a listing's cost).
 * Directory entry values are 9 bytes, so the few extra bytes cost nothing.
 */
export const TEXT_COLLECTION: Collection = 'dirents';

function ascii(v: Uint8Array): boolean {
  for (let i = 0; i < v.length; i++) if (v[i]! >= 0x80) return false;
  return true;
}

export function toTextValue(v: Buffer): Buffer {
  return ascii(v) ? v : Buffer.from(v.toString('latin1'), 'utf8');
}

export function fromTextValue(v: Buffer): Buffer {
  return ascii(v) ? v : Buffer.from(v.toString('utf8'), 'latin1');
}

/** True for a stored key of TEXT_COLLECTION. */
export function isTextKey(k: Buffer): boolean {
  return inCollection(k, TEXT_COLLECTION);
}

/** True for a stored key of `coll` (it starts with the collection's prefix). */
export function inCollection(k: Buffer, coll: Collection): boolean {
  const p = prefixOf(coll);
  return k.length >= p.length && k.compare(p, 0, p.length, 0, p.length) === 0;
}

const prefixes = new Map<string, Buffer>();

export function prefixOf(coll: Collection): Buffer {
  let p = prefixes.get(coll);
  if (p === undefined) {
    if (!COLLECTION_NAMES.includes(coll)) throw new RangeError(`unknown collection "${coll}"`);
    prefixes.set(coll, (p = Buffer.from(`${coll}\0`, 'latin1')));
  }
  return p;
}

export function dbKey(coll: Collection, key: Uint8Array): Buffer {
  const p = prefixOf(coll);
  const k = Buffer.allocUnsafe(p.length + key.length);
  p.copy(k, 0);
  k.set(key, p.length);
  return k;
}

/** The collection a stored key belongs to, or undefined when it is no collection's. */
export function collectionOf(k: Buffer): string | undefined {
  const end = k.indexOf(0);
  if (end <= 0) return undefined;
  const name = k.toString('latin1', 0, end);
  return COLLECTION_NAMES.includes(name as Collection) ? name : undefined;
}

/** Bounds in the store's key space, inside the collection's prefix. */
export interface DbBounds {
  lower: Buffer;
  lowerInclusive: boolean;
  upper: Buffer;
  upperInclusive: boolean;
}

export function dbBounds(coll: Collection, b: Bounds): DbBounds {
  const p = prefixOf(coll);
  const upperOfColl = Buffer.concat([p.subarray(0, p.length - 1), Buffer.from([1])]);
  return {
    lower: b.lower === undefined ? p : Buffer.concat([p, b.lower]),
    lowerInclusive: b.lower === undefined ? true : b.lowerInclusive,
    upper: b.upper === undefined ? upperOfColl : Buffer.concat([p, b.upper]),
    upperInclusive: b.upper === undefined ? false : b.upperInclusive,
  };
}

export function inDbBounds(k: Buffer, b: DbBounds): boolean {
  const lo = Buffer.compare(k, b.lower);
  if (lo < 0 || (lo === 0 && !b.lowerInclusive)) return false;
  const hi = Buffer.compare(k, b.upper);
  return hi < 0 || (hi === 0 && b.upperInclusive);
}
