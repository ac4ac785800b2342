import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../../errors/oauth_error.js';
import type { IssueContext } from '../../tokens/token_issuer.js';
import { invalidClient } from '../client_auth/authenticate_client.js';
import { BASIC_CHALLENGE, usesBasic } from '../client_auth/client_secret_basic.js';
import { checkClientCertificate } from '../client_certificate.js';
import { clientAuthEnv, clientAuthInput, type OAuthContext } from '../context.js';
import { noStore } from '../errors.js';
import { formParams } from '../form.js';
import { GRANTS } from '../grants/index.js';

/**
 * `POST /oauth/token` (RFC 6749 §3.2, §4.4). Steps: read the form, authenticate
 * the client (one method, the registered one), check the grant type, run
 * the grant. Every refusal is audited as `token.refused` with its private
 * reason; the client sees only the RFC 6749 §5.2 answer.
 */
export function registerToken(app: FastifyInstance, ctx: OAuthContext): void {
  const { deps } = ctx;
  app.post('/oauth/token', async (request, reply) => {
    noStore(reply);
    const issueCtx: IssueContext = { channel: ctx.tls ? 'https' : 'http', remote: request.ip };
    const refuse = (principal: string | null, error: OAuthError) => deps.issuer.refuse(principal, issueCtx, error);
    const basic = usesBasic(request.headers.authorization);

    let params;
    try {
      params = formParams(request);
    } catch (err) {
      throw err instanceof OAuthError ? refuse(null, err) : err;
    }
    const input = clientAuthInput(request, params);
    const env = clientAuthEnv(ctx, ctx.urls.token);
    const { client } = await ctx.auth.authenticate(input, request.ip, env, refuse);
    if (input.peerCertificate) {
      // RFC 8705 §3: over mutual TLS, whatever the method, the token is bound to the
      // client's certificate (cnf.x5t#S256). A certificate that latchkey would not
      // accept for this client is refused rather than ignored: the client asked for binding.
      const checked = checkClientCertificate(input.peerCertificate, env);
      if (!checked.ok) throw refuse(client.id, invalidClient(checked.reason, basic, client.id));
      if (checked.identity.clientId !== client.id) {
        throw refuse(client.id, invalidClient(`certificate names client "${checked.identity.clientId}"`, basic, client.id));
      }
      issueCtx.certificateThumbprint = checked.identity.fingerprint;
    }

    const grantType = params.grant_type;
    if (grantType === undefined || grantType === '') {
      throw refuse(client.id, new OAuthError(400, 'invalid_request', 'grant_type is required'));
    }
    const grant = GRANTS.get(grantType);
    if (!grant) {
      throw refuse(client.id, new OAuthError(400, 'unsupported_grant_type', 'only client_credentials is supported', `grant_type ${auditableGrantType(grantType)}`));
    }
    try {
      return await grant.handle({ client, params, issuer: deps.issuer, ctx: issueCtx });
    } catch (err) {
      // A disabled client answers exactly like a wrong secret, challenge included (RFC 6749 §5.2).
      if (err instanceof OAuthError && err.error === 'invalid_client' && basic && !err.headers['www-authenticate']) {
        throw new OAuthError(err.status, err.error, err.description, err.detail, { ...err.headers, 'www-authenticate': BASIC_CHALLENGE });
      }
      throw err;
    }
  });
}

/** Grant types of RFC 6749, 8628, 8693, 7522 and 7523: names a client may try, safe to record. */
const KNOWN_GRANT_TYPES = new Set([
  'authorization_code',
  'password',
  'refresh_token',
  'implicit',
  'urn:ietf:params:oauth:grant-type:device_code',
  'urn:ietf:params:oauth:grant-type:token-exchange',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
  'urn:ietf:params:oauth:grant-type:saml2-bearer',
]);

/** Anything else a caller sends as grant_type may be a secret pasted in the wrong field: never stored. */
function auditableGrantType(grantType: string): string {
  return KNOWN_GRANT_TYPES.has(grantType) ? grantType : '(unrecognised, not recorded)';
}
