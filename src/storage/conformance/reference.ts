// Test data and an independent model of RangeOptions, for the conformance suite. The model
// reads the contract's words directly (gt: key > gt, prefix: key starts with prefix, ...) and
// does not use toBounds(), which the engines themselves use.
import type { RangeOptions } from '../contract.js';

export const b = (...bytes: number[]): Buffer => Buffer.from(bytes);
export const hex = (k: Uint8Array): string => Buffer.from(k).toString('hex');

/** Keys chosen to trip signed comparison, length-before-content ordering and 0xff prefix ends. */
export const TRICKY_KEYS: Buffer[] = [
  b(0x00),
  b(0x00, 0x00),
  b(0x00, 0x01),
  b(0x01),
  b(0x61),
  b(0x61, 0x00),
  b(0x61, 0x62),
  b(0x61, 0xff),
  b(0x61, 0xff, 0xff),
  b(0x62),
  b(0x7f),
  b(0x7f, 0xff),
  b(0x80),
  b(0xfe, 0xff),
  b(0xff),
  b(0xff, 0x00),
  b(0xff, 0xff),
  b(0xff, 0xff, 0xff),
];

/** Bound values: some stored keys, some between them, some beyond both ends. */
export const PROBES: Buffer[] = [
  b(0x00),
  b(0x00, 0x00, 0x00),
  b(0x01),
  b(0x60),
  b(0x61),
  b(0x61, 0x01),
  b(0x61, 0xff),
  b(0x7f),
  b(0x80),
  b(0x80, 0x00),
  b(0xff),
  b(0xff, 0xff),
  b(0xff, 0xff, 0xff, 0xff),
];

export const PREFIXES: Buffer[] = [b(0x00), b(0x61), b(0x61, 0xff), b(0x7f), b(0xff), b(0xff, 0xff), b(0x99)];

export function sortKeys(keys: Buffer[]): Buffer[] {
  return [...keys].sort(Buffer.compare);
}

export function matches(key: Buffer, o: RangeOptions): boolean {
  if (o.gt !== undefined && !(Buffer.compare(key, Buffer.from(o.gt)) > 0)) return false;
  if (o.gte !== undefined && !(Buffer.compare(key, Buffer.from(o.gte)) >= 0)) return false;
  if (o.lt !== undefined && !(Buffer.compare(key, Buffer.from(o.lt)) < 0)) return false;
  if (o.lte !== undefined && !(Buffer.compare(key, Buffer.from(o.lte)) <= 0)) return false;
  if (o.prefix !== undefined && !key.subarray(0, o.prefix.length).equals(Buffer.from(o.prefix))) return false;
  return true;
}

/** The keys a range must return, in order, limited. */
export function expectedRange(sorted: Buffer[], o: RangeOptions): string[] {
  const hit = sorted.filter((k) => matches(k, o));
  if (o.reverse) hit.reverse();
  const limit = o.limit ?? Infinity;
  return hit.slice(0, Math.max(0, limit)).map(hex);
}

/** Every lower bound (none, gt, gte) with every upper bound (none, lt, lte) over the probes. */
export function* boundCombinations(): Generator<RangeOptions> {
  const lowers: RangeOptions[] = [{}, ...PROBES.flatMap((p) => [{ gt: p }, { gte: p }])];
  const uppers: RangeOptions[] = [{}, ...PROBES.flatMap((p) => [{ lt: p }, { lte: p }])];
  for (const lo of lowers) for (const hi of uppers) yield { ...lo, ...hi };
}

/** Prefixes alone and mixed with bounds, plus both kinds of one side at once (all must hold). */
export function* prefixAndMixedCombinations(): Generator<RangeOptions> {
  for (const prefix of PREFIXES) {
    yield { prefix };
    for (const p of PROBES) {
      yield { prefix, gt: p };
      yield { prefix, gte: p };
      yield { prefix, lt: p };
      yield { prefix, lte: p };
    }
  }
  yield { prefix: b() };
  for (const x of PROBES) {
    for (const y of PROBES) {
      yield { gt: x, gte: y };
      yield { lt: x, lte: y };
    }
  }
}

export function u32(n: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n);
  return out;
}

export function readU32(v: Buffer | undefined): number {
  return v === undefined ? 0 : v.readUInt32BE(0);
}

export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
