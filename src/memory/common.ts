// Argument checks and small encodings shared by the agent-memory parts. Every check throws a
// VfsError with a one-line reason before anything is written.
import { vfsError } from '../errors.js';
import type { ReadTx } from '../storage/contract.js';
import { readVaultConfig } from '../core/vault-config.js';

/** `memory_max_value_kb` when the vault does not set it: 1 MiB. */
export const DEFAULT_MAX_VALUE_KB = 1024;
/** Longest kv key, stream name, tag or intent, in UTF-8 bytes (keys embed them, under the 511-byte key limit). */
export const MAX_NAME_BYTES = 400;
export const MAX_TAG_BYTES = 200;

/** How a name is shown in messages: quoted, control characters escaped, long ones cut. */
export function show(name: string): string {
  const s = JSON.stringify(name.length > 80 ? name.slice(0, 80) + '…' : name);
  return s;
}

/** A kv key, stream name, tag or intent: a non-empty string without NUL, at most `max` bytes. */
export function checkName(what: string, name: unknown, max = MAX_NAME_BYTES): string {
  if (typeof name !== 'string') throw vfsError('EINVAL', undefined, `${what} must be a string`);
  if (name.length === 0) throw vfsError('EINVAL', undefined, `${what} must not be empty`);
  if (name.includes('\0')) throw vfsError('EINVAL', undefined, `${what} ${show(name)} contains a NUL character`);
  const bytes = Buffer.byteLength(name);
  if (bytes > max) throw vfsError('ENAMETOOLONG', undefined, `${what} ${show(name)} is ${bytes} bytes long (at most ${max})`);
  return name;
}

export function checkTags(tags: unknown): string[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags)) throw vfsError('EINVAL', undefined, 'tags must be an array of strings');
  const out: string[] = [];
  for (const t of tags) {
    const tag = checkName('tag', t, MAX_TAG_BYTES);
    if (!out.includes(tag)) out.push(tag);
  }
  return out;
}

/** A memory or session id: a whole number >= 1 (a numeric string is taken too, as the CLI passes). */
export function checkId(what: string, id: unknown): number {
  const n = typeof id === 'number' ? id : typeof id === 'string' && /^\d+$/.test(id.trim()) ? Number(id.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw vfsError('EINVAL', undefined, `${what} id must be a whole number >= 1, got ${show(String(id))}`);
  return n;
}

export function checkCount(what: string, n: unknown, min = 0): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) {
    throw vfsError('EINVAL', undefined, `${what} must be a whole number >= ${min}, got ${show(String(n))}`);
  }
  return n;
}

/** Bytes from what a caller gives: a string (UTF-8) or bytes. */
export function toBytes(what: string, v: unknown): Buffer {
  if (typeof v === 'string') return Buffer.from(v);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw vfsError('EINVAL', undefined, `${what} must be a string or bytes`);
}

/** Parse JSON text given by a user; anything else than valid JSON is EINVAL. */
export function parseJson(what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const why = String((e as Error).message ?? e).split('\n')[0];
    throw vfsError('EINVAL', undefined, `${what} is not valid JSON (${why})`);
  }
}

/** A JSON value given in code: serialisable as JSON (no undefined, functions, cycles, BigInt). */
export function jsonText(what: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw vfsError('EINVAL', undefined, `${what} cannot be stored as JSON (${String((e as Error).message ?? e).split('\n')[0]})`);
  }
  if (text === undefined) throw vfsError('EINVAL', undefined, `${what} cannot be stored as JSON (it is ${typeof value})`);
  return text;
}

/** The vault's limit on one value, in bytes. */
export async function maxValueBytes(tx: ReadTx): Promise<number> {
  const cfg = await readVaultConfig(tx);
  return Math.floor((cfg.memory_max_value_kb ?? DEFAULT_MAX_VALUE_KB) * 1024);
}

/** Refuse a value over the vault's limit (EFBIG), inside the transaction that would store it. */
export async function checkSize(tx: ReadTx, what: string, bytes: number): Promise<void> {
  const max = await maxValueBytes(tx);
  if (bytes > max) {
    throw vfsError('EFBIG', undefined, `${what} of ${bytes} bytes is over the vault's limit memory_max_value_kb=${max / 1024} (${max} bytes)`);
  }
}

/** u64 big-endian, for keys that must sort numerically. */
export { u64, readU64 } from '../core/records.js';

/** `a` + 0x00 + `b`: names never hold NUL, so the 0x00 ends the name inside a key. */
export function joinKey(name: string, tail: Buffer): Buffer {
  return Buffer.concat([Buffer.from(name), Buffer.from([0]), tail]);
}

export function namePrefix(name: string): Buffer {
  return Buffer.concat([Buffer.from(name), Buffer.from([0])]);
}

/** Text if the bytes are valid UTF-8, else base64 (for --json output of byte values). */
export function encodeValue(b: Buffer): { value: string; encoding: 'utf8' | 'base64' } {
  const text = b.toString('utf8');
  return Buffer.from(text, 'utf8').equals(b) ? { value: text, encoding: 'utf8' } : { value: b.toString('base64'), encoding: 'base64' };
}
