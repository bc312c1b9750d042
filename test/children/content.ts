// Deterministic content per file name, so a parent can check what a killed child wrote.
import { createHash } from 'node:crypto';

export function contentFor(name: string, varied = false): Buffer {
  const seed = createHash('sha256').update(name).digest();
  // Varied sizes cross the 64 KiB chunk boundary: 0 bytes, small, one chunk, several chunks.
  const sizes = [0, 37, 1024, 65_536, 65_537, 200_000];
  const size = varied ? sizes[seed[0] % sizes.length] : 1024;
  const out = Buffer.alloc(size);
  for (let off = 0; off < size; off += 32) createHash('sha256').update(seed).update(String(off)).digest().copy(out, off);
  return out;
}
