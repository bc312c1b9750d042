// Byte helpers shared by the disk engines.
import type { Bytes } from './contract.js';

/** A Buffer view of the same memory (no copy): native bindings want Buffers, callers may pass Uint8Arrays. */
export function toBuffer(b: Bytes): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
