import { createHash } from 'node:crypto';
import { request } from 'node:https';
import type { Onboarding } from '../onboarding/onboarding_string.js';
import { generateP256KeyPair, privateKeyToPem } from '../pki/key_pem.js';
import { ECDSA_SHA256, x509 } from '../pki/x509.js';

/** What a provisioned device keeps. */
export interface DeviceCredentials {
  clientId: string;
  keyPem: string;
  certPem: string;
  caPem: string;
  scope: string;
  notAfter: string;
}

/** A refusal from the server: its error code and description. */
export class ProvisionFailed extends Error {
  constructor(
    readonly code: string,
    description: string,
  ) {
    super(description);
    this.name = 'ProvisionFailed';
  }
}

/**
 * The device side of provisioning over HTTPS, for devices that cannot run
 * the device library: fetch the CA and pin it by the onboarding string's
 * fingerprint (trust on first use, checked, as `step ca bootstrap` does),
 * make a P-256 key that never leaves this process, send a CSR with
 * `POST /provision`, and return key, certificate and CA.
 *
 * @example const creds = await provisionOverHttps(parseOnboarding(text)!, 'th-42');
 */
export async function provisionOverHttps(onboarding: Onboarding, clientId: string): Promise<DeviceCredentials> {
  const caPem = await pinnedCa(onboarding);
  const keys = await generateP256KeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${clientId}`, keys, signingAlgorithm: ECDSA_SHA256 });
  const answer = await call(`${onboarding.https}/provision`, {
    ca: caPem,
    method: 'POST',
    headers: { authorization: `Bearer ${onboarding.claim}`, 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: clientId, csr: csr.toString('pem') }),
  });
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  if (answer.status !== 200 || typeof body.certificate !== 'string') {
    throw new ProvisionFailed(String(body.error ?? `http_${answer.status}`), String(body.error_description ?? 'provisioning refused'));
  }
  return {
    clientId,
    keyPem: await privateKeyToPem(keys.privateKey),
    certPem: body.certificate,
    caPem: typeof body.ca === 'string' ? body.ca : caPem,
    scope: String(body.scope ?? ''),
    notAfter: String(body.not_after ?? ''),
  };
}

/** GET /pki/ca.crt without trusting anything yet, then keep it only if its SHA-256 is the pinned one. */
async function pinnedCa(onboarding: Onboarding): Promise<string> {
  const answer = await call(`${onboarding.https}/pki/ca.crt`, { ca: null, method: 'GET' });
  if (answer.status !== 200) throw new ProvisionFailed('ca_unavailable', `GET /pki/ca.crt answered ${answer.status}`);
  let der: Buffer;
  try {
    der = Buffer.from(new x509.X509Certificate(answer.body).rawData);
  } catch {
    throw new ProvisionFailed('ca_mismatch', 'the server did not send a certificate');
  }
  const seen = createHash('sha256').update(der).digest('hex');
  if (seen !== onboarding.caSha256) throw new ProvisionFailed('ca_mismatch', `the server's CA (sha256 ${seen}) is not the one the onboarding string pins`);
  return answer.body;
}

function call(url: string, init: { ca: string | null; method: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: init.method,
        // Only the CA download goes unverified; its fingerprint is checked before anything is trusted.
        ...(init.ca === null ? { rejectUnauthorized: false } : { ca: init.ca }),
        headers: { ...init.headers, ...(init.body !== undefined ? { 'content-length': String(Buffer.byteLength(init.body)) } : {}) },
        agent: false,
        timeout: 15_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
    req.end(init.body);
  });
}
