// Who has the store open. A compaction that rewrites the live values into a fresh chunk file may
// remove the older chunk files only when nobody else can still hold references into them: an
// engine in another process, or another engine on the same folder in this one, keeps its own
// copy of the index. So every open leaves `openers/PID-N` before it reads the index and removes
// it on close. A compaction writes its new checkpoint first and looks here after: an opener that
// registers later reads that checkpoint, which refers only to the new file. A mark whose process
// is gone (SIGKILL) is stale and is removed when seen. A pid reused by an unrelated process keeps
// a stale mark alive until that process exits, which only means the old files stay a while longer.
import fs from 'node:fs';
import { join } from 'node:path';
import { alive } from '../pid.js';

export const OPENERS_DIR = 'openers';
let counter = 0;

export class Openers {
  private name: string | undefined;
  constructor(private dir: string) {}

  /**
   * Leave our mark. Where the folder cannot be written (a read-only file system, another user's
   * store) this opener goes unmarked; a compaction by someone who can write there may then
   * remove files it reads: its next read of a large value then fails; it never reads wrong bytes.
   */
  register(): void {
    const d = join(this.dir, OPENERS_DIR);
    const name = `${process.pid}-${++counter}`;
    try {
      fs.mkdirSync(d, { recursive: true, mode: 0o700 });
      fs.writeFileSync(join(d, name), '', { mode: 0o600, flag: 'wx' });
      this.name = name;
      // Processes killed with SIGKILL leave marks; sweep them now and then, not on every open.
      if (fs.readdirSync(d).length > 16) this.others();
    } catch {
      /* see above */
    }
  }

  unregister(): void {
    if (this.name === undefined) return;
    fs.rmSync(join(this.dir, OPENERS_DIR, this.name), { force: true });
    this.name = undefined;
  }

  /** Live openers other than this one; stale marks are removed on the way. */
  others(): number {
    const d = join(this.dir, OPENERS_DIR);
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw e;
    }
    let n = 0;
    for (const f of names) {
      if (f === this.name) continue;
      if (alive(Number(f.split('-')[0]))) n++;
      else fs.rmSync(join(d, f), { force: true });
    }
    return n;
  }
}
