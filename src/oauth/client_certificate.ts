import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import type { CertificateAuthority } from '../pki/ca.js';
import { certificateIdentity, type CertificateIdentity } from '../pki/certificate_identity.js';
import { PkiError } from '../pki/pki_error.js';
import { checkRecorded } from '../pki/recorded_certificate.js';
import type { Store } from '../store/store.js';
import type { PeerCertificate } from './peer_certificate.js';

/** A client certificate checked for use on the HTTPS listener, or why it may not be used. */
export type CheckedCertificate = { ok: true; identity: CertificateIdentity } | { ok: false; reason: string };

const caCerts = new WeakMap<CertificateAuthority, NodeX509Certificate>();

/**
 * Checks a TLS client certificate the way the MQTTS listener does, for the
 * HTTPS listener (which lets connections without a certificate in, so the
 * handshake alone proves nothing): the chain verified against the latchkey
 * CA, signed by it (checked again here, deny by default), an end-entity
 * certificate for clientAuth within its validity, one CN that is a client id,
 * recorded by latchkey as issued to that client, and not revoked.
 *
 * Used by `tls_client_auth` (RFC 8705 §2.1) and by certificate binding
 * (RFC 8705 §3) at the token endpoint.
 *
 * @example
 * const checked = checkClientCertificate(peerCertificate(request), { ca, store, nowMs: Date.now() });
 * if (checked.ok) bindTo(checked.identity.fingerprint);
 */
export function checkClientCertificate(
  peer: PeerCertificate,
  env: { ca: CertificateAuthority; store: Store; nowMs: number },
): CheckedCertificate {
  if (!peer.authorized) return { ok: false, reason: 'certificate not trusted by the latchkey CA' };
  let identity: CertificateIdentity;
  try {
    identity = certificateIdentity(peer.der, new Date(env.nowMs), caCertificate(env.ca));
  } catch (err) {
    if (err instanceof PkiError) return { ok: false, reason: `certificate refused: ${err.code}` };
    throw err;
  }
  // An allow-list, as on the MQTTS listener: only what latchkey recorded as issued to this client.
  const refusal = checkRecorded(identity, env.store.certificates.bySerial(identity.serial), env.nowMs);
  if (refusal) return { ok: false, reason: refusal.reason };
  return { ok: true, identity };
}

function caCertificate(ca: CertificateAuthority): NodeX509Certificate {
  let cert = caCerts.get(ca);
  if (!cert) {
    cert = new NodeX509Certificate(ca.certPem);
    caCerts.set(ca, cert);
  }
  return cert;
}
