/** Small HTTP helpers for the OAuth tests: real fetch against a real server. */

/** RFC 6749 §2.3.1 Basic credentials: each part form-urlencoded, then base64. */
export function basic(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** POSTs a form (or a raw body with its own content type) and reads the whole answer. */
export async function post(
  url: string,
  body: Record<string, string> | { raw: string; type: string },
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const init: RequestInit =
    'raw' in body && typeof body.raw === 'string' && 'type' in body
      ? { method: 'POST', body: body.raw, headers: { 'content-type': body.type as string, ...headers } }
      : { method: 'POST', body: new URLSearchParams(body as Record<string, string>), headers };
  const res = await fetch(url, init);
  return read(res);
}

export async function get(url: string): Promise<HttpAnswer> {
  return read(await fetch(url));
}

async function read(res: Response): Promise<HttpAnswer> {
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** The payload of a compact JWS, decoded without verification (tests only). */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function headerOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
