import { CONNACK, ConnackError } from '../../errors/connack_error.js';
import { TOKEN_PREFIX } from '../../keys/prefixed_token.js';
import type { ApiKeyRegistry } from '../../registry/api_keys.js';
import type { Credential } from '../session.js';
import type { Authenticated, ConnectAttempt, PasswordResolver } from './credential_resolver.js';
import { refusalToConnack } from './refusal_connack.js';

/**
 * API keys at CONNECT (docs/INTERFACE.md#people-and-integrations): username = the key's name, password =
 * the key. The session may do exactly what the key's scopes allow. A key
 * rolled with a grace expires at the grace end, so sessions on it end then.
 */
export class ApiKeyResolver implements PasswordResolver {
  readonly name = 'apikey';

  constructor(private readonly apiKeys: Pick<ApiKeyRegistry, 'verify' | 'currentExpiry'>) {}

  handles(password: string): boolean {
    return password.startsWith(TOKEN_PREFIX.key);
  }

  async resolve(attempt: ConnectAttempt, password: string): Promise<Authenticated> {
    let verified;
    try {
      verified = this.apiKeys.verify(password, attempt.remote);
    } catch (err) {
      throw refusalToConnack(err);
    }
    const { key, secret } = verified;
    if (attempt.username !== key.name) throw new ConnackError(CONNACK.badCredentials, 'username differs from the API key\'s name');
    return {
      principal: { kind: 'apikey', name: key.name },
      credential: {
        method: 'apikey',
        id: secret.id,
        // Exactly the key's scopes, read afresh on every change.
        scopes: null,
        exp: secret.notAfter === null ? Infinity : secret.notAfter / 1000,
        iat: secret.createdAt / 1000,
        certificateSerial: null,
        certificateThumbprint: null,
      },
    };
  }

  /** The grace end once rolled, null once deleted: the broker acts on either. */
  currentExpiry(credential: Credential): number | null {
    return this.apiKeys.currentExpiry(credential.id);
  }
}
