import { CONNACK, ConnackError } from '../../errors/connack_error.js';
import { CredentialRefusal } from '../../registry/credential_refusal.js';

/**
 * A refused PAT or API key as a CONNACK (docs/INTERFACE.md#mqtt): revoked or disabled
 * is "not authorized" (5); malformed, unknown or expired is "bad
 * credentials" (4), as for an access token.
 */
export function refusalToConnack(err: unknown): unknown {
  if (!(err instanceof CredentialRefusal)) return err;
  const code = err.code === 'revoked' || err.code === 'disabled' ? CONNACK.notAuthorized : CONNACK.badCredentials;
  return new ConnackError(code, err.message);
}
