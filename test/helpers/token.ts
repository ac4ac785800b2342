/** The token endpoint's success body (RFC 6749 §5.1). */
export interface TokenAnswer {
  access_token: string;
  expires_in: number;
  scope: string;
}

/**
 * client_credentials with client_secret_basic (RFC 6749 §2.3.1: id and
 * secret form-encoded before base64); throws unless the answer is 200.
 */
export async function clientCredentialsToken(baseUrl: string, id: string, secret: string, scope?: string): Promise<TokenAnswer> {
  const body = new URLSearchParams({ grant_type: 'client_credentials' });
  if (scope !== undefined) body.set('scope', scope);
  const res = await fetch(`${baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` },
    body,
  });
  const json = (await res.json()) as TokenAnswer;
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
