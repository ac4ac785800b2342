import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';

/** The client certificate a TLS connection presented, as the handshake left it. */
export interface PeerCertificate {
  /** DER of the leaf certificate. */
  der: Buffer;
  /**
   * Whether the chain verified against the latchkey CA. The HTTPS listener
   * accepts connections without (or with untrusted) certificates, since a
   * certificate is optional there, so whoever relies on the certificate
   * (tls_client_auth, RFC 8705 binding) must check this and more
   * (see certificateIdentity in src/pki).
   */
  authorized: boolean;
}

/**
 * The peer certificate of the request's connection, or null over plain HTTP
 * or when the client presented none.
 *
 * @example const peer = peerCertificate(request); if (peer?.authorized) certificateIdentity(peer.der)
 */
export function peerCertificate(request: FastifyRequest): PeerCertificate | null {
  const socket = request.raw.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return null;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.raw || cert.raw.length === 0) return null;
  return { der: cert.raw, authorized: socket.authorized === true };
}
