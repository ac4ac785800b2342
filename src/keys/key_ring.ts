import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Store } from '../store/store.js';

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
 */
export class KeyRing {
  #current: { kid: string; signingKey: KeyObject } | null = null;
  #published = new Map<string, PublishedKey>();

  constructor(private readonly store: Store) {}

  /** Loads the keys, creating the first one if there is none. */
  static async open(store: Store): Promise<KeyRing> {
    const ring = new KeyRing(store);
    if (store.signingKeys.published(Date.now()).length === 0) await createSigningKey(store);
    await ring.reload();
    return ring;
  }

  async reload(): Promise<void> {
    const records = this.store.signingKeys.published(Date.now());
    const published = new Map<string, PublishedKey>();
    let current: { kid: string; signingKey: KeyObject } | null = null;
    for (const record of records) {
      const publicJwk = JSON.parse(record.publicJwk) as JWK;
      published.set(record.kid, {
        kid: record.kid,
        publicJwk,
        verificationKey: createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' }),
      });
      if (record.retiredAt === null && current === null) {
        current = { kid: record.kid, signingKey: createPrivateKey({ key: JSON.parse(record.privateJwk) as JsonWebKey, format: 'jwk' }) };
      }
    }
    if (!current) throw new Error('no current signing key: run latchkey init');
    this.#current = current;
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

/** Generates an ES256 key pair and stores it as the current key; returns its kid (the RFC 7638 thumbprint). */
export async function createSigningKey(store: Store): Promise<string> {
  const { kid, privateJwk, publicJwk } = await newSigningKey();
  store.durably(() => {
    store.signingKeys.insert(kid, JSON.stringify(privateJwk), JSON.stringify(publicJwk), Date.now());
    store.changes.append('keys', kid);
  });
  return kid;
}

/**
 * Rotates: the current key is retired, its public half stays published
 * until every token it could have signed has expired (`maxTokenTtl`
 * seconds from now), and a new key becomes current.
 */
export async function rotateSigningKey(store: Store, maxTokenTtl: number): Promise<{ kid: string; retiredPublishedUntil: number }> {
  const { kid, privateJwk, publicJwk } = await newSigningKey();
  const now = Date.now();
  const until = now + maxTokenTtl * 1000;
  store.durably(() => {
    store.signingKeys.retireCurrent(now, until);
    store.signingKeys.insert(kid, JSON.stringify(privateJwk), JSON.stringify(publicJwk), now);
    store.changes.append('keys', kid);
  });
  return { kid, retiredPublishedUntil: until };
}

async function newSigningKey(): Promise<{ kid: string; privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { kid: await calculateJwkThumbprint(publicJwk), privateJwk: await exportJWK(privateKey), publicJwk };
}
