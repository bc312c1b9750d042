// `vault stats`: what the vault holds and what it costs to store, read in one snapshot.
// Counting versions and stored bytes walks the history rows and the content collections, so
// this is a maintenance command: its cost grows with the vault.
import type { Engine, EngineStats } from '../storage/contract.js';
import { scan } from '../storage/contract.js';
import { decodeJson, readU64, type Inode } from '../core/records.js';
import { listSnapshots } from './snapshots.js';
import { pathsOf } from './paths-of.js';

export interface UsageStatsOptions {
  /** Add the files with the most versions. */
  versions?: boolean;
  /** How many of them (default 10). */
  top?: number;
  /** Add the engine's own statistics. */
  backendInfo?: boolean;
}

export interface FileVersionCount {
  path: string;
  /** False for a file no longer in the tree (path is where it last was). */
  current: boolean;
  ino: number;
  versions: number;
}

export interface UsageStats {
  backend: string;
  files: number;
  directories: number;
  symlinks: number;
  /** Content versions kept in history (every file's, deleted files' included). */
  versions: number;
  /** History rows (inode_log), content versions plus metadata changes, all inode types. */
  historyRows: number;
  snapshots: number;
  /** Size of the current files. */
  logicalBytes: number;
  /** Size of every content version kept (what storing each version whole would take). */
  versionBytes: number;
  chunks: { count: number; bytes: number };
  manifests: { count: number; bytes: number };
  /** Content actually stored: chunks + manifests. */
  storedBytes: number;
  /** The whole store on disk (0 for memory). */
  bytesOnDisk: number;
  /** versionBytes / storedBytes: how much deduplication and chunk sharing save (null when nothing is stored). */
  dedupRatio: number | null;
  /** With `versions`: the files with the most versions, most first. */
  topVersions?: FileVersionCount[];
  /** With `backendInfo`: the engine's statistics. */
  engine?: EngineStats;
}

export async function usageStats(engine: Engine, opts: UsageStatsOptions = {}): Promise<UsageStats> {
  const top = opts.top ?? 10;
  const stats = await engine.read(async (tx) => {
    const s: UsageStats = {
      backend: engine.kind,
      files: 0,
      directories: 0,
      symlinks: 0,
      versions: 0,
      historyRows: 0,
      snapshots: (await listSnapshots(tx)).length,
      logicalBytes: 0,
      versionBytes: 0,
      chunks: { count: 0, bytes: 0 },
      manifests: { count: 0, bytes: 0 },
      storedBytes: 0,
      bytesOnDisk: 0,
      dedupRatio: null,
    };
    for await (const e of scan(tx, 'inodes')) {
      const node = decodeJson<Inode>(e.value);
      if (node.type === 'directory') s.directories++;
      else if (node.type === 'symlink') s.symlinks++;
      else {
        s.files++;
        s.logicalBytes += node.size;
      }
    }
    // Rows group by inode (key order); a version is a run of rows with one version number.
    const perFile: FileVersionCount[] = [];
    let ino = -1;
    let count = 0;
    let lastVersion = -1;
    let lastSize = 0;
    const endInode = (): void => {
      if (lastVersion >= 0) s.versionBytes += lastSize;
      if (opts.versions && count > 0) perFile.push({ path: '', current: false, ino, versions: count });
    };
    for await (const e of scan(tx, 'inode_log')) {
      s.historyRows++;
      const i = readU64(e.key);
      if (i !== ino) {
        endInode();
        ino = i;
        count = 0;
        lastVersion = -1;
      }
      const node = decodeJson<Inode>(e.value);
      if (node.type !== 'file') continue;
      if (node.version !== lastVersion) {
        if (lastVersion >= 0) s.versionBytes += lastSize;
        s.versions++;
        count++;
        lastVersion = node.version;
      }
      lastSize = node.size;
    }
    endInode();
    for await (const e of scan(tx, 'chunks', {}, 64)) {
      s.chunks.count++;
      s.chunks.bytes += e.value.length;
    }
    for await (const e of scan(tx, 'manifests', {}, 256)) {
      s.manifests.count++;
      s.manifests.bytes += e.value.length;
    }
    if (opts.versions) {
      perFile.sort((a, b) => b.versions - a.versions || a.ino - b.ino);
      const picked = perFile.slice(0, top);
      const names = await pathsOf(tx, picked.map((f) => f.ino));
      for (const f of picked) Object.assign(f, names.get(f.ino));
      s.topVersions = picked;
    }
    return s;
  });
  const es = await engine.stats();
  stats.storedBytes = stats.chunks.bytes + stats.manifests.bytes;
  stats.bytesOnDisk = es.bytesOnDisk;
  stats.dedupRatio = stats.storedBytes > 0 ? Math.round((stats.versionBytes / stats.storedBytes) * 1000) / 1000 : null;
  if (opts.backendInfo) stats.engine = es;
  return stats;
}
