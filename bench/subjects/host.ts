// The host filesystem through node:fs/promises, rooted in the subject's temporary folder.
//   durable: every write is open, write, fsync, close (a returned write survives a crash);
//   plain:   fs.writeFile / appendFile without fsync (the page cache decides when).
import { appendFile, mkdir, open, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FileSpec, ListedEntry, Subject, SubjectSpec } from './subject.js';

class HostSubject implements Subject {
  readonly kind = 'host' as const;
  readonly id: string;
  readonly label: string;
  readonly note: string;
  private root = '';
  private dirs = new Set<string>();

  constructor(readonly mode: 'durable' | 'plain') {
    this.id = `host-${mode}`;
    this.label = `host fs ${mode}`;
    this.note =
      mode === 'durable'
        ? 'node:fs/promises: open, write, fsync, close per file (parent folders made with mkdir -p, not fsynced)'
        : 'node:fs/promises writeFile/appendFile, no fsync (parent folders made with mkdir -p)';
  }

  private at(p: string): string {
    return join(this.root, p);
  }

  /** Make the parent folder the first time a path needs it (agentvfs does the same). */
  private async parent(p: string): Promise<void> {
    const d = dirname(p);
    if (this.dirs.has(d)) return;
    await mkdir(this.at(d), { recursive: true });
    this.dirs.add(d);
  }

  async open(dir: string): Promise<void> {
    this.root = join(dir, 'root');
    await mkdir(this.root);
    this.dirs = new Set(['/']);
  }

  private async put(p: string, data: Buffer, durable: boolean): Promise<void> {
    await this.parent(p);
    if (!durable) return writeFile(this.at(p), data);
    const fh = await open(this.at(p), 'w');
    try {
      await fh.write(data, 0, data.length, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async writeFiles(files: FileSpec[]): Promise<void> {
    for (const f of files) await this.put(f.path, f.data, this.mode === 'durable');
  }

  async fill(files: FileSpec[]): Promise<void> {
    for (const f of files) await this.put(f.path, f.data, false);
  }

  readFile(path: string): Promise<Uint8Array> {
    return readFile(this.at(path));
  }

  readdir(path: string): Promise<string[]> {
    return readdir(this.at(path));
  }

  async list(path: string): Promise<ListedEntry[]> {
    const dir = this.at(path);
    const out: ListedEntry[] = [];
    for (const name of await readdir(dir)) out.push({ name, size: (await stat(join(dir, name))).size });
    return out;
  }

  writeFile(path: string, data: Buffer): Promise<void> {
    return this.put(path, data, this.mode === 'durable');
  }

  async appendFile(path: string, data: Buffer): Promise<void> {
    if (this.mode === 'plain') return appendFile(this.at(path), data);
    const fh = await open(this.at(path), 'a');
    try {
      await fh.write(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async writeAt(path: string, offset: number, data: Buffer): Promise<void> {
    const fh = await open(this.at(path), 'r+');
    try {
      await fh.write(data, 0, data.length, offset);
      if (this.mode === 'durable') await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async close(): Promise<void> {}
}

export function hostSpecs(): SubjectSpec[] {
  return (['durable', 'plain'] as const).map((mode) => ({ id: `host-${mode}`, kind: 'host' as const, make: () => new HostSubject(mode) }));
}
