/**
 * The one place that loads @peculiar/x509.
 *
 * The library's ASN.1 schemas use decorators that need `reflect-metadata`
 * loaded first, and it signs through whichever WebCrypto it is given: we hand
 * it Node's, explicitly, so nothing depends on a global `crypto` being present.
 * Every PKI module imports `x509` from here, never from the package directly.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };

/** ECDSA P-256 (RFC 5480), the only key type latchkey generates. */
export const EC_P256: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };

/** ecdsa-with-SHA256 (RFC 5758 §3.2), the signature on everything we sign. */
export const ECDSA_SHA256: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
