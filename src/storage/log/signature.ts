// The signature file (avfs-log) marks a folder as a log store and holds what is needed to read
// it: the format version and, for an encrypted store, the KDF parameters and a key-check value.
// It is written once, when the store is created, and renamed into place last, so a folder with
// a signature file holds a complete empty store at least.
import fs from 'node:fs';
import { join } from 'node:path';
import { vfsError } from '../../errors.js';
import { AesGcm, PLAIN, deriveKey, keyCheck, keyMatches, newKdfParams, type Cipher, type KdfParams } from './cipher.js';
import { FORMAT, SIGNATURE_FILE, SIGNATURE_MAGIC } from './format.js';

export interface Signature {
  format: number;
  cipher?: 'aes-256-gcm';
  kdf?: KdfParams;
  check?: string;
}

export function readSignature(dir: string): Signature {
  const file = join(dir, SIGNATURE_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw vfsError('ENOTVAULT', dir, `not an agentvfs vault (cannot read ${SIGNATURE_FILE}: ${(e as NodeJS.ErrnoException).code})`);
  }
  const nl = text.indexOf('\n');
  if (nl < 0 || text.slice(0, nl) !== SIGNATURE_MAGIC) throw vfsError('ENOTVAULT', dir, `not an agentvfs vault (${SIGNATURE_FILE} is not a log store signature)`);
  let sig: Signature;
  try {
    sig = JSON.parse(text.slice(nl + 1)) as Signature;
  } catch {
    throw vfsError('ECORRUPT', dir, `vault is damaged (${SIGNATURE_FILE} is unreadable)`);
  }
  if (sig.format !== FORMAT) throw vfsError('EVERSION', dir, `log store format ${sig.format} is not supported (this avfs reads format ${FORMAT})`);
  return sig;
}

export function isLogStore(dir: string): boolean {
  try {
    const fd = fs.openSync(join(dir, SIGNATURE_FILE), 'r');
    try {
      const b = Buffer.alloc(SIGNATURE_MAGIC.length);
      fs.readSync(fd, b, 0, b.length, 0);
      return b.toString('latin1') === SIGNATURE_MAGIC;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** A new store's signature and cipher: encrypted when a passphrase is given. */
export function newSignature(passphrase: string | undefined): { sig: Signature; cipher: Cipher } {
  if (passphrase === undefined) return { sig: { format: FORMAT }, cipher: PLAIN };
  const kdf = newKdfParams();
  const cipher = new AesGcm(deriveKey(passphrase, kdf));
  return { sig: { format: FORMAT, cipher: 'aes-256-gcm', kdf, check: keyCheck(cipher) }, cipher };
}

export function signatureText(sig: Signature): string {
  return `${SIGNATURE_MAGIC}\n${JSON.stringify(sig)}\n`;
}

/** The cipher for an existing store; EPASSPHRASE when the store is encrypted and the passphrase is missing or wrong. */
export function cipherFor(dir: string, sig: Signature, passphrase: string | undefined): Cipher {
  if (sig.cipher === undefined) return PLAIN;
  if (sig.cipher !== 'aes-256-gcm' || sig.kdf?.name !== 'scrypt' || typeof sig.check !== 'string') {
    throw vfsError('EVERSION', dir, `unsupported encryption in ${SIGNATURE_FILE}`);
  }
  if (passphrase === undefined || passphrase === '') {
    throw vfsError('EPASSPHRASE', dir, 'the vault is encrypted: set AVFS_PASSPHRASE or enter the passphrase when asked');
  }
  const cipher = new AesGcm(deriveKey(passphrase, sig.kdf));
  if (!keyMatches(cipher, sig.check)) throw vfsError('EPASSPHRASE', dir, 'wrong passphrase for this encrypted vault');
  return cipher;
}
