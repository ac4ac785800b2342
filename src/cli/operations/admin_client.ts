import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { LatchkeyError, type LatchkeyErrorCode } from '../../errors/latchkey_error.js';

import type { RemoteTarget } from './server_url.js';

/** Slowest a server may be to answer one admin request. */
const TIMEOUT_MS = 30_000;
/** Largest answer read; an admin answer is a few KB, an audit page at most a few MB. */
const MAX_BODY = 32 * 1024 * 1024;

/** How each admin API status maps back to the CLI's error codes (and so its exit status). */
const CODE_OF_STATUS: Record<number, LatchkeyErrorCode> = {
  400: 'invalid_argument',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'invalid_argument',
  415: 'invalid_argument',
};

/**
 * A caller of the admin API: JSON in, JSON out, bearer token on every
 * request, and every refusal turned into the LatchkeyError a local command
 * would have thrown (same code, same exit status, one line).
 */
export class AdminClient {
  constructor(private readonly target: RemoteTarget) {}

  /**
   * @example await admin.call('GET', '/admin/clients') // { clients: [...] }
   * @throws LatchkeyError for any non-2xx answer, or `unavailable` when the server cannot be reached
   */
  async call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const url = new URL(path.replace(/^\//, ''), this.target.server.href.endsWith('/') ? this.target.server : `${this.target.server.href}/`);
    const { status, text } = await this.#send(method, url, body);
    let json: unknown;
    try {
      json = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new LatchkeyError('unavailable', `${url.origin} answered ${status} with something other than JSON: is --server a latchkey?`);
    }
    if (status >= 200 && status < 300) return json as T;
    throw this.#refusal(status, json);
  }

  #refusal(status: number, json: unknown): LatchkeyError {
    const described = json as { error?: unknown; error_description?: unknown };
    const description = typeof described.error_description === 'string' ? described.error_description : `the server answered ${status}`;
    switch (status) {
      case 401:
        return new LatchkeyError('unauthorized', `the server refused the token: ${description} (pass a PAT or API key with --token or LATCHKEY_TOKEN)`);
      case 403:
        return new LatchkeyError('forbidden', `the token may not do this: ${description}`);
      default:
        return new LatchkeyError(CODE_OF_STATUS[status] ?? 'internal', status >= 500 ? `the server failed (${status}): ${description}` : description);
    }
  }

  #send(method: string, url: URL, body: unknown): Promise<{ status: number; text: string }> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${this.target.token}` };
    if (payload) (headers['content-type'] = 'application/json'), (headers['content-length'] = String(payload.length));
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((done, fail) => {
      const req = send(url, { method, headers, timeout: TIMEOUT_MS, ...(this.target.ca ? { ca: this.target.ca } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY) req.destroy(new Error('answer too large'));
          else chunks.push(chunk);
        });
        res.on('end', () => done({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => fail(unreachable(url, err)));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000}s`)));
      req.on('error', (err) => fail(unreachable(url, err)));
      req.end(payload);
    });
  }
}

/** Connection and TLS failures, said in the operator's terms. */
function unreachable(url: URL, err: Error & { code?: string }): LatchkeyError {
  const code = err.code ?? err.message;
  const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ALTNAME/.test(code);
  const hint = tls ? `; trust the latchkey CA with --ca <certs-dir>/ca.crt (or LATCHKEY_CA), and use a name the server certificate covers` : '';
  return new LatchkeyError('unavailable', `cannot reach latchkey at ${url.origin}: ${code}${hint}`);
}
