// `vault check`: the engine's own integrity check, then every reference the filesystem holds:
// each directory entry points at an inode of the type it says, every inode is reachable from
// the root exactly once, and every file's manifest and chunks are present and match their
// SHA-256; then the tags, search and agent-memory indexes, and the memory saved with snapshots.
// Read in one snapshot so a concurrent writer cannot cause false alarms.
import type { Engine } from '../storage/contract.js';
import { scan } from '../storage/contract.js';
import { verifyContent, EMPTY_HASH } from '../content/chunks.js';
import { ROOT_INO, decodeJson, direntName, parseDirent, readU64, type Inode } from '../core/records.js';
import type { CheckResult } from '../api/types.js';
import { checkAttrs } from '../tags/rows.js';
import { checkSearch } from '../search/check.js';
import { checkMemory } from '../memory/check.js';
import { readMemory } from '../memory/dump.js';
import { listSnapshots } from '../history/snapshots.js';

export async function checkVault(engine: Engine, chunkSize: number): Promise<CheckResult> {
  const problems = (await engine.check()).map((p) => `storage: ${p}`);
  const result = await engine.read(async (tx) => {
    const inodes = new Map<number, Inode>();
    const out: CheckResult = { ok: false, problems: [], files: 0, dirs: 0, symlinks: 0, chunks: 0 };
    for await (const e of scan(tx, 'inodes')) {
      const ino = readU64(e.key);
      try {
        const node = decodeJson<Inode>(e.value);
        if (node.ino !== ino) out.problems.push(`inode ${ino}: record says it is inode ${node.ino}`);
        inodes.set(ino, node);
      } catch {
        out.problems.push(`inode ${ino}: unreadable record`);
      }
    }
    if (!inodes.has(ROOT_INO)) out.problems.push('the root folder is missing');
    const seen = new Set<number>([ROOT_INO]);
    const verified = new Set<string>();
    for await (const e of scan(tx, 'dirents')) {
      const parent = readU64(e.key);
      const name = direntName(e.key);
      let child: { ino: number; type: string };
      try {
        child = parseDirent(e.value);
      } catch {
        out.problems.push(`entry "${name}" in folder ${parent}: unreadable`);
        continue;
      }
      const p = inodes.get(parent);
      if (!p) out.problems.push(`entry "${name}": its folder (inode ${parent}) does not exist`);
      else if (p.type !== 'directory') out.problems.push(`entry "${name}": its parent (inode ${parent}) is not a folder`);
      const c = inodes.get(child.ino);
      if (!c) out.problems.push(`entry "${name}" in folder ${parent}: points to missing inode ${child.ino}`);
      else if (c.type !== child.type) out.problems.push(`entry "${name}": says ${child.type}, inode ${child.ino} is a ${c.type}`);
      if (seen.has(child.ino)) out.problems.push(`inode ${child.ino} is linked more than once`);
      seen.add(child.ino);
    }
    for (const [ino, node] of inodes) {
      if (!seen.has(ino)) out.problems.push(`inode ${ino} (${node.type}) is not reachable from the root`);
      if (node.type === 'directory') out.dirs++;
      else if (node.type === 'symlink') out.symlinks++;
      else {
        out.files++;
        const ref = { hash: node.hash ?? EMPTY_HASH, size: node.size };
        for (const p of await verifyContent(tx, ref, chunkSize, verified)) out.problems.push(`inode ${ino}: ${p}`);
      }
    }
    // History: every version the log still holds must still have its content.
    const seenContent = new Set<string>();
    for await (const e of scan(tx, 'inode_log')) {
      let node: Inode;
      try {
        node = decodeJson<Inode>(e.value);
      } catch {
        out.problems.push(`history row of inode ${readU64(e.key)}: unreadable`);
        continue;
      }
      if (node.type !== 'file' || node.size === 0 || node.hash === undefined || seenContent.has(node.hash)) continue;
      seenContent.add(node.hash);
      for (const p of await verifyContent(tx, { hash: node.hash, size: node.size }, chunkSize, verified)) {
        out.problems.push(`inode ${node.ino} version ${node.version}: ${p}`);
      }
    }
    // Tags and metadata: rows in pairs, on live inodes, of defined tags (src/tags/rows.ts).
    out.problems.push(...(await checkAttrs(tx, (ino) => inodes.has(ino))));
    // Search indexes and parent pointers (src/search/check.ts).
    out.problems.push(...(await checkSearch(tx, inodes)));
    // Agent memory's own indexes (src/memory/check.ts).
    out.problems.push(...(await checkMemory(tx)));
    // Agent memory saved with snapshots: present, intact and readable.
    for (const snap of await listSnapshots(tx)) {
      if (!snap.memory) continue;
      const bad = await verifyContent(tx, snap.memory, chunkSize, verified);
      for (const p of bad) out.problems.push(`snapshot ${snap.name}: saved memory: ${p}`);
      if (bad.length === 0) {
        try {
          await readMemory(tx, snap.memory, chunkSize);
        } catch (e) {
          out.problems.push(`snapshot ${snap.name}: saved memory: ${(e as Error).message}`);
        }
      }
    }
    out.chunks = await tx.count('chunks');
    return out;
  });
  result.problems = [...problems, ...result.problems];
  result.ok = result.problems.length === 0;
  return result;
}
