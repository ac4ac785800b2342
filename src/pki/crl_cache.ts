import type { CertificateAuthority } from './ca.js';
import { buildCrl } from './crl.js';

/** A CRL is valid this long (its nextUpdate)… */
const CRL_VALIDITY_MS = 60 * 60_000;
/** …and re-signed once less than this is left, so relying parties never hold one past its nextUpdate. */
const REFRESH_BEFORE_MS = 30 * 60_000;

export interface RevokedEntry {
  serial: string;
  revokedAt: Date;
}

/**
 * The CA's CRL, signed once and served from memory until the set of
 * revoked certificates changes or its nextUpdate is near. `GET /pki/crl` is
 * public: without the cache every request would cost an ECDSA signature,
 * an easy way to burn the server's CPU.
 *
 * @example
 * const crls = new CrlCache(() => metrics.crlSigned.inc());
 * reply.send(await crls.get(ca, revoked));
 */
export class CrlCache {
  #cached: { key: string; der: Buffer; refreshAt: number } | null = null;
  /** One signature at a time: concurrent requests for a stale CRL wait for the same one. */
  #signing: Promise<Buffer> | null = null;

  constructor(private readonly onSigned: () => void = () => {}) {}

  /** The current CRL for `revoked` at `now`: the cached bytes, or a fresh signature when they no longer fit. */
  async get(ca: CertificateAuthority, revoked: readonly RevokedEntry[], now = Date.now()): Promise<Buffer> {
    const key = cacheKey(ca, revoked);
    const cached = this.#cached;
    if (cached && cached.key === key && now < cached.refreshAt) return cached.der;
    while (this.#signing) {
      await this.#signing.catch(() => {});
      const fresh = this.#cached;
      if (fresh && fresh.key === key && now < fresh.refreshAt) return fresh.der;
    }
    const thisUpdate = new Date(now);
    this.#signing = buildCrl(ca, [...revoked], { thisUpdate, nextUpdate: new Date(now + CRL_VALIDITY_MS) });
    try {
      const der = await this.#signing;
      this.onSigned();
      this.#cached = { key, der, refreshAt: now + CRL_VALIDITY_MS - REFRESH_BEFORE_MS };
      return der;
    } finally {
      this.#signing = null;
    }
  }
}

/** What the CRL's content depends on: the CA and each revoked serial with its date. */
function cacheKey(ca: CertificateAuthority, revoked: readonly RevokedEntry[]): string {
  const entries = revoked.map((r) => `${r.serial}@${r.revokedAt.getTime()}`).sort();
  return `${ca.cert.serialNumber}|${entries.join(',')}`;
}
