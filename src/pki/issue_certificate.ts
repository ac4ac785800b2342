import { createPublicKey } from 'node:crypto';
import type { CertificateAuthority } from './ca.js';
import { CLIENT_ID_PATTERN } from '../policy/scope.js';
import { x5tS256 } from './fingerprint.js';
import { generateP256KeyPair, privateKeyToPem } from './key_pem.js';
import { PkiError } from './pki_error.js';
import { normalizeSerial } from './serial.js';
import { signLeafCertificate } from './sign_leaf.js';
import { validityWindow } from './validity.js';
import { x509 } from './x509.js';

export { PkiError } from './pki_error.js';

/** A device certificate as the cert store records it and `cert issue --json` prints it. */
export interface IssuedCertificate {
  /** Lowercase hex, no separators: the store's key together with the issuer. */
  serial: string;
  certPem: string;
  /** PKCS#8 PEM of the generated key; null when the device sent a CSR and keeps its key. */
  keyPem: string | null;
  notBefore: Date;
  notAfter: Date;
  /** RFC 8705 `x5t#S256`: base64url SHA-256 of the DER. */
  fingerprint: string;
}

export interface IssueOptions {
  clientId: string;
  /** Validity in days from now; default 365. */
  days?: number;
  /** PKCS#10 request (PEM) from a device that keeps its own key. */
  csrPem?: string;
  /** Fix the validity window (tests issue expired and not-yet-valid certificates). */
  notBefore?: Date;
  notAfter?: Date;
  /** Default clientAuth. Tests issue serverAuth to prove the broker refuses it. */
  extendedKeyUsage?: 'clientAuth' | 'serverAuth';
  /** Tests only: a CA:true "device" certificate the broker must refuse. */
  isCa?: boolean;
}

/**
 * Issues a device certificate with subject CN = client id (docs/INTERFACE.md#command-line
 * `cert issue`). Without a CSR it generates an ECDSA P-256 key pair and returns
 * the private key once; with a CSR it signs the device's own public key after
 * checking the request's signature and that its CN is this client id.
 *
 * The profile is ours, not the requester's: extensions asked for in the CSR
 * are ignored, so a device cannot ask for CA:true or serverAuth.
 *
 * @example
 * const issued = await issueDeviceCertificate(ca, { clientId: 'thermostat-1', days: 90 });
 * writeFileSync('thermostat-1.crt', issued.certPem);
 */
export async function issueDeviceCertificate(ca: CertificateAuthority, opts: IssueOptions): Promise<IssuedCertificate> {
  if (!CLIENT_ID_PATTERN.test(opts.clientId)) {
    throw new PkiError('invalid_client_id', 'client id must match ^[A-Za-z0-9._-]{1,64}$');
  }
  const { notBefore, notAfter } = validityWindow(new Date(), opts);

  let publicKey: x509.PublicKeyType;
  let keyPem: string | null = null;
  if (opts.csrPem !== undefined) {
    publicKey = await publicKeyFromCsr(opts.csrPem, opts.clientId);
  } else {
    const keys = await generateP256KeyPair();
    publicKey = keys.publicKey;
    keyPem = await privateKeyToPem(keys.privateKey);
  }

  const cert = await signLeafCertificate(ca, {
    subjectCn: opts.clientId,
    publicKey,
    notBefore,
    notAfter,
    extendedKeyUsage: opts.extendedKeyUsage ?? 'clientAuth',
    isCa: opts.isCa === true,
  });
  return {
    serial: normalizeSerial(cert.serialNumber),
    certPem: cert.toString('pem'),
    keyPem,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    fingerprint: x5tS256(Buffer.from(cert.rawData)),
  };
}

/**
 * The public key of a CSR that proves possession of its key (RFC 2986 §3:
 * the request is signed by the key it carries) and names this client.
 */
async function publicKeyFromCsr(csrPem: string, clientId: string): Promise<x509.PublicKey> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch {
    throw new PkiError('invalid_csr', 'the CSR is not a PEM or DER PKCS#10 request');
  }
  let signatureOk = false;
  try {
    signatureOk = await csr.verify();
  } catch {
    signatureOk = false;
  }
  if (!signatureOk) throw new PkiError('invalid_csr', 'the CSR signature does not verify');
  assertAcceptableKey(csr.publicKey);

  const cns = csr.subjectName.getField('CN');
  if (cns.length !== 1 || cns[0] !== clientId) {
    throw new PkiError('csr_subject_mismatch', `the CSR subject CN must be exactly "${clientId}"`);
  }
  return csr.publicKey;
}

/** Keys Node's TLS and common device stacks handle, at current strength (NIST SP 800-57: ≥ 112 bits). */
function assertAcceptableKey(key: x509.PublicKey): void {
  const node = createPublicKey({ key: Buffer.from(key.rawData), format: 'der', type: 'spki' });
  const details = node.asymmetricKeyDetails ?? {};
  const ok =
    (node.asymmetricKeyType === 'ec' && ['prime256v1', 'secp384r1'].includes(details.namedCurve ?? '')) ||
    (node.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048) ||
    node.asymmetricKeyType === 'ed25519';
  if (!ok) throw new PkiError('invalid_csr', 'the CSR key must be ECDSA P-256/P-384, RSA ≥ 2048 or Ed25519');
}
