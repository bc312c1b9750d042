// Puts gathered into write transactions of bounded size: how a whole store is streamed into
// another (forks, migrate) without one giant transaction and without a transaction per row.
import type { Collection, Engine } from './contract.js';

/** Rows per write transaction (and a cap on bytes, for content). */
export const BATCH = 5000;
const BATCH_BYTES = 16 * 1024 * 1024;

export class BatchWriter {
  private rows: [Collection, Buffer, Buffer][] = [];
  private bytes = 0;
  constructor(private engine: Engine) {}

  async put(coll: Collection, key: Buffer, value: Buffer): Promise<void> {
    this.rows.push([coll, key, value]);
    this.bytes += key.length + value.length;
    if (this.rows.length >= BATCH || this.bytes >= BATCH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.rows.length === 0) return;
    const rows = this.rows;
    this.rows = [];
    this.bytes = 0;
    await this.engine.write(async (tx) => {
      for (const [c, k, v] of rows) await tx.put(c, k, v);
    });
  }
}
