import type { PublishPacket } from 'aedes';
import type { BrokerContext } from './broker_context.js';
import type { Session } from './session.js';

/** Largest request payload on `$auth/…` or `$provision/…` (a token or a CSR fits many times over). */
const MAX_REQUEST_BYTES = 16 * 1024;

/** A JSON object: a request or an answer on a request/response topic pair. */
export type Body = Record<string, unknown>;

/**
 * One request received on a request topic (`$auth/<id>/token/request`,
 * `…/claim/request`, `…/cert/renew`, `$provision/<id>/csr`, …): every
 * answer echoes its `request_id`, so a device can match answers to asks.
 */
export interface TopicRequest {
  readonly body: Body;
  /** Answers `{ request_id, ...result }`. */
  reply(result: Body): void;
  /** Answers `{ request_id, error, error_description }`. */
  fail(error: string, description: string): void;
}

/**
 * Parses a request payload and binds the answers to its `request_id`. A
 * malformed payload is answered here with `invalid_request` and
 * `request_id: null` (there is no id to echo), and null is returned: a
 * malformed packet never throws into the broker.
 *
 * @example
 * const request = openRequest(packet.payload, (body) => publishAuth(ctx, session, 'claim/response', body));
 * if (!request) return;
 * request.fail('slow_down', 'one claim per second');
 */
export function openRequest(payload: PublishPacket['payload'], send: (body: Body) => void): TopicRequest | null {
  let body: Body;
  try {
    body = parseRequest(payload);
  } catch (err) {
    send({ request_id: null, error: 'invalid_request', error_description: (err as Error).message });
    return null;
  }
  const requestId = body.request_id;
  return {
    body,
    reply: (result) => send({ request_id: requestId, ...result }),
    fail: (error, description) => send({ request_id: requestId, error, error_description: description }),
  };
}

/**
 * A request payload: a JSON object of at most 16 KiB with a `request_id` of
 * 1-128 characters; anything else throws with a description for the answer.
 *
 * @example
 * parseRequest(Buffer.from('{"request_id":"r1"}')); // { request_id: 'r1' }
 */
export function parseRequest(payload: PublishPacket['payload']): Body {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  if (bytes.length > MAX_REQUEST_BYTES) throw new Error('request too large');
  const body = JSON.parse(bytes.toString('utf8')) as unknown;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('request must be a JSON object');
  const requestId = (body as { request_id?: unknown }).request_id;
  if (typeof requestId !== 'string' || requestId.length === 0 || requestId.length > 128) throw new Error('request_id must be a string of 1-128 characters');
  return body as Body;
}

/** The per-session time stamps of the rate-limited requests. */
export type RequestStamp = 'lastRenewalAt' | 'lastClaimAt' | 'lastCertRenewalAt';

/**
 * Per-session rate limit: true, and the time stamped, when at least
 * `intervalMs` has passed since the last request of this kind was let
 * through; false (stamp untouched) when it comes too soon.
 *
 * @example
 * if (!takeTurn(session, 'lastClaimAt', 1000)) return request.fail('slow_down', 'one claim per second');
 */
export function takeTurn(session: Session, stamp: RequestStamp, intervalMs: number): boolean {
  const now = Date.now();
  if (now - session[stamp] < intervalMs) return false;
  session[stamp] = now;
  return true;
}

/**
 * Publishes an answer to `topic`: QoS 0 and never retained, so no token,
 * secret or certificate is ever stored by the broker.
 *
 * @example
 * publishAnswer(ctx, '$provision/dev-1/csr/response', { request_id: 'r1', certificate });
 */
export function publishAnswer(ctx: BrokerContext, topic: string, body: Body): void {
  ctx.aedes().publish({ cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(body)), qos: 0, retain: false, dup: false }, () => {});
}
