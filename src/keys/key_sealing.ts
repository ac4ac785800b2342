import { createCipheriv, createDecipheriv, randomBytes, scrypt, type ScryptOptions } from 'node:crypto';
import { LatchkeyError } from '../errors/latchkey_error.js';

/** Where the passphrase comes from: the environment only, never a flag (flags show in `ps`). */
export const KEY_PASSPHRASE_ENV = 'LATCHKEY_KEY_PASSPHRASE';

/** Marks a sealed value; a JWK or a PEM never has it. */
const FORMAT = 'latchkey-sealed-v1';
/** scrypt cost: about 100 ms and 32 MiB per key on a small server (RFC 7914 §2 recommends N ≥ 2^14 for interactive use). */
const SCRYPT: ScryptOptions & { N: number; r: number; p: number } = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

interface Sealed {
  format: typeof FORMAT;
  kdf: 'scrypt';
  n: number;
  r: number;
  p: number;
  salt: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/**
 * The key-encryption passphrase from `LATCHKEY_KEY_PASSPHRASE`, or null when
 * unset or empty (keys are then stored unencrypted, and `start` says so).
 *
 * @example keyPassphrase({ LATCHKEY_KEY_PASSPHRASE: 'correct horse' }) // 'correct horse'
 */
export function keyPassphrase(env: NodeJS.ProcessEnv = process.env): string | null {
  const value = env[KEY_PASSPHRASE_ENV];
  return value === undefined || value === '' ? null : value;
}

/**
 * Encrypts a private key at rest: scrypt derives a 256-bit key from the
 * passphrase and a fresh random salt, AES-256-GCM encrypts under a fresh
 * random 96-bit nonce (NIST SP 800-38D §8.2.2) and authenticates the
 * ciphertext together with `context` (the key's name, so a sealed key
 * cannot be swapped for another one). The result is one line of JSON.
 *
 * @example const stored = await sealKey(JSON.stringify(privateJwk), passphrase, `signing-key:${kid}`);
 */
export async function sealKey(plaintext: string, passphrase: string, context: string): Promise<string> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = await derive(passphrase, salt, SCRYPT);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const sealed: Sealed = {
    format: FORMAT,
    kdf: 'scrypt',
    n: SCRYPT.N,
    r: SCRYPT.r,
    p: SCRYPT.p,
    salt: salt.toString('base64url'),
    iv: iv.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
    ciphertext: ciphertext.toString('base64url'),
  };
  return JSON.stringify(sealed);
}

/**
 * Decrypts what {@link sealKey} made. A wrong passphrase, another key's
 * context or any altered byte fails the GCM tag check.
 *
 * @example const jwk = JSON.parse(await openKey(stored, passphrase, `signing-key:${kid}`));
 * @throws LatchkeyError bad_passphrase
 */
export async function openKey(stored: string, passphrase: string, context: string): Promise<string> {
  const sealed = parseSealed(stored);
  if (!sealed) throw new LatchkeyError('bad_passphrase', `${context} is not an encrypted key`);
  const key = await derive(passphrase, Buffer.from(sealed.salt, 'base64url'), { N: sealed.n, r: sealed.r, p: sealed.p, maxmem: SCRYPT.maxmem });
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new LatchkeyError('bad_passphrase', `${KEY_PASSPHRASE_ENV} does not decrypt ${context}: wrong passphrase, or the key was altered`);
  }
}

/** True when `stored` is a sealed key rather than a plaintext JWK or PEM. */
export function isSealed(stored: string): boolean {
  return parseSealed(stored) !== null;
}

function parseSealed(stored: string): Sealed | null {
  if (!stored.trimStart().startsWith('{')) return null;
  try {
    const value = JSON.parse(stored) as Partial<Sealed>;
    if (value.format !== FORMAT || value.kdf !== 'scrypt') return null;
    const fields = [value.salt, value.iv, value.tag, value.ciphertext];
    if (!fields.every((f) => typeof f === 'string') || ![value.n, value.r, value.p].every((v) => Number.isSafeInteger(v))) return null;
    return value as Sealed;
  } catch {
    return null;
  }
}

function derive(passphrase: string, salt: Buffer, options: ScryptOptions & { N: number }): Promise<Buffer> {
  // Bounded so a tampered record cannot ask for gigabytes of memory.
  if (options.N > 2 ** 20) return Promise.reject(new LatchkeyError('bad_passphrase', 'sealed key asks for an unreasonable scrypt cost'));
  return new Promise((resolve, reject) => scrypt(passphrase.normalize('NFC'), salt, 32, options, (err, key) => (err ? reject(err) : resolve(key))));
}
