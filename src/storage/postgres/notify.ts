// LISTEN for a vault's change channel (every write commit NOTIFYs it: engine.ts), for
// src/memory/notify.ts: a watcher in any process on any machine wakes when a write commits.
//
// One dedicated connection per listening vault per process (LISTEN belongs to a session, so it
// cannot come from the pool, whose connections take turns). Its socket is unref'd: a watcher
// that waits keeps the process alive with its own timer, and a listener nobody closed must not
// (a test or a CLI command that hangs at exit is worse than one that fails). A lost connection
// is retried with backoff; meanwhile watchers fall back to polling, and each (re)connect
// counts as a change, so a change that fell into a gap is read at once.
import pg from 'pg';
import { ident } from './schema.js';

export interface Listening {
  close(): void;
}

export function listen(conn: string, schema: string, onChange: () => void): Listening {
  let closed = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let delay = 100;

  const start = (): void => {
    if (closed) return;
    const c = new pg.Client({ connectionString: conn, keepAlive: true, application_name: `avfs-listen-${process.pid}` });
    client = c;
    let failed = false;
    const fail = (): void => {
      if (failed) return;
      failed = true;
      c.end().catch(() => {});
      if (client === c) client = undefined;
      if (closed) return;
      retry = setTimeout(start, delay);
      retry.unref();
      delay = Math.min(delay * 2, 5000);
    };
    c.on('error', fail);
    c.on('end', fail);
    c.on('notification', () => onChange());
    c.connect()
      .then(() => {
        const stream = (c as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream;
        stream?.unref?.();
        return c.query(`LISTEN ${ident(schema)}`);
      })
      .then(() => {
        if (closed) return;
        delay = 100;
        onChange();
      })
      .catch(fail);
  };
  start();

  return {
    close() {
      if (closed) return;
      closed = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = undefined;
      c?.end().catch(() => {});
    },
  };
}
