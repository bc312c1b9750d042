// agentvfs through its public library API, on one engine, in one write mode:
//   durable: one vault.writeFile per file, each its own committed (durable) transaction;
//   batch:   vault.batch() with BATCH_FILES files per transaction.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createVault, openVault, type Vault } from '../../src/index.js';
import { chunkList, manifestParts } from '../../src/content/chunks.js';
import type { FileSpec, ListedEntry, StorageSample, Subject, SubjectSpec } from './subject.js';

export const BATCH_FILES = 1000;

const STORE_NAME: Record<string, string> = { sqlite: 'bench.avfs', lmdb: 'bench.lmdb', log: 'bench.log', rocksdb: 'bench.rocksdb' };

class AgentVfsSubject implements Subject {
  readonly kind = 'agentvfs' as const;
  readonly id: string;
  readonly label: string;
  readonly note: string;
  private vault?: Vault;

  constructor(
    readonly engine: string,
    readonly mode: 'durable' | 'batch',
  ) {
    this.id = `${engine}-${mode}`;
    this.label = `agentvfs ${engine} ${mode}`;
    this.note =
      mode === 'durable'
        ? `one vault.writeFile per file, each its own committed transaction (engine defaults${engine === 'memory' ? '; nothing reaches disk' : ''})`
        : `vault.batch(): ${BATCH_FILES} files per transaction (engine defaults${engine === 'memory' ? '; nothing reaches disk' : ''})`;
  }

  private get v(): Vault {
    if (!this.vault) throw new Error('subject is not open');
    return this.vault;
  }

  async open(dir: string): Promise<void> {
    if (this.engine === 'memory') {
      this.vault = await openVault(':memory:', { home: join(dir, 'home'), actor: 'bench' });
      return;
    }
    // postgres: a schema of its own on the server of $AVFS_BENCH_PG_URL, dropped on close.
    if (this.engine === 'postgres') {
      const url = process.env.AVFS_BENCH_PG_URL ?? '';
      const schema = `bench_${process.pid}_${randomBytes(4).toString('hex')}`;
      this.vault = await createVault(`${url}${url.includes('?') ? '&' : '?'}schema=${schema}`, { backend: 'postgres', home: join(dir, 'home'), actor: 'bench' });
      return;
    }
    // A private AVFS_HOME: the benchmark never reads or writes the user's ~/.avfs.
    this.vault = await createVault(join(dir, STORE_NAME[this.engine] ?? `bench.${this.engine}`), {
      backend: this.engine,
      home: join(dir, 'home'),
      actor: 'bench',
    });
  }

  async writeFiles(files: FileSpec[]): Promise<void> {
    if (this.mode === 'durable') {
      for (const f of files) await this.v.writeFile(f.path, f.data);
      return;
    }
    await this.fill(files);
  }

  async fill(files: FileSpec[]): Promise<void> {
    for (let i = 0; i < files.length; i += BATCH_FILES) {
      const part = files.slice(i, i + BATCH_FILES);
      await this.v.batch(async (ops) => {
        for (const f of part) await ops.writeFile(f.path, f.data);
      });
    }
  }

  readFile(path: string): Promise<Uint8Array> {
    return this.v.readFile(path);
  }

  async readdir(path: string): Promise<string[]> {
    return (await this.v.readdir(path)).map((e) => e.name);
  }

  async list(path: string): Promise<ListedEntry[]> {
    return (await this.v.list(path)).map((s) => ({ name: s.name, size: s.size }));
  }

  async writeFile(path: string, data: Buffer): Promise<void> {
    await this.v.writeFile(path, data);
  }

  async appendFile(path: string, data: Buffer): Promise<void> {
    await this.v.appendFile(path, data);
  }

  async writeAt(path: string, offset: number, data: Buffer): Promise<void> {
    await this.v.writeAt(path, offset, data);
  }

  async sample(path: string): Promise<StorageSample> {
    const v = this.v;
    const st = await v.stats();
    const d = st.details;
    const num = (k: string) => (typeof d[k] === 'number' ? (d[k] as number) : undefined);
    const pageSize = num('page_size');
    const pageCount = num('page_count');
    const free = num('freelist_count') ?? 0;
    let usedBytes: number | undefined;
    if (pageSize !== undefined && pageCount !== undefined) usedBytes = (pageCount - free) * pageSize;
    // LMDB: the highest page in use (freed pages are reused first, so it moves only on growth).
    else if (pageSize !== undefined && num('last_page') !== undefined) usedBytes = (num('last_page')! + 1) * pageSize;

    const file = await v.stat(path);
    const chunkSize = v.record.chunkSize;
    const ref = { hash: file.hash ?? '', size: file.size };
    const manifests = new Map<string, number>();
    const list = await v.engine.read(async (tx) => {
      if (file.size > chunkSize) {
        for (const id of (await manifestParts(tx, Buffer.from(ref.hash, 'hex'))).manifests) manifests.set(id.toString('hex'), (await tx.get('manifests', id))?.length ?? 0);
      }
      return chunkList(tx, ref, chunkSize);
    });
    const chunks = new Map<string, number>();
    list.forEach((h, i) => chunks.set(h.toString('hex'), Math.min(chunkSize, file.size - i * chunkSize)));
    return {
      bytesOnDisk: st.bytesOnDisk,
      ...(usedBytes !== undefined ? { usedBytes } : {}),
      chunks,
      manifests,
    };
  }

  async close(): Promise<void> {
    const v = this.vault;
    await v?.close();
    this.vault = undefined;
    if (v && this.engine === 'postgres') await (await import('../../src/storage/postgres/engine.js')).dropPostgresStore(v.path).catch(() => {});
  }
}

export function agentvfsSpecs(engines: string[]): SubjectSpec[] {
  return engines.flatMap((engine) =>
    (['durable', 'batch'] as const).map((mode) => ({
      id: `${engine}-${mode}`,
      kind: 'agentvfs' as const,
      make: () => new AgentVfsSubject(engine, mode),
    })),
  );
}
