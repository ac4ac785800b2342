import { clientSecretBasic } from './client_secret_basic.js';
import { clientSecretPost } from './client_secret_post.js';
import type { ClientAuthMethodHandler } from './method.js';
import { privateKeyJwt } from './private_key_jwt.js';
import { tlsClientAuth } from './tls_client_auth.js';

/**
 * Every client authentication method the server accepts. Adding one is a
 * new file plus a row here; the dispatcher and the RFC 8414 metadata pick it up.
 */
export const CLIENT_AUTH_METHOD_HANDLERS: readonly ClientAuthMethodHandler[] = [clientSecretBasic, clientSecretPost, privateKeyJwt, tlsClientAuth];
