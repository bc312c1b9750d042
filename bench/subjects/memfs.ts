// memfs: an in-memory node:fs clone, through its fs.promises API (one fresh Volume per run).
import { dirname } from 'node:path';
import { Volume, createFsFromVolume, type IFs } from 'memfs';
import type { FileSpec, ListedEntry, Subject, SubjectSpec } from './subject.js';

class MemfsSubject implements Subject {
  readonly kind = 'memfs' as const;
  readonly id = 'memfs';
  readonly label = 'memfs';
  readonly mode = 'memory' as const;
  readonly note = 'fs.promises of a fresh memfs Volume (in memory; nothing is durable)';
  private fs?: IFs;
  private dirs = new Set<string>();

  private get p(): IFs['promises'] {
    if (!this.fs) throw new Error('subject is not open');
    return this.fs.promises;
  }

  async open(): Promise<void> {
    this.fs = createFsFromVolume(new Volume());
    this.dirs = new Set(['/']);
  }

  private async parent(p: string): Promise<void> {
    const d = dirname(p);
    if (this.dirs.has(d)) return;
    await this.p.mkdir(d, { recursive: true });
    this.dirs.add(d);
  }

  async writeFiles(files: FileSpec[]): Promise<void> {
    for (const f of files) await this.writeFile(f.path, f.data);
  }

  fill(files: FileSpec[]): Promise<void> {
    return this.writeFiles(files);
  }

  async readFile(path: string): Promise<Uint8Array> {
    return (await this.p.readFile(path)) as Buffer;
  }

  async readdir(path: string): Promise<string[]> {
    return (await this.p.readdir(path)) as string[];
  }

  async list(path: string): Promise<ListedEntry[]> {
    const out: ListedEntry[] = [];
    for (const name of await this.readdir(path)) out.push({ name, size: Number((await this.p.stat(`${path}/${name}`)).size) });
    return out;
  }

  async writeFile(path: string, data: Buffer): Promise<void> {
    await this.parent(path);
    await this.p.writeFile(path, data);
  }

  async appendFile(path: string, data: Buffer): Promise<void> {
    await this.p.appendFile(path, data);
  }

  async writeAt(path: string, offset: number, data: Buffer): Promise<void> {
    const fh = await this.p.open(path, 'r+');
    try {
      await fh.write(data, 0, data.length, offset);
    } finally {
      await fh.close();
    }
  }

  async close(): Promise<void> {
    this.fs = undefined;
  }
}

export function memfsSpecs(): SubjectSpec[] {
  return [{ id: 'memfs', kind: 'memfs', make: () => new MemfsSubject() }];
}
