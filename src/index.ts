// agentvfs, the library: open a vault and use it like a filesystem.
//
//   import { openVault } from 'agentvfs';
//   const vault = await openVault('notes');          // or a path, or ':memory:'
//   await vault.writeFile('/todo.md', '- ship it\n');
//   console.log(await vault.readText('/todo.md'));
//   await vault.close();
export { openVault, createVault, listVaults, useVault, registerVault, deleteVault } from './api/open.js';
export type { OpenVaultOptions, CreateVaultOptions, VaultListing } from './api/open.js';
export { Vault } from './api/vault.js';
export type { VaultInfo } from './api/vault.js';
export type { VaultFs } from './api/fs/vault-fs.js';
export type { VaultFileHandle, ReadResult, WriteResult } from './api/fs/file-handle.js';
export type { VaultStats, VaultBigIntStats, VaultDirent } from './api/fs/stats.js';
export type { VaultDir } from './api/fs/dir.js';
export type { CpOptions } from './api/fs/cp.js';
export type { FsError } from './api/fs/errors.js';
export { FileOps } from './api/fileops.js';
export type * from './api/types.js';
export { VfsError, ERROR_CODES, isVfsError } from './errors.js';
export type { ErrorCode } from './errors.js';
export type { EngineKind } from './storage/contract.js';
export type { AuditFilter, PointDiff } from './api/history.js';
export type { Point } from './history/at.js';
export type { HistoryEntry, Version, Removal } from './history/versions.js';
export type { Snapshot } from './history/snapshots.js';
export type { OpRecord } from './core/records.js';
export { forkVault, type ForkOptions, type ForkResult } from './api/fork.js';
export { migrateVault, type MigrateOptions, type MigrateResult, type MigrateProgress } from './api/migrate.js';
export type { PruneOptions, PruneResult, PrunedFile, GcOptions, GcResult, GcCounts, CompactResult, MaintainOptions, MaintainResult, UsageStats, UsageStatsOptions, FileVersionCount, VaultConfig, PruneStrategy, RetentionPolicy } from './api/retention.js';
export type { Memory, MemoryHit, AddMemoryOptions, SearchMemoryOptions, ListMemoryOptions, KvEntry, KvInfo, KvSetOptions, Session, StartSessionOptions, StreamEntry, StreamHead, StreamReadOptions, AppendResult, TrimResult, AgentState, WatchOptions } from './api/memory.js';
export type { QueryNode } from './text/query.js';
export type { SearchOptions, SearchResult, SearchHit, Snippet, IndexStatus } from './api/search.js';
export type { GrepOptions, GrepResult, GrepEvent, GrepFileResult, GrepLine } from './api/grep.js';
