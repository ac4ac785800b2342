import { accessToken, type AccessToken } from './access_token.js';

/** How a device authenticates at the token endpoint. */
export interface ClientCredentials {
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated subset of the client's scopes; omitted = all of them. */
  scope?: string;
  /** Replaceable for tests and for runtimes with their own HTTP stack. */
  fetch?: typeof fetch;
  /** Abort the request after this long; default 10 s. */
  timeoutMs?: number;
}

/**
 * A failed token request. `code` is the RFC 6749 §5.2 error (`invalid_client`,
 * `invalid_scope`, …) when the server sent one, else `network`,
 * `server_error` (a 5xx without a JSON body) or `bad_response`.
 */
export class TokenEndpointError extends Error {
  override readonly name = 'TokenEndpointError';

  constructor(
    readonly code: string,
    readonly status: number | null,
    readonly description?: string,
    /** From `Retry-After` on a 429 or 503, milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    super(`token request failed: ${code}${status !== null ? ` (HTTP ${status})` : ''}${description ? `: ${description}` : ''}`);
  }

  /** True when retrying with the same credentials cannot help (bad secret, disabled client, bad scope). */
  get permanent(): boolean {
    return ['invalid_client', 'unauthorized_client', 'invalid_scope', 'invalid_grant', 'unsupported_grant_type', 'invalid_request'].includes(
      this.code,
    );
  }
}

/**
 * RFC 6749 §2.3.1: the id and the secret are each form-urlencoded before they
 * are joined with ':' and base64-encoded, so a ':' or '%' in a secret survives.
 */
function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (s: string): string => new URLSearchParams({ s }).toString().slice(2);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

/** `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * RFC 6749 §4.4 client credentials grant with `client_secret_basic`.
 * Throws {@link TokenEndpointError} with the server's RFC 6749 error code.
 *
 * @example
 * const token = await fetchToken({ tokenEndpoint: 'http://localhost:8080/oauth/token', clientId: 't1', clientSecret });
 * console.log(token.jti, new Date(token.expiresAt));
 */
export async function fetchToken(creds: ClientCredentials): Promise<AccessToken> {
  const body = new URLSearchParams({ grant_type: 'client_credentials' });
  if (creds.scope !== undefined) body.set('scope', creds.scope);
  const doFetch = creds.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(creds.tokenEndpoint, {
      method: 'POST',
      headers: {
        authorization: basicAuthorization(creds.clientId, creds.clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: body.toString(),
      signal: AbortSignal.timeout(creds.timeoutMs ?? 10_000),
    });
  } catch (err) {
    const cause = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    throw new TokenEndpointError('network', null, cause);
  }

  let json: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = await res.json();
    if (typeof parsed === 'object' && parsed !== null) json = parsed as Record<string, unknown>;
  } catch {
    json = null;
  }
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));

  if (res.status !== 200) {
    // RFC 6749 §5.2: {"error", "error_description"?}
    const code = typeof json?.error === 'string' ? json.error : res.status >= 500 ? 'server_error' : 'bad_response';
    const description = typeof json?.error_description === 'string' ? json.error_description : undefined;
    throw new TokenEndpointError(code, res.status, description, retryAfterMs);
  }
  // RFC 6749 §5.1: access_token and token_type are required.
  if (json === null || typeof json.access_token !== 'string' || typeof json.token_type !== 'string') {
    throw new TokenEndpointError('bad_response', res.status, 'no access_token in the response');
  }
  if (json.token_type.toLowerCase() !== 'bearer') {
    throw new TokenEndpointError('bad_response', res.status, `unexpected token_type ${json.token_type}`);
  }
  const expiresIn = typeof json.expires_in === 'number' ? json.expires_in : undefined;
  const scope = typeof json.scope === 'string' ? json.scope : creds.scope;
  return accessToken(json.access_token, expiresIn, scope);
}

/**
 * Finds the token endpoint from RFC 8414 metadata at
 * `<issuer>/.well-known/oauth-authorization-server`.
 *
 * @example const tokenEndpoint = await discoverTokenEndpoint('http://localhost:8080');
 */
export async function discoverTokenEndpoint(baseUrl: string, doFetch: typeof fetch = fetch): Promise<string> {
  const url = new URL('/.well-known/oauth-authorization-server', baseUrl);
  const res = await doFetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
  const json = (await res.json().catch(() => null)) as { token_endpoint?: unknown } | null;
  if (res.status !== 200 || typeof json?.token_endpoint !== 'string') {
    throw new TokenEndpointError('bad_response', res.status, `no token_endpoint in ${url.href}`);
  }
  return json.token_endpoint;
}
