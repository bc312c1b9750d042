// Every collection lives in one RocksDB key space under its own prefix: the collection's name and
// a 0x00 byte. Names (not numbers) so that collections added to the contract later shift
// nothing; the 0x00 keeps "tags\0..." apart from "tag_defs\0...", and since names never hold
// 0x00, one collection's keys all sort together. Keys starting with 0x00 are the engine's own
// (the format record).
import type { Bounds, Collection } from '../contract.js';
import { COLLECTION_NAMES } from '../contract.js';

/** The engine's format record: {"format":1}, written when the store is made. */
export const FORMAT_KEY = Buffer.from('\0format', 'latin1');
export const FORMAT_VALUE = Buffer.from(JSON.stringify({ format: 1 }));

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
