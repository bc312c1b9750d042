// The kernel driver's node table (src/mount/kernel/nodes.ts): node ids to paths through
// lookups, renames of whole subtrees, removal while the kernel still holds a node, and
// forgetting. Runs without FUSE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Nodes, ROOT_ID } from '../src/mount/kernel/nodes.js';

test('paths follow lookups and a folder rename moves its whole subtree', () => {
  const t = new Nodes();
  const a = t.remember(t.root, 'a');
  const b = t.remember(a, 'b');
  const c = t.remember(b, 'c.txt');
  assert.equal(t.path(c), '/a/b/c.txt');
  assert.equal(t.childPath(b, 'new'), '/a/b/new');
  assert.equal(t.remember(a, 'b'), b, 'the same name is the same node');
  t.renamed(t.root, 'a', t.root, 'z');
  assert.equal(t.path(c), '/z/b/c.txt');
  assert.equal(t.get(c.id), c);
  assert.equal(t.path(t.root), '/');
  assert.equal(t.get(ROOT_ID), t.root);
});

test('a rename over a known name leaves that node without a path; a removed name too', () => {
  const t = new Nodes();
  const x = t.remember(t.root, 'x');
  const y = t.remember(t.root, 'y');
  t.renamed(t.root, 'x', t.root, 'y');
  assert.equal(t.path(x), '/y');
  assert.equal(t.path(y), undefined, 'the file renamed over has no name');
  assert.equal(t.remember(t.root, 'y'), x);
  t.removed(t.root, 'y');
  assert.equal(t.path(x), undefined);
  assert.equal(t.get(x.id), x, 'still known until the kernel forgets it');
  assert.notEqual(t.remember(t.root, 'y'), x, 'a new file by that name is a new node');
});

test('a node goes when the kernel forgets every lookup; a folder stays while its entries are known', () => {
  const t = new Nodes();
  const d = t.remember(t.root, 'd');
  t.remember(t.root, 'd');
  const f = t.remember(d, 'f');
  t.forget(d.id, 2);
  assert.equal(t.get(d.id), d, 'kept: f still names a path through it');
  assert.equal(t.path(f), '/d/f');
  t.forget(f.id, 1);
  assert.equal(t.get(f.id), undefined);
  assert.equal(t.get(d.id), undefined, 'gone with its last entry');
  assert.equal(t.size, 1);
  t.forget(ROOT_ID, 5);
  assert.equal(t.get(ROOT_ID), t.root, 'the root is never forgotten');
  t.forget(12345, 1);
});
