// opendir()'s Dir: the entries of a folder, one read() at a time or by `for await`. The listing
// is taken when the folder is opened (one read transaction), so it is one consistent view of
// the folder; Node's Dir reads the host folder in batches and may or may not see later changes.
import { codedError } from './errors.js';
import type { VaultDirent } from './stats.js';

function closedDir(): Error {
  return codedError('Error', 'ERR_DIR_CLOSED', 'Directory handle was closed');
}

export class VaultDir {
  readonly #entries: VaultDirent<string | Buffer>[];
  #next = 0;
  #closed = false;

  constructor(
    /** The folder as the caller named it. */
    readonly path: string,
    entries: VaultDirent<string | Buffer>[],
  ) {
    this.#entries = entries;
  }

  /** The next entry, or null after the last. */
  async read(): Promise<VaultDirent<string | Buffer> | null> {
    return this.readSync();
  }

  readSync(): VaultDirent<string | Buffer> | null {
    if (this.#closed) throw closedDir();
    return this.#entries[this.#next++] ?? null;
  }

  async close(): Promise<void> {
    this.closeSync();
  }

  closeSync(): void {
    if (this.#closed) throw closedDir();
    this.#closed = true;
  }

  async *entries(): AsyncGenerator<VaultDirent<string | Buffer>> {
    try {
      for (let e = this.readSync(); e !== null; e = this.readSync()) yield e;
    } finally {
      if (!this.#closed) this.closeSync();
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<VaultDirent<string | Buffer>> {
    return this.entries();
  }
}
