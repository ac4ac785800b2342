import type { FastifyInstance } from 'fastify';
import { CrlCache } from '../../pki/crl_cache.js';
import { CertificateRegistry } from '../../registry/certificates.js';
import type { OAuthContext } from '../context.js';

/**
 * The latchkey CA for devices and tools to trust, and its CRL:
 *
 * - `GET /pki/ca.crt`: the CA certificate, PEM (`application/x-pem-file`,
 *   what curl, openssl and mosquitto's `--cafile` read).
 * - `GET /pki/crl`: an RFC 5280 §5 CRL signed by the CA, DER, as
 *   `application/pkix-crl` (RFC 2585 §4.2), listing every revoked
 *   certificate. Signed once and cached; re-signed when a revocation changes
 *   it (so a revocation shows at once) or half an hour before its nextUpdate.
 *
 * Public on HTTP and HTTPS alike: neither carries anything secret.
 */
export function registerPki(app: FastifyInstance, ctx: OAuthContext): void {
  const { store, audit, pki, metrics } = ctx.deps;
  const certificates = new CertificateRegistry(store, audit, pki.ca);
  const crls = ctx.deps.crl ?? new CrlCache(() => metrics.crlSigned.inc());

  app.get('/pki/ca.crt', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=3600').header('content-disposition', 'attachment; filename="ca.crt"');
    return reply.type('application/x-pem-file').send(pki.ca.certPem);
  });

  app.get('/pki/crl', async (_request, reply) => {
    const der = await certificates.crl(crls);
    // Revocations must reach relying parties quickly; let them keep it only briefly.
    reply.header('cache-control', 'public, max-age=60').header('content-disposition', 'attachment; filename="latchkey.crl"');
    return reply.type('application/pkix-crl').send(der);
  });
}
