import { CONNACK, ConnackError } from '../../errors/connack_error.js';
import { TOKEN_PREFIX } from '../../keys/prefixed_token.js';
import { sharedScopes } from '../shared_scopes.js';
import type { PatRegistry } from '../../registry/personal_access_tokens.js';
import type { Credential } from '../session.js';
import type { Authenticated, ConnectAttempt, PasswordResolver } from './credential_resolver.js';
import { refusalToConnack } from './refusal_connack.js';

/**
 * Personal access tokens at CONNECT (docs/INTERFACE.md#people-and-integrations): username = the user's
 * name, password = the token. The client id (name or name@suffix) is
 * checked by the authenticate hook. The session may do what the token's
 * scopes allow, cut to what the user holds now.
 */
export class PatResolver implements PasswordResolver {
  readonly name = 'pat';

  constructor(private readonly pats: Pick<PatRegistry, 'verify' | 'currentExpiry'>) {}

  handles(password: string): boolean {
    return password.startsWith(TOKEN_PREFIX.pat);
  }

  async resolve(attempt: ConnectAttempt, password: string): Promise<Authenticated> {
    let verified;
    try {
      verified = this.pats.verify(password, attempt.remote);
    } catch (err) {
      throw refusalToConnack(err);
    }
    const { pat, user } = verified;
    if (attempt.username !== user.name) throw new ConnackError(CONNACK.badCredentials, 'username differs from the token\'s user');
    return {
      principal: { kind: 'user', name: user.name },
      credential: {
        method: 'pat',
        id: pat.id,
        scopes: sharedScopes(pat.scope),
        exp: pat.expiresAt === null ? Infinity : pat.expiresAt / 1000,
        iat: pat.createdAt / 1000,
        certificateSerial: null,
        certificateThumbprint: null,
      },
    };
  }

  /** Null once revoked: the broker then ends the session. */
  currentExpiry(credential: Credential): number | null {
    return this.pats.currentExpiry(credential.id);
  }
}
