// The in-memory index: one ordered, copy-on-write B+tree (sorted-btree) per collection, from key
// to the value itself or a reference into a chunk file. Committed trees are never changed in
// place: a transaction or a catch-up clones the trees it touches (O(1); nodes are copied on
// first write) and swaps the new map in, so a read transaction holding the old map keeps its
// snapshot for as long as it runs.
import BTreeModule from 'sorted-btree';
import type { Entry, RangeOptions } from '../contract.js';
import { emptyBounds, toBounds } from '../contract.js';
import { OP_DEL, OP_PUT, OP_REF, type Op, type Value } from './format.js';

export type Tree = InstanceType<typeof BTreeModule.default>;
// sorted-btree ships CommonJS with `exports.default`; under NodeNext the class sits on .default.
const BTree = (BTreeModule as unknown as { default: new (e?: [Buffer, Value][], c?: (a: Buffer, b: Buffer) => number) => Tree }).default;
export const newTree = (): Tree => new BTree(undefined, Buffer.compare);

/** Collection name -> tree. Names are kept as found on disk, so a newer collection survives a rewrite. */
export type Trees = Map<string, Tree>;

/** A new generation of trees on top of `base`, cloning each tree on its first change. */
export class Staged {
  readonly trees: Trees;
  private cloned = new Set<string>();
  /** End of the furthest chunk reference applied, per chunk file. */
  readonly refEnds = new Map<number, number>();
  constructor(base: Trees) {
    this.trees = new Map(base);
  }
  writable(coll: string): Tree {
    if (!this.cloned.has(coll)) {
      const t = this.trees.get(coll);
      this.trees.set(coll, t ? t.clone() : newTree());
      this.cloned.add(coll);
    }
    return this.trees.get(coll)!;
  }
  apply(op: Op): void {
    if (op.op === OP_PUT) this.writable(op.coll).set(op.key, op.value);
    else if (op.op === OP_REF) {
      this.writable(op.coll).set(op.key, op.ref);
      const end = op.ref.offset + op.ref.length;
      if (end > (this.refEnds.get(op.ref.file) ?? 0)) this.refEnds.set(op.ref.file, end);
    } else if (op.op === OP_DEL) this.writable(op.coll).delete(op.key);
  }
}

/** Keys and raw values (value or reference) in a range, in order. */
export function rangeOf(t: Tree | undefined, opts: RangeOptions = {}): [Buffer, Value][] {
  const out: [Buffer, Value][] = [];
  if (!t) return out;
  const b = toBounds(opts);
  const limit = opts.limit ?? Infinity;
  if (limit <= 0 || emptyBounds(b)) return out;
  if (!opts.reverse) {
    for (const [k, v] of t.entries(b.lower) as IterableIterator<[Buffer, Value]>) {
      if (b.lower && !b.lowerInclusive && k.equals(b.lower)) continue;
      if (b.upper) {
        const c = Buffer.compare(k, b.upper);
        if (c > 0 || (c === 0 && !b.upperInclusive)) break;
      }
      out.push([k, v]);
      if (out.length >= limit) break;
    }
  } else {
    const it = t.entriesReversed(b.upper, undefined, b.upper !== undefined && !b.upperInclusive) as IterableIterator<[Buffer, Value]>;
    for (const [k, v] of it) {
      if (b.lower) {
        const c = Buffer.compare(k, b.lower);
        if (c < 0 || (c === 0 && !b.lowerInclusive)) break;
      }
      out.push([k, v]);
      if (out.length >= limit) break;
    }
  }
  return out;
}

export type { Entry };
