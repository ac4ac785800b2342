import type { CertificateRecord } from '../store/certificates.js';
import type { CertificateIdentity } from './certificate_identity.js';

/** Why a CA-signed client certificate may not be used, or null when it may. */
export type RecordRefusal = { code: 'not_recorded' | 'revoked' | 'expired'; reason: string } | null;

/**
 * Certificates are an allow-list: a client certificate is accepted only as
 * latchkey recorded it when it issued it (`cert issue`, the admin API): the
 * same serial, the same DER (its x5t#S256 fingerprint), issued to the client
 * the certificate names, unexpired by the record and not revoked. A
 * certificate signed with the CA key outside latchkey (an old backup of
 * `ca.key`, a fixture, a forgery copying a recorded serial) has no record and
 * is refused. Pure: the caller reads the record (one indexed read by serial).
 *
 * @example
 * const refusal = checkRecorded(identity, store.certificates.bySerial(identity.serial), Date.now());
 * if (refusal) throw new ConnackError(refusal.code === 'revoked' ? 5 : 4, refusal.reason);
 */
export function checkRecorded(identity: CertificateIdentity, record: CertificateRecord | undefined, nowMs: number): RecordRefusal {
  if (!record || record.fingerprint !== identity.fingerprint || record.clientId !== identity.clientId) {
    return { code: 'not_recorded', reason: `certificate not recorded: serial ${identity.serial} was never issued by latchkey` };
  }
  if (record.revokedAt !== null) return { code: 'revoked', reason: 'certificate revoked' };
  if (record.notAfter <= nowMs) return { code: 'expired', reason: 'certificate expired' };
  return null;
}
