// What a vault holds, as plain data to compare: its tree (now or at an operation) and every
// row of every collection. Used by the tests of forks and migrate.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Vault } from '../../src/index.js';
import type { Collection, Engine } from '../../src/storage/contract.js';
import { COLLECTION_NAMES, scan } from '../../src/storage/contract.js';
import { ReadScope } from '../../src/core/scope.js';
import { HistoricalScope } from '../../src/history/at.js';
import { EMPTY_HASH, readContent } from '../../src/content/chunks.js';
import { ROOT_INO } from '../../src/core/records.js';

export interface TreeNode {
  path: string;
  type: string;
  mode: number;
  size?: number;
  sha256?: string;
  target?: string;
}

/** The tree as a list (paths, types, modes, content, symlink targets): now, or at operation `seq`. */
export async function tree(v: Vault, seq?: number): Promise<TreeNode[]> {
  const settings = { chunkSize: v.record.chunkSize, actor: 'test' };
  return v.engine.read(async (tx) => {
    const scope = seq === undefined ? new ReadScope(tx, settings) : new HistoricalScope(tx, settings, seq);
    const out: TreeNode[] = [];
    const visit = async (ino: number, dir: string): Promise<void> => {
      for (const c of await scope.children(ino)) {
        const node = await scope.inode(c.ino);
        assert.ok(node, `inode of ${dir}${c.name}`);
        const path = `${dir}${c.name}`;
        const n: TreeNode = { path, type: node.type, mode: node.mode };
        if (node.type === 'file') {
          const data = await readContent(tx, { hash: node.hash ?? EMPTY_HASH, size: node.size }, v.record.chunkSize);
          n.size = data.length;
          n.sha256 = createHash('sha256').update(data).digest('hex');
        }
        if (node.type === 'symlink') n.target = node.target;
        out.push(n);
        if (node.type === 'directory') await visit(c.ino, `${path}/`);
      }
    };
    await visit(ROOT_INO, '/');
    return out;
  });
}

/** Every row of the collections (default: all), for "the store did not change". */
export async function dump(e: Engine, colls: readonly Collection[] = COLLECTION_NAMES): Promise<string[]> {
  return e.read(async (tx) => {
    const out: string[] = [];
    for (const c of colls) for await (const r of scan(tx, c)) out.push(`${c} ${r.key.toString('hex')} ${r.value.toString('hex')}`);
    return out;
  });
}
