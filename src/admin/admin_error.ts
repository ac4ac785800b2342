/** RFC 6750 §3.1 error codes, plus the ordinary request errors of the admin API. */
export type AdminErrorCode = 'invalid_token' | 'insufficient_scope' | 'invalid_request' | 'not_found' | 'conflict' | 'server_error';

/** The realm every admin challenge names. */
export const REALM = 'latchkey';

/**
 * An admin API answer other than success: status, a stable code, a
 * description safe to show, and any headers (the Bearer challenge).
 * Serialised as `{"error","error_description"}`, like OAuth errors.
 */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly error: AdminErrorCode,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(`${error}: ${description}`);
    this.name = 'AdminError';
  }

  toJSON(): { error: AdminErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

/** Quotes a challenge parameter value (RFC 9110 §5.6.4 quoted-string). */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, '')}"`;
}

/**
 * 401. RFC 6750 §3.1: with no credentials in the request, the challenge
 * carries no error code; with a bad one, `error="invalid_token"`.
 *
 * @example throw unauthorized('token expired', true)
 */
export function unauthorized(description: string, tokenPresented: boolean): AdminError {
  const challenge = tokenPresented
    ? `Bearer realm=${quoted(REALM)}, error="invalid_token", error_description=${quoted(description)}`
    : `Bearer realm=${quoted(REALM)}`;
  return new AdminError(401, 'invalid_token', description, { 'www-authenticate': challenge });
}

/** 403 with `error="insufficient_scope"` and the scope that would do (RFC 6750 §3.1). */
export function insufficientScope(scope: string): AdminError {
  return new AdminError(403, 'insufficient_scope', `this needs the ${scope} scope`, {
    'www-authenticate': `Bearer realm=${quoted(REALM)}, error="insufficient_scope", scope=${quoted(scope)}`,
  });
}
