import { CLIENT_SECRET_SHAPE, SECRET_PREFIX } from '../audit/credential_shape.js';
import { CLIENT_ID_PATTERN } from '../policy/index.js';
import type { Principals } from './principals.js';

/** A principal name, optionally with the `@suffix` people add to their MQTT client id (docs/INTERFACE.md#people-and-integrations). */
const PRESENTED_ID = /^([A-Za-z0-9._-]{1,64})(@[\x21-\x7e]{1,64})?$/;

/**
 * The MQTT username of a refused CONNECT as the audit trail may show it: a
 * name as given (an operator wants to see what a misconfigured device or a
 * scanner tried), unless it has the shape of a credential — a token (longer
 * than any name), a PAT, API key or claim (`lk_…_`), or a client secret
 * (43 base64url characters, kept only when it really names a client, user or
 * API key). Devices put tokens in the username field (some platforms ask
 * for exactly that); a refusal must not copy one into the audit table or
 * the log.
 *
 * @example
 * auditableUsername(principals, 'ghost-user') // 'ghost-user'
 * auditableUsername(principals, 'eyJhbGciOi…') // null
 */
export function auditableUsername(principals: Principals, username: string | undefined): string | null {
  if (username === undefined || !CLIENT_ID_PATTERN.test(username) || SECRET_PREFIX.test(username)) return null;
  if (!CLIENT_SECRET_SHAPE.test(username)) return username;
  const known = (['client', 'user', 'apikey'] as const).some((kind) => principals.lookup({ kind, name: username }) !== null);
  return known ? username : null;
}

/**
 * The MQTT client id as the audit trail may show it: a name (optionally
 * with an `@suffix`) that is not shaped like one of latchkey's secrets,
 * else null. Unlike the username, an unknown id is kept: it is how an
 * operator finds a misconfigured device.
 *
 * @example
 * auditableClientId('alice@laptop') // 'alice@laptop'
 * auditableClientId('lk_pat_…') // null
 */
export function auditableClientId(clientId: string | undefined): string | null {
  if (clientId === undefined || SECRET_PREFIX.test(clientId)) return null;
  return PRESENTED_ID.test(clientId) ? clientId : null;
}
