import { CONNACK, ConnackError } from '../../errors/connack_error.js';
import { TOKEN_PREFIX } from '../../keys/prefixed_token.js';
import type { StaticPasswordRegistry } from '../../registry/static_passwords.js';
import type { Credential } from '../session.js';
import type { Authenticated, ConnectAttempt, PasswordResolver } from './credential_resolver.js';
import { refusalToConnack } from './refusal_connack.js';

/**
 * Static MQTT passwords of stock devices at CONNECT: username = client id
 * = MQTT client id (the authenticate hook checks the latter), password =
 * `lk_mqp_…`. Chosen by that prefix, so such a password is never parsed as
 * a JWT and a JWT never reaches this resolver. The session may do exactly
 * what the client's scopes allow, read afresh on every change.
 */
export class StaticPasswordResolver implements PasswordResolver {
  readonly name = 'static_password';

  constructor(private readonly passwords: Pick<StaticPasswordRegistry, 'verify' | 'currentExpiry'>) {}

  handles(password: string): boolean {
    return password.startsWith(TOKEN_PREFIX.mqp);
  }

  async resolve(attempt: ConnectAttempt, password: string): Promise<Authenticated> {
    let verified;
    try {
      verified = this.passwords.verify(password, attempt.remote);
    } catch (err) {
      throw refusalToConnack(err);
    }
    const { client, password: record } = verified;
    if (attempt.username !== client.id) throw new ConnackError(CONNACK.badCredentials, 'username differs from the static password\'s client');
    return {
      principal: { kind: 'client', name: client.id },
      credential: {
        method: 'static_password',
        id: record.id,
        scopes: null,
        exp: record.notAfter === null ? Infinity : record.notAfter / 1000,
        iat: record.createdAt / 1000,
        certificateSerial: null,
        certificateThumbprint: null,
      },
    };
  }

  /** The grace end once rotated, null once revoked: the broker acts on either. */
  currentExpiry(credential: Credential): number | null {
    return this.passwords.currentExpiry(credential.id);
  }
}
