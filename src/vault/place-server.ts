// place.ts for stores on a server (postgres): a fork or migrate builds the new store in a
// temporary schema beside the destination's and renames it into place once complete (ALTER
// SCHEMA ... RENAME refuses a name that exists, so nothing is ever replaced). A failed build is
// dropped. A temporary schema whose builder was killed stays until `vault delete`-d by hand:
// its name says which process made it (NAME_fork_PID_RANDOM).
import { randomBytes } from 'node:crypto';
import { isVfsError, vfsError } from '../errors.js';
import { Registry } from './registry.js';
import { hasSchema, parsePgUrl, schemaForName, withSchema, withoutPassword } from '../storage/postgres/url.js';

/** The destination URL of a vault named `name` on the server of `url` (its schema: avfs_NAME unless the URL names one). */
export function serverDestination(url: string, name: string | undefined): string {
  if (name === undefined || hasSchema(url)) return url;
  return withSchema(url, schemaForName(name));
}

/** The temporary schema's URL for building the store of `url`. */
export function serverTemp(url: string, purpose: string): string {
  const schema = parsePgUrl(url).schema;
  return withSchema(url, `${schema.slice(0, 36)}_${purpose}_${process.pid}_${randomBytes(4).toString('hex')}`);
}

/** EEXIST when a vault already lives at `url`. */
export async function refuseExistingServerStore(url: string, settings: Record<string, unknown>): Promise<void> {
  const { openPostgres } = await import('../storage/postgres/engine.js');
  try {
    const e = await openPostgres({ path: url, create: false, readOnly: true, settings });
    await e.close();
  } catch (e) {
    if (isVfsError(e, 'ENOVAULT')) return;
    throw e;
  }
  throw vfsError('EEXIST', undefined, `${parsePgUrl(url).display}: a vault already exists in that schema`);
}

export async function removeServerStore(url: string, settings: Record<string, unknown> = {}): Promise<void> {
  const { dropPostgresStore } = await import('../storage/postgres/engine.js');
  await dropPostgresStore(url, settings).catch(() => {});
}

/** Rename the finished store at `tmp` to `url`'s schema and register it under `name` (if any). */
export async function placeAndRegisterServer(tmp: string, url: string, home: string, name: string | undefined, backend: string, settings: Record<string, unknown>): Promise<void> {
  const { renamePostgresStore } = await import('../storage/postgres/engine.js');
  await renamePostgresStore(tmp, parsePgUrl(url).schema, settings);
  if (!name) return;
  try {
    const now = new Registry(home);
    now.add(name, withoutPassword(url), backend);
    now.save();
  } catch (e) {
    await removeServerStore(url, settings);
    throw e;
  }
}
