import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { LatchkeyError } from '../errors/latchkey_error.js';
import type { SigningKeyRecord } from '../store/signing_keys.js';
import type { Store } from '../store/store.js';
import { isSealed, KEY_PASSPHRASE_ENV, openKey, sealKey } from './key_sealing.js';

export const SIGNING_ALG = 'ES256';

interface PublishedKey {
  kid: string;
  publicJwk: JWK;
  /** node:crypto form, for synchronous verification on the connect path. */
  verificationKey: KeyObject;
}

/**
 * The signing keys in memory: the current private key for issuing, and
 * every published public key (current and retired-but-unexpired) for
 * verifying and for JWKS. Loaded from the store; {@link reload} after a
 * rotation made by another process.
 *
 * With a passphrase (`LATCHKEY_KEY_PASSPHRASE`) private keys are stored
 * sealed (scrypt + AES-256-GCM, src/keys/key_sealing.ts) and only the
 * current one is ever decrypted, in memory.
 */
export class KeyRing {
  #current: { kid: string; signingKey: KeyObject } | null = null;
  #published = new Map<string, PublishedKey>();

  constructor(
    private readonly store: Store,
    private readonly passphrase: string | null = null,
  ) {}

  /**
   * Loads the keys, creating the first one if there is none. With a
   * passphrase, keys still stored in plaintext are sealed first.
   *
   * @throws LatchkeyError bad_passphrase: keys are sealed and the passphrase is missing or wrong
   */
  static async open(store: Store, passphrase: string | null = null): Promise<KeyRing> {
    const ring = new KeyRing(store, passphrase);
    await sealPlaintextKeys(store, passphrase);
    // Every node of a cluster starts here: one creates the first key, the others then find it.
    await store.oneAtATime('signingKeys', async () => {
      if (store.signingKeys.published(Date.now()).length === 0) await createSigningKey(store, passphrase);
    });
    await ring.reload();
    return ring;
  }

  /** Re-reads the keys; on failure (a key sealed under another passphrase) the ring keeps what it had. */
  async reload(): Promise<void> {
    const records = this.store.signingKeys.published(Date.now());
    const published = new Map<string, PublishedKey>();
    let current: SigningKeyRecord | null = null;
    for (const record of records) {
      const publicJwk = JSON.parse(record.publicJwk) as JWK;
      published.set(record.kid, {
        kid: record.kid,
        publicJwk,
        verificationKey: createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' }),
      });
      if (record.retiredAt === null && current === null) current = record;
    }
    if (!current) throw new Error('no current signing key: run latchkey init');
    const privateJwk = await privateJwkOf(current, this.passphrase);
    this.#current = { kid: current.kid, signingKey: createPrivateKey({ key: privateJwk, format: 'jwk' }) };
    this.#published = published;
  }

  get current(): { kid: string; signingKey: KeyObject } {
    if (!this.#current) throw new Error('key ring not loaded');
    return this.#current;
  }

  /** The public key for a `kid`, if it is still published. */
  verificationKey(kid: string): KeyObject | undefined {
    return this.#published.get(kid)?.verificationKey;
  }

  /** RFC 7517 JWK Set of every published key. */
  jwks(): { keys: JWK[] } {
    return {
      keys: [...this.#published.values()].map((k) => ({ ...k.publicJwk, kid: k.kid, alg: SIGNING_ALG, use: 'sig' })),
    };
  }
}

/**
 * Generates an ES256 key pair and stores it as the current key (sealed
 * under `passphrase` when given); returns its kid (the RFC 7638 thumbprint).
 *
 * @throws LatchkeyError bad_passphrase: stored keys are sealed and `passphrase` does not open them
 */
export async function createSigningKey(store: Store, passphrase: string | null = null): Promise<string> {
  await checkPassphrase(store, passphrase);
  const { kid, privateJwk, publicJwk } = await newSigningKey();
  const stored = await storedPrivate(kid, privateJwk, passphrase);
  store.durably(() => {
    store.signingKeys.insert(kid, stored, JSON.stringify(publicJwk), Date.now());
    store.changes.append('keys', kid);
  });
  return kid;
}

/**
 * Rotates: the current key is retired, its public half stays published
 * until every token it could have signed has expired (`maxTokenTtl`
 * seconds from now), and a new key becomes current.
 *
 * @throws LatchkeyError bad_passphrase: stored keys are sealed and `passphrase` does not open them
 */
export async function rotateSigningKey(
  store: Store,
  maxTokenTtl: number,
  passphrase: string | null = null,
): Promise<{ kid: string; retiredPublishedUntil: number }> {
  await checkPassphrase(store, passphrase);
  const { kid, privateJwk, publicJwk } = await newSigningKey();
  const stored = await storedPrivate(kid, privateJwk, passphrase);
  const now = Date.now();
  const until = now + maxTokenTtl * 1000;
  store.durably(() => {
    store.signingKeys.retireCurrent(now, until);
    store.signingKeys.insert(kid, stored, JSON.stringify(publicJwk), now);
    store.changes.append('keys', kid);
  });
  return { kid, retiredPublishedUntil: until };
}

async function newSigningKey(): Promise<{ kid: string; privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { kid: await calculateJwkThumbprint(publicJwk), privateJwk: await exportJWK(privateKey), publicJwk };
}

/** What a sealed signing key is bound to: its own kid, so sealed keys cannot be swapped between rows. */
const sealContext = (kid: string) => `signing key ${kid}`;

async function storedPrivate(kid: string, privateJwk: JWK, passphrase: string | null): Promise<string> {
  const json = JSON.stringify(privateJwk);
  return passphrase === null ? json : sealKey(json, passphrase, sealContext(kid));
}

async function privateJwkOf(record: SigningKeyRecord, passphrase: string | null): Promise<JsonWebKey> {
  if (!isSealed(record.privateJwk)) return JSON.parse(record.privateJwk) as JsonWebKey;
  if (passphrase === null) {
    throw new LatchkeyError('bad_passphrase', `the signing keys are encrypted: set ${KEY_PASSPHRASE_ENV} to their passphrase`);
  }
  return JSON.parse(await openKey(record.privateJwk, passphrase, sealContext(record.kid))) as JsonWebKey;
}

/**
 * Before a new key is stored: never a plaintext key beside sealed ones, and
 * never a key sealed under a passphrase that does not open the others
 * (a server with the right one could not load it).
 */
async function checkPassphrase(store: Store, passphrase: string | null): Promise<void> {
  const sealed = store.signingKeys.all().find((k) => isSealed(k.privateJwk));
  if (sealed) await privateJwkOf(sealed, passphrase);
}

/**
 * The first start with a passphrase seals every key still stored in
 * plaintext, in one durable transaction. With none, refuses to go on if
 * any key is sealed (that is checked when the current key is loaded).
 */
async function sealPlaintextKeys(store: Store, passphrase: string | null): Promise<void> {
  if (passphrase === null) return;
  const keys = store.signingKeys.all();
  const plain = keys.filter((k) => !isSealed(k.privateJwk));
  if (plain.length === 0) return;
  // A passphrase that does not open the keys already sealed must not seal more.
  await checkPassphrase(store, passphrase);
  const sealed = await Promise.all(plain.map(async (k) => ({ kid: k.kid, stored: await sealKey(k.privateJwk, passphrase, sealContext(k.kid)) })));
  store.durably(() => {
    for (const k of sealed) store.signingKeys.setPrivate(k.kid, k.stored);
  });
}
