import { OAuthError } from '../../errors/oauth_error.js';
import { checkClientCertificate } from '../client_certificate.js';
import { usesBasic } from './client_secret_basic.js';
import type { ClientAuthInput, ClientAuthMethodHandler } from './method.js';

/**
 * `tls_client_auth` (RFC 8705 §2.1, PKI method): the client proves itself
 * with the mutual-TLS handshake on the HTTPS listener, presenting a
 * certificate from the latchkey CA whose subject CN is its client id, and
 * names itself with `client_id` in the body (§2).
 *
 * It is present only when no other method's credentials come with the
 * certificate: a certificate next to a secret or an assertion is for
 * binding the token (§3), not a second method.
 */
export const tlsClientAuth: ClientAuthMethodHandler = {
  name: 'tls_client_auth',
  present: (input: ClientAuthInput) =>
    input.peerCertificate !== null &&
    input.params.client_id !== undefined &&
    !usesBasic(input.authorization) &&
    input.params.client_secret === undefined &&
    input.params.client_assertion === undefined &&
    input.params.client_assertion_type === undefined,
  claim(input) {
    const id = input.params.client_id!;
    const peer = input.peerCertificate!;
    if (id === '') throw new OAuthError(400, 'invalid_request', 'client_id is empty');
    return {
      clientId: id,
      verify(client, env) {
        // Checked for unknown clients too, so they cost what known ones do.
        const checked = checkClientCertificate(peer, env);
        if (!client) return 'no such client for this method';
        if (!checked.ok) return checked.reason;
        // RFC 8705 §2.1.2: the certificate must match what is registered; latchkey registers CN = client id.
        if (checked.identity.clientId !== client.id) return `certificate names client "${checked.identity.clientId}"`;
        return null;
      },
    };
  },
};
