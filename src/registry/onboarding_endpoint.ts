import { hostPort, publicHost } from '../onboarding/public_endpoint.js';
import { sha256Hex } from '../pki/fingerprint.js';
import { dnsNames } from '../pki/server_certificate.js';
import { x509 } from '../pki/x509.js';
import type { OnboardingEndpoint } from './claims.js';

/**
 * Where devices reach this latchkey and how they pin it, for onboarding
 * strings: the public host (see publicHost), the MQTTS and HTTPS ports,
 * and the SHA-256 of the CA certificate.
 *
 * @example onboardingEndpoint({ host: '0.0.0.0' }, { mqtts: 8883, https: 8443 }, caPem, serverCertPem)
 * // { mqtts: 'localhost:8883', https: 'https://localhost:8443', caSha256: '9f86…' }
 */
export function onboardingEndpoint(
  config: { host: string; publicHost?: string | undefined },
  ports: { mqtts: number; https: number },
  caPem: string,
  serverCertPem: string | null,
): OnboardingEndpoint {
  const host = publicHost(config, serverCertPem ? dnsNames(serverCertPem) : []);
  return {
    mqtts: hostPort(host, ports.mqtts),
    https: `https://${hostPort(host, ports.https)}`,
    caSha256: sha256Hex(new x509.X509Certificate(caPem).rawData),
  };
}
