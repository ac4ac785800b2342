import type { CertificateAuthority } from './ca.js';
import { normalizeSerial } from './serial.js';
import { ECDSA_SHA256, x509 } from './x509.js';

/** RFC 5280 §5.2.3 cRLNumber. */
const OID_CRL_NUMBER = '2.5.29.20';
/** Served fresh on every request, so a short nextUpdate keeps caching consumers close to the truth. */
const DEFAULT_NEXT_UPDATE_MS = 60 * 60_000;

export interface CrlOptions {
  thisUpdate?: Date;
  /** Default: one hour after thisUpdate. */
  nextUpdate?: Date;
  /** Default: thisUpdate in seconds since the epoch, which only grows (RFC 5280 §5.2.3 wants it monotonic). */
  crlNumber?: bigint;
}

/**
 * An X.509 v2 CRL (RFC 5280 §5) signed by the CA, listing `revoked`, as DER
 * (what `GET /pki/crl` serves as `application/pkix-crl`, RFC 2585 §4.2).
 * It carries the AKI and cRLNumber extensions conforming CRLs MUST have.
 *
 * @example
 * const der = await buildCrl(ca, [{ serial: '5f0c…', revokedAt: new Date() }]);
 * reply.type('application/pkix-crl').send(der);
 */
export async function buildCrl(
  ca: CertificateAuthority,
  revoked: { serial: string; revokedAt: Date }[],
  opts: CrlOptions = {},
): Promise<Buffer> {
  const thisUpdate = opts.thisUpdate ?? new Date();
  const nextUpdate = opts.nextUpdate ?? new Date(thisUpdate.getTime() + DEFAULT_NEXT_UPDATE_MS);
  const crlNumber = opts.crlNumber ?? BigInt(Math.floor(thisUpdate.getTime() / 1000));
  const caSki = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = caSki
    ? new x509.AuthorityKeyIdentifierExtension(caSki.keyId)
    : await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey);

  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.cert.subjectName,
    thisUpdate,
    nextUpdate,
    signingAlgorithm: ECDSA_SHA256,
    signingKey: ca.privateKey,
    extensions: [aki, new x509.Extension(OID_CRL_NUMBER, false, derInteger(crlNumber))],
    entries: revoked.map((r) => ({ serialNumber: derIntegerHex(r.serial), revocationDate: r.revokedAt })),
  });
  return Buffer.from(crl.rawData);
}

/**
 * Hex of the DER INTEGER content for a serial we store as its positive value:
 * a leading 00 octet when the top bit is set, or it would read as negative.
 */
function derIntegerHex(serial: string): string {
  const hex = normalizeSerial(serial);
  if (hex === '') throw new RangeError(`not a hex serial number: ${serial}`);
  return parseInt(hex[0] ?? '0', 16) >= 8 ? `00${hex}` : hex;
}

/** DER encoding of a non-negative INTEGER (X.690 §8.3), for the cRLNumber value. */
function derInteger(value: bigint): Uint8Array<ArrayBuffer> {
  const content = Buffer.from(derIntegerHex(value.toString(16)), 'hex');
  return new Uint8Array([0x02, content.length, ...content]);
}
