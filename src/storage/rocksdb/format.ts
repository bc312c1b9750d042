// The format record of an open database (keys.ts FORMAT_KEY), read on every open: a process
// may find the store compacted into a newer format since it last held it (compaction writes
// format 2), so the format is the open database's, not the store's at first open.
import { vfsError } from '../../errors.js';
import type { RocksDb } from './binding.js';
import { corrupt } from './errors.js';
import { FORMAT_KEY, FORMATS } from './keys.js';

const ENC = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;

/** The database's format (1 or 2); ECORRUPT when the record is missing or unreadable, EVERSION when unknown. */
export function readFormat(db: RocksDb, path: string): number {
  const raw = db._getManySync([FORMAT_KEY], ENC)[0];
  if (raw === undefined) throw corrupt(path, 'the format record is missing');
  let f: unknown;
  try {
    f = (JSON.parse(raw.toString()) as { format?: unknown })?.format;
  } catch {
    throw corrupt(path, 'the format record is unreadable');
  }
  if (!FORMATS.includes(f as never)) throw vfsError('EVERSION', path, `rocksdb store format ${JSON.stringify(f)} is not supported (this avfs reads formats ${FORMATS.join(' and ')})`);
  return f as number;
}
