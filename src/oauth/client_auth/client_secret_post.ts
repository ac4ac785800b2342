import { OAuthError } from '../../errors/oauth_error.js';
import type { ClientAuthMethodHandler } from './method.js';
import { checkSecret } from './secret_check.js';

/**
 * `client_secret_post`: `client_id` and `client_secret` in the form body
 * (RFC 6749 §2.3.1; allowed, though Basic is preferred). An empty secret is
 * a failed authentication of the named client (`invalid_client`, audited as
 * "no client secret given"), as with Basic.
 */
export const clientSecretPost: ClientAuthMethodHandler = {
  name: 'client_secret_post',
  present: (input) => input.params.client_secret !== undefined,
  claim(input) {
    const id = input.params.client_id;
    const secret = input.params.client_secret!;
    if (id === undefined || id === '') throw new OAuthError(400, 'invalid_request', 'client_secret needs client_id');
    return { clientId: id, verify: (client, env) => checkSecret(client, id, secret, env) };
  },
};
