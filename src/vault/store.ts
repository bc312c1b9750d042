// Creating and opening the store behind a vault: pick the engine (recorded in the vault and
// detected from what is on disk), check that it really is a vault of a format we read, and
// turn every low-level failure into one clear error.
import { existsSync, mkdirSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { isVfsError, vfsError, VfsError } from '../errors.js';
import type { Engine } from '../storage/contract.js';
import { isEngineKind, openEngine } from '../storage/engines.js';
import { DEFAULT_CHUNK_SIZE } from '../content/chunks.js';
import { META_SEARCH, SEARCH_FORMAT } from '../core/indexing.js';
import { FORMAT_VERSION, META_VAULT, ROOT_INO, decodeJson, encodeJson, type VaultRecord } from '../core/records.js';
import { META_USAGE, withWrite } from '../core/scope.js';
import { defaultActor } from './actor.js';
import { isPgUrl, redact } from '../storage/postgres/url.js';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0');

/** The backend of whatever is stored at `path`, from its bytes on disk. */
export function detectBackend(path: string): string {
  // A server-side store: the URL says which server; the engine checks the schema on open.
  if (isPgUrl(path)) return 'postgres';
  if (!existsSync(path)) throw vfsError('ENOVAULT', path, 'no vault here');
  const st = statSync(path);
  if (st.isDirectory()) {
    if (existsSync(`${path}/data.mdb`)) return 'lmdb';
    if (existsSync(`${path}/avfs-log`)) return 'log';
    if (existsSync(`${path}/avfs-rocksdb`)) return 'rocksdb';
    throw vfsError('ENOTVAULT', path, 'not an agentvfs vault (a folder without a vault store in it)');
  }
  if (st.size === 0) throw vfsError('ENOTVAULT', path, 'not an agentvfs vault (empty file)');
  const head = Buffer.alloc(16);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (head.equals(SQLITE_MAGIC)) return 'sqlite';
  throw vfsError('ENOTVAULT', path, 'not an agentvfs vault (unrecognised file)');
}

export interface OpenedStore {
  engine: Engine;
  record: VaultRecord;
}

function asVaultError(e: unknown, path: string): VfsError {
  if (isVfsError(e)) return e;
  return vfsError('ECORRUPT', path, `cannot read the vault (${(e as Error)?.message?.split('\n')[0] ?? String(e)})`, e);
}

/**
 * Open an existing vault's store; `backend` skips detection (memory, or a registered vault).
 * `readOnly`: writes are refused (EROFS) and the store is not upgraded (migrate reads its source so).
 * `passphrase`: for an encrypted store (log engine).
 */
export async function openStore(
  path: string,
  backend: string | undefined,
  settings: Record<string, unknown> = {},
  opts: { readOnly?: boolean; passphrase?: string } = {},
): Promise<OpenedStore> {
  const kind = backend ?? detectBackend(path);
  if (!isEngineKind(kind)) throw vfsError('EBACKEND', undefined, `unknown backend "${kind}"`);
  const where = isPgUrl(path) ? redact(path) : path;
  let engine: Engine;
  try {
    engine = await openEngine(kind, {
      path,
      create: false,
      settings,
      ...(opts.readOnly ? { readOnly: true } : {}),
      ...(opts.passphrase !== undefined ? { passphrase: opts.passphrase } : {}),
    });
  } catch (e) {
    throw asVaultError(e, where);
  }
  try {
    const raw = await engine.read((tx) => tx.get('meta', META_VAULT));
    if (raw === undefined) throw vfsError('ENOTVAULT', where, 'not an agentvfs vault (no vault record)');
    let record: VaultRecord;
    try {
      record = decodeJson<VaultRecord>(raw);
    } catch {
      throw vfsError('ECORRUPT', where, 'the vault record is unreadable');
    }
    if (record.format !== FORMAT_VERSION) {
      throw vfsError('EVERSION', where, `vault format ${record.format} is not supported (this avfs reads format ${FORMAT_VERSION})`);
    }
    if (record.backend !== kind) throw vfsError('ECORRUPT', where, `vault says backend "${record.backend}" but is stored as ${kind}`);
    if (!Number.isInteger(record.chunkSize) || record.chunkSize < 1024) throw vfsError('ECORRUPT', where, 'the vault record has a bad chunk size');
    return { engine, record };
  } catch (e) {
    await engine.close().catch(() => {});
    throw asVaultError(e, where);
  }
}

/** Make a new, empty vault store (root folder, vault record) in one transaction. */
export async function createStore(
  path: string,
  backend: string,
  settings: Record<string, unknown> = {},
  actor?: string,
  passphrase?: string,
): Promise<OpenedStore> {
  if (!isEngineKind(backend)) throw vfsError('EBACKEND', undefined, `unknown backend "${backend}" (choose sqlite, lmdb, log, rocksdb, postgres or memory)`);
  if (backend === 'postgres' && !isPgUrl(path)) throw vfsError('EUSAGE', undefined, 'a postgres vault needs a server URL (--url postgres://user@host/db)');
  if (backend !== 'memory' && backend !== 'postgres') {
    if (existsSync(path)) throw vfsError('EEXIST', path, 'something already exists here');
    mkdirSync(dirname(path), { recursive: true });
  }
  const engine = await openEngine(backend, { path, create: true, settings, ...(passphrase !== undefined ? { passphrase } : {}) });
  // A file store that existed was refused above; a server-side store is only known to exist
  // once connected. The check and the creation below are not one transaction, but two creators
  // racing on one schema is a mistake either way.
  if (backend === 'postgres' && (await engine.read((tx) => tx.has('meta', META_VAULT)))) {
    await engine.close();
    throw vfsError('EEXIST', undefined, `${redact(path)}: a vault already exists in that schema`);
  }
  const { randomUUID } = await import('node:crypto'); // only creation needs it (start-up time)
  const record: VaultRecord = { format: FORMAT_VERSION, backend, id: randomUUID(), createdMs: Date.now(), chunkSize: DEFAULT_CHUNK_SIZE };
  try {
    await withWrite(engine, { chunkSize: record.chunkSize, actor: actor ?? defaultActor() }, async (s) => {
      await s.begin('vault.create', ['/'], { backend });
      await s.tx.put('meta', META_VAULT, encodeJson(record));
      await s.tx.put('meta', META_USAGE, encodeJson({ files: 0, bytes: 0 }));
      await s.tx.put('meta', META_SEARCH, encodeJson({ format: SEARCH_FORMAT, seq: 0 }));
      const t = record.createdMs;
      await s.setInode({ ino: ROOT_INO, type: 'directory', mode: 0o755, size: 0, mtimeMs: t, ctimeMs: t, birthtimeMs: t, version: 1 });
    });
  } catch (e) {
    await engine.close().catch(() => {});
    throw e;
  }
  return { engine, record };
}
