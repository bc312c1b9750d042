// The contract's bounds in lmdb-js getRange terms. In reverse, lmdb-js walks from `start` (the
// upper bound) down to `end` (the lower), and with no `end` it stops *before* its default
// beginning key [0x00], which would hide the key 0x00 itself: so the lower end is always given.
import type { Bounds } from '../contract.js';

export interface LmdbRange {
  start?: Buffer;
  end?: Buffer;
  exclusiveStart?: boolean;
  inclusiveEnd?: boolean;
  reverse?: boolean;
}

const LOWEST = Buffer.from([0]);

export function toLmdbRange(b: Bounds, reverse: boolean): LmdbRange {
  if (!reverse) {
    const r: LmdbRange = {};
    if (b.lower !== undefined) {
      r.start = b.lower;
      r.exclusiveStart = !b.lowerInclusive;
    }
    if (b.upper !== undefined) {
      r.end = b.upper;
      r.inclusiveEnd = b.upperInclusive;
    }
    return r;
  }
  const r: LmdbRange = { reverse: true, end: b.lower ?? LOWEST, inclusiveEnd: b.lower === undefined || b.lowerInclusive };
  if (b.upper !== undefined) {
    r.start = b.upper;
    r.exclusiveStart = !b.upperInclusive;
  }
  return r;
}
