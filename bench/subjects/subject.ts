// The one interface every benchmarked subject implements. The workloads only ever call these
// methods, one at a time (each awaited before the next), so every subject does the same work
// in the same order; how a subject turns "write these files" into transactions or fsyncs is
// its own business and is stated in `note`.

export interface FileSpec {
  /** Absolute path inside the subject, e.g. /d042/f0017.bin */
  path: string;
  data: Buffer;
}

export interface ListedEntry {
  name: string;
  size: number;
}

/** What a subject's store looks like right now, for showing how much an edit stored. */
export interface StorageSample {
  /** Bytes the store takes on disk (0 for memory engines). */
  bytesOnDisk: number;
  /** Bytes the engine has in use, where it can say (SQLite: used pages x page size). */
  usedBytes?: number;
  /** The file's content: chunk hash -> chunk length, and its manifests (root and leaves): id -> length. */
  chunks: Map<string, number>;
  manifests: Map<string, number>;
}

export type WriteMode = 'durable' | 'batch' | 'plain' | 'memory';
export type SubjectKind = 'agentvfs' | 'host' | 'agentfs-sdk' | 'memfs';

export interface Subject {
  /** Stable id used by --only and in the JSON: sqlite-batch, host-plain, agentfs-sdk ... */
  readonly id: string;
  /** Shown in tables. */
  readonly label: string;
  readonly kind: SubjectKind;
  /** agentvfs engine name (sqlite, lmdb, memory). */
  readonly engine?: string;
  readonly mode: WriteMode;
  /** How this subject writes, in one sentence (goes into the report). */
  readonly note: string;

  /** Create a fresh, empty store in `dir` (a new temporary folder). */
  open(dir: string): Promise<void>;
  /** The timed small-file write: this subject's write mode decides commits and fsyncs. */
  writeFiles(files: FileSpec[]): Promise<void>;
  /** Untimed set-up writes (the flat folder for the listing): the fastest way the subject has. */
  fill(files: FileSpec[]): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  /** Names in a folder. */
  readdir(path: string): Promise<string[]>;
  /** Names and sizes in a folder (what `ls -l` needs). */
  list(path: string): Promise<ListedEntry[]>;
  /** One whole file (the big-file workload). */
  writeFile(path: string, data: Buffer): Promise<void>;
  appendFile(path: string, data: Buffer): Promise<void>;
  /** Overwrite bytes at an offset, keeping the rest of the file. */
  writeAt(path: string, offset: number, data: Buffer): Promise<void>;
  /** agentvfs only: storage state, to show what an append or an overwrite stored. */
  sample?(path: string): Promise<StorageSample>;
  close(): Promise<void>;
}

export interface SubjectSpec {
  id: string;
  kind: SubjectKind;
  make(): Subject;
}
