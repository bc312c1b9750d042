// agentfs-sdk (Turso's AgentFS, npm 0.6.x) as it ships: AgentFS.open({ path }) on the Turso
// database engine. Its defaults, read from node_modules/agentfs-sdk/dist/filesystem/agentfs.js
// and checked with PRAGMA and strace: journal_mode=WAL, synchronous=FULL, 4 KiB chunks, and no
// explicit transaction around writeFile, so each SQL statement autocommits with an fsync. Under
// strace: 5 fsyncs per new 1 KiB file, 1 per readFile (it updates atime), and 1 per 4 KiB chunk
// of a big write (262 for 1 MiB).
import { join } from 'node:path';
import { AgentFS } from 'agentfs-sdk';
import type { FileSpec, ListedEntry, Subject, SubjectSpec } from './subject.js';

const FILL_BATCH = 1000;

class AgentFsSubject implements Subject {
  readonly kind = 'agentfs-sdk' as const;
  readonly id = 'agentfs-sdk';
  readonly label = 'agentfs-sdk';
  readonly mode = 'durable' as const;
  readonly note =
    'AgentFS.open() as shipped: WAL + synchronous=FULL, no transaction around writeFile, so every SQL statement commits with an fsync (strace: 5 per new 1 KiB file, 1 per readFile for its atime update, 1 per 4 KiB chunk of a big file)';
  private agent?: AgentFS;

  private get a(): AgentFS {
    if (!this.agent) throw new Error('subject is not open');
    return this.agent;
  }

  async open(dir: string): Promise<void> {
    this.agent = await AgentFS.open({ path: join(dir, 'agent.db') });
  }

  async writeFiles(files: FileSpec[]): Promise<void> {
    for (const f of files) await this.a.fs.writeFile(f.path, f.data);
  }

  /** Set-up only: an explicit transaction around many writes (the SDK's writeFile opens none). */
  async fill(files: FileSpec[]): Promise<void> {
    const db = this.a.getDatabase();
    for (let i = 0; i < files.length; i += FILL_BATCH) {
      await db.exec('BEGIN');
      try {
        for (const f of files.slice(i, i + FILL_BATCH)) await this.a.fs.writeFile(f.path, f.data);
        await db.exec('COMMIT');
      } catch (e) {
        await db.exec('ROLLBACK');
        throw e;
      }
    }
  }

  readFile(path: string): Promise<Uint8Array> {
    return this.a.fs.readFile(path);
  }

  readdir(path: string): Promise<string[]> {
    return this.a.fs.readdir(path);
  }

  async list(path: string): Promise<ListedEntry[]> {
    return (await this.a.fs.readdirPlus(path)).map((e) => ({ name: e.name, size: e.stats.size }));
  }

  async writeFile(path: string, data: Buffer): Promise<void> {
    await this.a.fs.writeFile(path, data);
  }

  async appendFile(path: string, data: Buffer): Promise<void> {
    // The SDK has no appendFile: append is a positional write at the current end.
    const size = (await this.a.fs.stat(path)).size;
    const fh = await this.a.fs.open(path);
    await fh.pwrite(size, data);
  }

  async writeAt(path: string, offset: number, data: Buffer): Promise<void> {
    const fh = await this.a.fs.open(path);
    await fh.pwrite(offset, data);
  }

  async close(): Promise<void> {
    await this.agent?.close();
    this.agent = undefined;
  }
}

export function agentfsSpecs(): SubjectSpec[] {
  return [{ id: 'agentfs-sdk', kind: 'agentfs-sdk', make: () => new AgentFsSubject() }];
}
