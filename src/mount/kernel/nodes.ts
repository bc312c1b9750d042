// The kernel names files by node id; the mount's operations (ops.ts) take paths. This table is
// the translation, as libfuse's high-level layer keeps it: a node is a (parent, name) pair the
// kernel was told about, counted each time a reply hands it out and dropped when the kernel
// forgets it as often. A path is found by walking up the parents, so a rename moves a whole
// subtree by changing one node; a node whose name was removed (unlink, or a rename over it)
// has no path any more, though a descriptor open on it still works through its handle.
//
// Node ids are never reused (a counter), so a reply can never be taken for an older node.

export interface Node {
  readonly id: number;
  parent: Node | undefined;
  name: string;
  /** Times a reply handed this node to the kernel, less what it forgot. */
  lookups: number;
  kids: Map<string, Node> | undefined;
  /** What the last open saw (mtime, size): the same at the next open lets the kernel keep its pages. */
  seen?: string;
  /** Handles open on this node: what answers for it once its name is gone (unlinked while open). */
  handles?: Set<number>;
}

export const ROOT_ID = 1;

export class Nodes {
  private readonly byId = new Map<number, Node>();
  private next = ROOT_ID + 1;
  readonly root: Node = { id: ROOT_ID, parent: undefined, name: '', lookups: 1, kids: undefined };

  constructor() {
    this.byId.set(ROOT_ID, this.root);
  }

  get(id: number): Node | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  /** The node's path in the vault, or undefined when its name was removed. */
  path(n: Node): string | undefined {
    if (n === this.root) return '/';
    const parts: string[] = [];
    for (let at: Node | undefined = n; at !== this.root; at = at.parent) {
      if (at === undefined) return undefined;
      parts.push(at.name);
    }
    return '/' + parts.reverse().join('/');
  }

  /** The path of `name` in the folder `parent`, or undefined when the folder has none. */
  childPath(parent: Node, name: string): string | undefined {
    const p = this.path(parent);
    if (p === undefined) return undefined;
    return p === '/' ? `/${name}` : `${p}/${name}`;
  }

  /** `name` in `parent`, handed to the kernel once more: made if it is new. */
  remember(parent: Node, name: string): Node {
    let n = parent.kids?.get(name);
    if (!n) {
      n = { id: this.next++, parent, name, lookups: 0, kids: undefined };
      (parent.kids ??= new Map()).set(name, n);
      this.byId.set(n.id, n);
    }
    n.lookups++;
    return n;
  }

  /** The kernel forgot `count` of the node's lookups; at none left it goes. */
  forget(id: number, count: number): void {
    const n = this.byId.get(id);
    if (!n || n === this.root) return;
    n.lookups -= count;
    // A folder whose entries the kernel still knows stays, so their paths still resolve (the
    // kernel forgets children first; this is only for the order of racing replies).
    if (n.lookups > 0 || n.kids) return;
    this.byId.delete(id);
    this.unname(n);
  }

  /** The name `name` in `parent` was removed: its node (if known) no longer has a path. */
  removed(parent: Node, name: string): void {
    const n = parent.kids?.get(name);
    if (n) this.unname(n);
  }

  /** A rename succeeded: what was at the target loses its name, the source node moves. */
  renamed(from: Node, name: string, to: Node, newName: string): void {
    const n = from.kids?.get(name);
    this.removed(to, newName);
    if (!n) return;
    from.kids!.delete(name);
    n.parent = to;
    n.name = newName;
    (to.kids ??= new Map()).set(newName, n);
  }

  private unname(n: Node): void {
    const p = n.parent;
    if (p?.kids?.get(n.name) === n) {
      p.kids.delete(n.name);
      if (p.kids.size === 0) {
        p.kids = undefined;
        // A folder kept only for its entries goes with the last of them.
        if (p.lookups <= 0 && p !== this.root) {
          this.byId.delete(p.id);
          this.unname(p);
        }
      }
    }
    n.parent = undefined;
  }
}
