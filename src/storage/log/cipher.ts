// Encryption at rest for the log engine: AES-256-GCM from node:crypto with a fresh random 96-bit
// nonce per sealed piece (log record payload, chunk value, checkpoint block), and the piece's
// position as additional authenticated data, so a piece moved elsewhere in the store fails to
// open. The key comes from the passphrase through scrypt with a random salt; the parameters and
// a key-check value live in the signature file (signature.ts).
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';

export interface Cipher {
  readonly encrypted: boolean;
  seal(plain: Buffer, aad: Buffer): Buffer;
  /** The plaintext, or undefined when the piece does not authenticate. */
  open(sealed: Buffer, aad: Buffer): Buffer | undefined;
}

export const PLAIN: Cipher = {
  encrypted: false,
  seal: (p) => p,
  open: (s) => s,
};

const NONCE = 12;
const TAG = 16;

export class AesGcm implements Cipher {
  readonly encrypted = true;
  constructor(private key: Buffer) {}
  seal(plain: Buffer, aad: Buffer): Buffer {
    const nonce = randomBytes(NONCE);
    const c = createCipheriv('aes-256-gcm', this.key, nonce);
    c.setAAD(aad);
    const body = c.update(plain);
    const fin = c.final();
    return Buffer.concat([nonce, body, fin, c.getAuthTag()]);
  }
  open(sealed: Buffer, aad: Buffer): Buffer | undefined {
    if (sealed.length < NONCE + TAG) return undefined;
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, NONCE));
      d.setAAD(aad);
      d.setAuthTag(sealed.subarray(sealed.length - TAG));
      return Buffer.concat([d.update(sealed.subarray(NONCE, sealed.length - TAG)), d.final()]);
    } catch {
      return undefined;
    }
  }
}

export interface KdfParams {
  name: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string; // base64
}

export function newKdfParams(): KdfParams {
  // N = 2^15, r = 8: 32 MiB and roughly 0.1 s per open; a stolen folder costs as much per guess.
  return { name: 'scrypt', N: 1 << 15, r: 8, p: 1, salt: randomBytes(16).toString('base64') };
}

export function deriveKey(passphrase: string, k: KdfParams): Buffer {
  return scryptSync(passphrase.normalize('NFC'), Buffer.from(k.salt, 'base64'), 32, { N: k.N, r: k.r, p: k.p, maxmem: 256 * k.N * k.r });
}

const CHECK_PLAIN = Buffer.from('agentvfs key check');
const CHECK_AAD = Buffer.from('key-check');

export function keyCheck(c: Cipher): string {
  return c.seal(CHECK_PLAIN, CHECK_AAD).toString('base64');
}

export function keyMatches(c: Cipher, check: string): boolean {
  const got = c.open(Buffer.from(check, 'base64'), CHECK_AAD);
  return got !== undefined && got.equals(CHECK_PLAIN);
}

/** Additional data binding a piece to its place: kind, then up to two numbers. */
export function aad(kind: string, a: number, b = 0): Buffer {
  const out = Buffer.alloc(kind.length + 16);
  out.write(kind, 0, 'latin1');
  out.writeBigUInt64LE(BigInt(a), kind.length);
  out.writeBigUInt64LE(BigInt(b), kind.length + 8);
  return out;
}
