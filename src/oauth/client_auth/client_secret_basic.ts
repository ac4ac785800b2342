import { OAuthError } from '../../errors/oauth_error.js';
import type { ClientAuthInput, ClientAuthMethodHandler } from './method.js';
import { checkSecret } from './secret_check.js';

const BASIC = /^basic\s+/i;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The challenge an `invalid_client` answer carries when Basic was used (RFC 6749 §5.2, RFC 7617). */
export const BASIC_CHALLENGE = 'Basic realm="latchkey", charset="UTF-8"';

/** Does the request try HTTP Basic? */
export function usesBasic(authorization: string | undefined): boolean {
  return authorization !== undefined && BASIC.test(authorization);
}

/**
 * RFC 6749 §2.3.1: the client id and secret, each form-urlencoded
 * (Appendix B: `+` is a space), joined by `:` and base64-encoded in an
 * `Authorization: Basic` header.
 *
 * An empty secret (`curl -u t1:`) is well-formed here: it is a failed
 * authentication of the named client, not a malformed request.
 *
 * @example decodeBasic('Basic dDE6czNjcmV0') // { id: 't1', secret: 's3cret' }
 * @throws OAuthError invalid_request
 */
export function decodeBasic(authorization: string): { id: string; secret: string } {
  const encoded = authorization.replace(BASIC, '').trim();
  if (!BASE64.test(encoded)) throw malformed();
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw malformed();
  let id: string;
  let secret: string;
  try {
    id = formDecode(decoded.slice(0, colon));
    secret = formDecode(decoded.slice(colon + 1));
  } catch {
    throw malformed();
  }
  if (id === '') throw malformed();
  return { id, secret };
}

/** Built only when needed: an error captures a stack, which every good request would pay for. */
function malformed(): OAuthError {
  return new OAuthError(400, 'invalid_request', 'malformed Basic authorization header');
}

function formDecode(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, ' '));
}

/** `client_secret_basic`: the secret in the Authorization header (RFC 6749 §2.3.1). */
export const clientSecretBasic: ClientAuthMethodHandler = {
  name: 'client_secret_basic',
  present: (input: ClientAuthInput) => usesBasic(input.authorization),
  claim(input) {
    const { id, secret } = decodeBasic(input.authorization!);
    // A client_id parameter next to Basic is tolerated only when it names the same client.
    if (input.params.client_id !== undefined && input.params.client_id !== id) {
      throw new OAuthError(400, 'invalid_request', 'client_id does not match the Authorization header');
    }
    return { clientId: id, verify: (client, env) => checkSecret(client, id, secret, env) };
  },
};
