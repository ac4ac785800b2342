/** Small HTTP helpers for the OAuth tests: real fetch against a real server. */
import { request as httpRequest } from 'node:http';

/** RFC 6749 §2.3.1 Basic credentials: each part form-urlencoded, then base64. */
export function basic(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

/**
 * The RFC 6749 §5.2 `invalid_client` body: generic, plus where the operator
 * sees why, for the client id the request named (none when it named none).
 */
export function invalidClientBody(claimedId?: string): { error: 'invalid_client'; error_description: string } {
  const base = 'client authentication failed';
  return {
    error: 'invalid_client',
    error_description: claimedId === undefined ? base : `${base}; the operator can see why with \`latchkey audit --client ${claimedId}\``,
  };
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

/**
 * POSTs a form from a chosen loopback source address (127.0.0.2, …), so a
 * test can play several remote addresses against one server.
 */
export function postFrom(localAddress: string, url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const body = new URLSearchParams(form).toString();
    const req = httpRequest(
      url,
      { method: 'POST', localAddress, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          const h = new Headers();
          for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') h.set(name, value);
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: h, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
