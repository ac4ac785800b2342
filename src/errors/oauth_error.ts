/** RFC 6749 §5.2 error codes, plus RFC 7009's `unsupported_token_type`. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unsupported_token_type'
  | 'slow_down'
  | 'server_error';

/**
 * An OAuth error answer. `description` goes to the client; `detail` goes only
 * to the audit log (e.g. "unknown client" vs "wrong secret", which the client
 * must not be able to tell apart).
 */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly detail: string = description,
    readonly headers: Record<string, string> = {},
  ) {
    super(`${error}: ${detail}`);
    this.name = 'OAuthError';
  }

  /** The RFC 6749 §5.2 JSON body. */
  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

/**
 * The one public description of a failed client authentication (RFC 6749
 * §5.2 `invalid_client`). It never says why (unknown id, wrong secret,
 * disabled client and wrong method read the same), but it tells the caller
 * where the operator finds the reason: the audit log under the id the
 * request named. The id comes from the request and matched the client id
 * pattern, so it reveals nothing and cannot inject anything.
 *
 * @example clientAuthFailed('t1') // 'client authentication failed; the operator can see why with `latchkey audit --client t1`'
 */
export function clientAuthFailed(claimedClientId: string | null): string {
  const base = 'client authentication failed';
  return claimedClientId === null ? base : `${base}; the operator can see why with \`latchkey audit --client ${claimedClientId}\``;
}
