import { clientSecretBasic } from './client_secret_basic.js';
import { clientSecretPost } from './client_secret_post.js';
import type { ClientAuthMethodHandler } from './method.js';

/**
 * Every client authentication method the server accepts. Adding one
 * (private_key_jwt, tls_client_auth) is a new file plus a row here; the
 * dispatcher and the RFC 8414 metadata pick it up.
 */
export const CLIENT_AUTH_METHOD_HANDLERS: readonly ClientAuthMethodHandler[] = [clientSecretBasic, clientSecretPost];
