/** Device certificates, mutual-TLS HTTPS requests and client assertions for tests against a real latchkey. */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { type CryptoKey, type KeyObject, SignJWT } from 'jose';
import { type CertificateAuthority, loadCa } from '../../src/pki/ca.js';
import { issueDeviceCertificate, type IssueOptions, type IssuedCertificate } from '../../src/pki/issue_certificate.js';
import { importP256PrivateKey } from '../../src/pki/key_pem.js';
import { x509 } from '../../src/pki/x509.js';
import { CertificateRegistry, issuerKey } from '../../src/registry/certificates.js';
import type { TestServer } from './latchkey.js';

/** The test server's CA certificate (PEM), what a device trusts. */
export function caPemOf(lk: TestServer): string {
  return readFileSync(join(lk.certsDir, 'ca.crt'), 'utf8');
}

/** The test server's CA, as the CLI would load it. */
export function caOf(lk: TestServer): Promise<CertificateAuthority> {
  return loadCa(lk.certsDir);
}

/** The certificate registry of a running test server (records, revokes through its store and change feed). */
export async function certificatesOf(lk: TestServer): Promise<CertificateRegistry> {
  return new CertificateRegistry(lk.server.store, lk.server.audit, await caOf(lk));
}

/**
 * A certificate signed by the test server's CA with a profile `cert issue`
 * never makes (expired, not yet valid, serverAuth, CA:true), recorded in the
 * server's store as issued to `opts.clientId`: certificates are an
 * allow-list, so a test of another defence must get past that one first.
 * (An unrecorded certificate is `issueDeviceCertificate(await caOf(lk), …)`.)
 */
export async function rawCertificate(lk: TestServer, opts: IssueOptions): Promise<IssuedCertificate> {
  const ca = await caOf(lk);
  const issued = await issueDeviceCertificate(ca, opts);
  lk.server.store.durably(() =>
    lk.server.store.certificates.insert({
      issuer: issuerKey(ca),
      serial: issued.serial,
      clientId: opts.clientId,
      fingerprint: issued.fingerprint,
      notBefore: issued.notBefore.getTime(),
      notAfter: issued.notAfter.getTime(),
      createdAt: Date.now(),
    }),
  );
  return issued;
}

/** A CertificateAuthority made of any certificate and its key: how a rogue "intermediate" signs. */
export async function asSigner(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const cert = new x509.X509Certificate(certPem);
  return { certPem, keyPem, cert, privateKey: await importP256PrivateKey(keyPem), publicKey: await cert.publicKey.export() };
}

export interface TlsIdentity {
  ca: string;
  cert?: string;
  key?: string;
}

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json: unknown;
}

/** One HTTPS request to 127.0.0.1, the server checked as `localhost` against `tls.ca`, with an optional client certificate. */
export function httpsCall(
  url: string,
  tls: TlsIdentity,
  init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<HttpsAnswer> {
  const body = init.form ? new URLSearchParams(init.form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: init.method ?? (body !== undefined ? 'POST' : 'GET'),
        servername: 'localhost',
        ca: tls.ca,
        ...(tls.cert ? { cert: tls.cert } : {}),
        ...(tls.key ? { key: tls.key } : {}),
        // A fresh connection per call: no TLS session or socket reuse between identities.
        agent: false,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) } : {}),
          ...init.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          let json: unknown;
          try {
            json = JSON.parse(buf.toString('utf8'));
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** RFC 7523 §2.2 client assertion claims; anything left out gets a valid default. */
export interface AssertionClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  /** Seconds since the epoch; null leaves exp out. */
  exp?: number | null;
  /** null leaves jti out. */
  jti?: string | null;
  iat?: number;
}

/**
 * A signed client assertion for `clientId` (default: aud = token endpoint,
 * exp in 60 s, a fresh jti).
 */
export async function clientAssertion(
  key: CryptoKey | KeyObject,
  clientId: string,
  tokenUrl: string,
  claims: AssertionClaims = {},
  alg = 'ES256',
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setIssuer(claims.iss ?? clientId)
    .setSubject(claims.sub ?? clientId)
    .setAudience(claims.aud ?? tokenUrl)
    .setIssuedAt(claims.iat ?? now);
  const exp = claims.exp === undefined ? now + 60 : claims.exp;
  if (exp !== null) jwt.setExpirationTime(exp);
  const jti = claims.jti === undefined ? randomUUID() : claims.jti;
  if (jti !== null) jwt.setJti(jti);
  return jwt.sign(key);
}

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** The form of a client_credentials request authenticated by `assertion`. */
export function assertionForm(assertion: string, extra: Record<string, string> = {}): Record<string, string> {
  return { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: assertion, ...extra };
}
