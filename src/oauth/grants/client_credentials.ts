import type { ClientRecord } from '../../store/clients.js';
import type { IssueContext, TokenIssuer, TokenResponse } from '../../tokens/token_issuer.js';

/** One grant type: its RFC name and what it does for an authenticated client. */
export interface Grant {
  readonly type: string;
  handle(input: { client: ClientRecord; params: Readonly<Record<string, string>>; issuer: TokenIssuer; ctx: IssueContext }): Promise<TokenResponse>;
}

/**
 * RFC 6749 §4.4: the client asks on its own behalf, optionally for a subset
 * of its scopes (§3.3). The TokenIssuer checks the client is enabled and the
 * scope is held, signs and audits.
 */
export const clientCredentials: Grant = {
  type: 'client_credentials',
  async handle({ client, params, issuer, ctx }) {
    const { response } = await issuer.issue(client, params.scope, ctx);
    return response;
  },
};
