import type { BackoffBounds } from './backoff.js';
import type { AuthMode, DeviceEvent } from './events.js';
import { DeviceError } from './device_error.js';

/**
 * How a device reaches latchkey. Two ways to prove who it is:
 *
 * - JWT (docs/INTERFACE.md#mqtt): `tokenEndpoint` + `clientSecret` (client credentials,
 *   the library fetches and renews tokens), or a ready `accessToken` obtained
 *   elsewhere (renewed over `$auth` while connected, never re-fetched).
 * - Certificate: `cert` + `key` (PEM) over `mqtts://`; no password is sent.
 *
 * `ca` (PEM) is the latchkey CA the server certificate is checked against
 * on `mqtts://`; without it Node's default trust store is used.
 */
export interface DeviceOptions {
  clientId: string;
  /** `mqtt://host:port` or `mqtts://host:port`. */
  mqttUrl: string;

  tokenEndpoint?: string;
  clientSecret?: string;
  /** Space-separated subset of the client's scopes to ask for; omitted = all. */
  scope?: string;
  accessToken?: string;

  cert?: string;
  key?: string;
  ca?: string;

  /** MQTT clean session; default true. With false the broker keeps subscriptions and queued QoS 1 messages. */
  clean?: boolean;
  /** MQTT keepalive, seconds; default 30. */
  keepalive?: number;
  /** Reconnect delay bounds; default 500 ms .. 30 s. */
  reconnect?: BackoffBounds;
  /** How long to wait for an answer on `$auth/<id>/…/response`; default 5 s. */
  renewTimeoutMs?: number;
  /** Fetch a fresh token before (re)connecting when the current one has this little left; default 5 s. */
  refreshMarginMs?: number;
  /** Give up on a CONNECT without CONNACK after this long; default 10 s. */
  connectTimeoutMs?: number;
  /** Called for every {@link DeviceEvent}; the same events are emitted as `'event'`. */
  onEvent?: (e: DeviceEvent) => void;
  /** Called with a renewed certificate and its new key, to store them (the key privately). */
  onCertificate?: (renewed: { cert: string; key: string }) => void;
  /** Replaceable HTTP client for the token endpoint. */
  fetch?: typeof fetch;
}

/** {@link DeviceOptions} with defaults applied and the authentication mode decided. */
export interface ResolvedOptions extends DeviceOptions {
  mode: AuthMode;
  clean: boolean;
  keepalive: number;
  reconnect: BackoffBounds;
  renewTimeoutMs: number;
  refreshMarginMs: number;
  connectTimeoutMs: number;
}

/**
 * Validates options and decides the authentication mode, so a device that
 * cannot possibly connect fails at once with one clear message.
 *
 * @example resolveOptions({ clientId: 't1', mqttUrl: 'mqtt://localhost:1883', accessToken }).mode // 'jwt'
 */
export function resolveOptions(opts: DeviceOptions): ResolvedOptions {
  const fail = (message: string): never => {
    throw new DeviceError('invalid_options', message);
  };
  // Same rule as the server (docs/INTERFACE.md#command-line): the id is safe inside topics.
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(opts.clientId)) fail(`client id ${JSON.stringify(opts.clientId)} must match ^[A-Za-z0-9._-]{1,64}$`);
  let url: URL;
  try {
    url = new URL(opts.mqttUrl);
  } catch {
    return fail(`mqttUrl ${JSON.stringify(opts.mqttUrl)} is not a URL`);
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') fail(`mqttUrl must be mqtt:// or mqtts://, got ${url.protocol}//`);

  const certificate = opts.cert !== undefined || opts.key !== undefined;
  if (certificate) {
    if (opts.cert === undefined || opts.key === undefined) fail('certificate mode needs both cert and key');
    if (url.protocol !== 'mqtts:') fail('certificate mode needs an mqtts:// URL');
  } else {
    const clientCredentials = opts.tokenEndpoint !== undefined && opts.clientSecret !== undefined;
    if (!clientCredentials && opts.accessToken === undefined) {
      fail('give tokenEndpoint and clientSecret (client credentials), an accessToken, or cert and key');
    }
    if ((opts.tokenEndpoint === undefined) !== (opts.clientSecret === undefined) && opts.accessToken === undefined) {
      fail('tokenEndpoint and clientSecret go together');
    }
  }
  const reconnect = opts.reconnect ?? { minMs: 500, maxMs: 30_000 };
  if (!(reconnect.minMs > 0) || !(reconnect.maxMs >= reconnect.minMs)) fail('reconnect needs 0 < minMs <= maxMs');

  return {
    ...opts,
    mode: certificate ? 'certificate' : 'jwt',
    clean: opts.clean ?? true,
    keepalive: opts.keepalive ?? 30,
    reconnect,
    renewTimeoutMs: opts.renewTimeoutMs ?? 5_000,
    refreshMarginMs: opts.refreshMarginMs ?? 5_000,
    connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
  };
}
