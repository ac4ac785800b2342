import type { CertificateAuthority } from './ca.js';
import { randomSerial } from './serial.js';
import { ECDSA_SHA256, x509 } from './x509.js';

/** What a leaf certificate is for; the rest of its profile follows from this. */
export interface LeafProfile {
  subjectCn: string;
  publicKey: x509.PublicKeyType;
  notBefore: Date;
  notAfter: Date;
  extendedKeyUsage: 'clientAuth' | 'serverAuth';
  /** Subject alternative names (server certificates). */
  altNames?: x509.JsonGeneralNames;
  /** Only tests set this: a "leaf" that claims to be a CA must be refused. */
  isCa?: boolean;
}

/**
 * Signs one end-entity certificate with the CA (RFC 5280 §4.2 profile):
 * basicConstraints CA:false (critical), keyUsage digitalSignature (critical),
 * one EKU, AKI = the CA's SKI so chain builders find the issuer by key, SKI.
 * The issuer name is the CA's subject as parsed, so it matches byte for byte.
 *
 * @example const cert = await signLeafCertificate(ca, { subjectCn: 'dev1', publicKey, notBefore, notAfter, extendedKeyUsage: 'clientAuth' })
 */
export async function signLeafCertificate(ca: CertificateAuthority, profile: LeafProfile): Promise<x509.X509Certificate> {
  const isCa = profile.isCa === true;
  const caSki = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = caSki
    ? new x509.AuthorityKeyIdentifierExtension(caSki.keyId)
    : await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(isCa, undefined, true),
    new x509.KeyUsagesExtension(
      isCa ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature : x509.KeyUsageFlags.digitalSignature,
      true,
    ),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage[profile.extendedKeyUsage]]),
    aki,
    await x509.SubjectKeyIdentifierExtension.create(profile.publicKey),
  ];
  if (profile.altNames && profile.altNames.length > 0) {
    extensions.push(new x509.SubjectAlternativeNameExtension(profile.altNames));
  }
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [profile.subjectCn] }],
    issuer: ca.cert.subjectName,
    notBefore: profile.notBefore,
    notAfter: profile.notAfter,
    publicKey: profile.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: ECDSA_SHA256,
    extensions,
  });
}
