import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IClientPublishOptions, IPublishPacket, MqttClient } from 'mqtt';

/** MQTT quality of service. */
export type QoS = 0 | 1 | 2;
import { accessToken, isNearExpiry, type AccessToken } from './access_token.js';
import {
  authTopics,
  parseCertRenewResponse,
  parseClaimResponse,
  parseExpiring,
  parseReauthResponse,
  parseTokenResponse,
  type AuthTopics,
  type CertRenewResponse,
  type ClaimResponse,
  type ExpiringNotice,
  type ReauthResponse,
  type TokenResponse,
} from './auth_topics.js';
import { Backoff } from './backoff.js';
import { CONNACK, connackReason } from './connack.js';
import { newKeyAndCsr } from './csr.js';
import { DeviceError } from './device_error.js';
import type { DeviceEvent, DeviceEventType } from './events.js';
import { openConnection } from './open_connection.js';
import { resolveOptions, type DeviceOptions, type ResolvedOptions } from './options.js';
import { PendingRequests } from './pending_requests.js';
import { fetchToken, TokenEndpointError } from './token_endpoint.js';

export type { DeviceOptions } from './options.js';

/** What a Device emits: every {@link DeviceEvent}, and application messages. */
export interface DeviceEventMap {
  event: [DeviceEvent];
  message: [topic: string, payload: Buffer, packet: IPublishPacket];
}

/** What is known about the current token; never the token itself. */
export interface TokenInfo {
  jti?: string;
  expiresAt: number;
  scope?: string;
}

/**
 * An MQTT device that keeps itself connected to latchkey: it fetches a token
 * (client credentials) or presents its certificate, renews its token over
 * `$auth/<id>/` without dropping the session, and reconnects with backoff
 * and a fresh token when the broker goes away. Application code only
 * publishes, subscribes and listens.
 *
 * @example
 * const device = await Device.connect({
 *   clientId: 'thermostat-1', mqttUrl: 'mqtt://localhost:1883',
 *   tokenEndpoint: 'http://localhost:8080/oauth/token', clientSecret,
 *   onEvent: (e) => console.log(e.type),
 * });
 * await device.subscribe('home/thermostat-1/setpoint');
 * device.on('message', (topic, payload) => console.log(topic, payload.toString()));
 * await device.publish('home/thermostat-1/telemetry', JSON.stringify({ t: 19.5 }));
 * await device.close();
 */
export class Device extends EventEmitter<DeviceEventMap> {
  readonly clientId: string;
  /** Not readonly: a renewed certificate and its key replace the old ones for the next connect. */
  private opts: ResolvedOptions;
  private readonly topics: AuthTopics;
  private readonly backoff: Backoff;
  private readonly tokenRequests = new PendingRequests<TokenResponse>();
  private readonly reauthRequests = new PendingRequests<ReauthResponse>();
  private readonly certRequests = new PendingRequests<CertRenewResponse>();
  private readonly claimRequests = new PendingRequests<ClaimResponse>();
  /** Application subscriptions, restored after every reconnect (clean sessions forget them). */
  private readonly subscriptions = new Map<string, QoS>();
  private token: AccessToken | null = null;
  private client: MqttClient | null = null;
  private closed = false;
  private renewing = false;
  /** The certificate a renewal already replaced, so it is renewed once. */
  private renewedCertificate: string | undefined;
  /** Set when the current token must not be presented again (CONNACK 4/5). */
  private needFreshToken = false;
  /** Set when the device ended its own session to reconnect at once (failed renewal). */
  private reconnectNow = false;
  /** Why the device itself ended the current session, for the `disconnected` event. */
  private endingReason: string | null = null;
  private readonly stopSleeping = new AbortController();
  private loop: Promise<void> | null = null;

  private constructor(options: DeviceOptions) {
    super();
    this.opts = resolveOptions(options);
    this.clientId = this.opts.clientId;
    this.topics = authTopics(this.clientId);
    this.backoff = new Backoff(this.opts.reconnect);
    if (this.opts.accessToken !== undefined) this.token = accessToken(this.opts.accessToken);
  }

  /**
   * Connects once and resolves when the session is up; a first attempt that
   * fails (refused, bad secret, nothing listening) rejects with a
   * {@link DeviceError} and leaves nothing running. After that first
   * success the device reconnects by itself until {@link Device.close}.
   *
   * @example const device = await Device.connect({ clientId, mqttUrl, tokenEndpoint, clientSecret });
   */
  static async connect(options: DeviceOptions): Promise<Device> {
    const device = new Device(options);
    try {
      await device.run(true);
    } catch (err) {
      await device.close();
      throw err;
    }
    return device;
  }

  /**
   * Starts a device that keeps trying (with backoff) until it connects and
   * afterwards; it never rejects. Watch `'event'` for what happens.
   *
   * @example const device = Device.start(opts); await device.waitFor('connected');
   */
  static start(options: DeviceOptions): Device {
    const device = new Device(options);
    void device.run(false).catch(() => {});
    return device;
  }

  /** True while a session is up. */
  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** The token the device would present now (never its value), or null in certificate mode. */
  get currentToken(): TokenInfo | null {
    if (this.token === null) return null;
    const { jti, expiresAt, scope } = this.token;
    return { expiresAt, ...(jti !== undefined ? { jti } : {}), ...(scope !== undefined ? { scope } : {}) };
  }

  /**
   * Publishes on the current session. Resolves once written (QoS 0) or
   * acknowledged (QoS 1, 2); rejects with `not_connected` while offline:
   * the application decides whether a reading is worth keeping.
   *
   * Note: MQTT 3.1.1 has no negative PUBACK, so a publish the broker does
   * not allow shows up as the broker closing the session (Aedes), not as an error here.
   *
   * @example await device.publish('home/t1/telemetry', JSON.stringify({ t: 20.1 }), { qos: 1 });
   */
  publish(topic: string, payload: string | Buffer, opts: IClientPublishOptions = {}): Promise<void> {
    const client = this.client;
    if (client === null || !client.connected) {
      return Promise.reject(new DeviceError('not_connected', `${this.clientId} is not connected; cannot publish to ${topic}`));
    }
    return new Promise((resolve, reject) => {
      const onClose = (): void => reject(new DeviceError('not_connected', `session closed before ${topic} was acknowledged`));
      client.once('close', onClose);
      client.publish(topic, payload, opts, (err) => {
        client.off('close', onClose);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  /**
   * Subscribes now (when connected) and again after every reconnect. A
   * filter the broker refuses rejects with `subscribe_denied`, emits a
   * `denied` event and is forgotten.
   *
   * @example await device.subscribe('home/+/telemetry', { qos: 1 });
   */
  async subscribe(filter: string, opts: { qos?: QoS } = {}): Promise<void> {
    const qos = opts.qos ?? 1;
    this.subscriptions.set(filter, qos);
    const client = this.client;
    if (client !== null && client.connected) await this.sendSubscribe(client, filter, qos);
  }

  /** @example await device.unsubscribe('home/+/telemetry'); */
  async unsubscribe(filter: string): Promise<void> {
    this.subscriptions.delete(filter);
    const client = this.client;
    if (client === null || !client.connected) return;
    await new Promise<void>((resolve, reject) => client.unsubscribe(filter, (err) => (err ? reject(err) : resolve())));
  }

  /**
   * The next event of a type (optionally matching `predicate`); rejects
   * after `timeoutMs`.
   *
   * @example const e = await device.waitFor('renewed', (e) => e.via === 'mqtt', 10_000);
   */
  waitFor<T extends DeviceEventType>(
    type: T,
    predicate: (e: Extract<DeviceEvent, { type: T }>) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<Extract<DeviceEvent, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('event', listener);
        reject(new Error(`${this.clientId}: no '${type}' event within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (e: DeviceEvent): void => {
        if (e.type !== type) return;
        const typed = e as Extract<DeviceEvent, { type: T }>;
        if (!predicate(typed)) return;
        clearTimeout(timer);
        this.off('event', listener);
        resolve(typed);
      };
      this.on('event', listener);
    });
  }

  /** Ends the session (DISCONNECT, so no will is sent) and stops reconnecting. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopSleeping.abort();
    this.tokenRequests.failAll('device closed');
    this.reauthRequests.failAll('device closed');
    this.certRequests.failAll('device closed');
    this.claimRequests.failAll('device closed');
    const client = this.client;
    if (client !== null) {
      this.endingReason = 'closed by the device';
      // A graceful DISCONNECT, unless the socket is stuck: then force it after 2 s.
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => client.end(true, {}, () => resolve()), 2_000);
        client.end(false, {}, () => {
          clearTimeout(force);
          resolve();
        });
      });
    }
    await this.loop?.catch(() => {});
    this.report({ type: 'closed' });
  }

  // ---- the connection loop -------------------------------------------------

  /**
   * Connect, serve the session until it ends, wait, repeat. Resolves when
   * the first session is up (the loop itself carries on in the background);
   * with `failFast` the first failure rejects and stops the loop.
   */
  private run(failFast: boolean): Promise<void> {
    return new Promise((firstUp, firstFailed) => {
      this.loop = (async () => {
        let attempt = 0;
        let everUp = false;
        while (!this.closed) {
          attempt += 1;
          let delay: number | null = null;
          try {
            const client = await this.connectOnce(attempt);
            this.backoff.reset();
            attempt = 0;
            const reason = await this.serve(client, () => {
              everUp = true;
              firstUp();
            });
            if (this.closed) break;
            this.report({ type: 'disconnected', reason });
            if (this.reconnectNow) {
              this.reconnectNow = false;
              continue;
            }
          } catch (err) {
            if (this.closed) break;
            const failure = this.classify(err);
            if (!everUp && failFast) {
              firstFailed(failure.error);
              return;
            }
            delay = failure.delayMs;
          }
          const delayMs = delay ?? this.backoff.next();
          this.report({ type: 'reconnecting', delayMs, attempt: attempt + 1, freshToken: this.wantsFreshToken() });
          await sleep(delayMs, undefined, { signal: this.stopSleeping.signal }).catch(() => {});
        }
      })();
    });
  }

  private async connectOnce(attempt: number): Promise<MqttClient> {
    if (this.opts.mode === 'jwt' && this.wantsFreshToken()) await this.refreshToken();
    this.report({ type: 'connecting', attempt, url: this.opts.mqttUrl, mode: this.opts.mode });
    const client = await openConnection(this.opts, this.token?.value);
    if (this.closed) {
      client.end(true);
      throw new DeviceError('closed', 'device closed while connecting');
    }
    this.needFreshToken = false;
    return client;
  }

  /** Runs one session: restores subscriptions, routes messages, resolves with why it ended. */
  private async serve(client: MqttClient, onUp: () => void): Promise<string> {
    this.client = client;
    this.endingReason = null;
    let lastError: string | null = null;
    const ended = new Promise<string>((resolve) => {
      client.once('close', () => resolve(this.endingReason ?? lastError ?? 'connection closed by the broker'));
    });
    client.on('error', (err) => {
      lastError = err.message;
    });
    client.on('message', (topic, payload, packet) => this.route(client, topic, payload, packet));

    const setUp = async (): Promise<void> => {
      // $auth first: the broker repeats `expiring` when we subscribe inside the warning window.
      // A refusal there is reported as `denied` and the session goes on without renewal.
      await this.sendSubscribe(client, this.topics.all, 1).catch((err: unknown) => {
        if (!(err instanceof DeviceError && err.code === 'subscribe_denied')) throw err;
      });
      for (const [filter, qos] of [...this.subscriptions]) {
        await this.sendSubscribe(client, filter, qos).catch(() => {});
      }
      this.report({
        type: 'connected',
        url: this.opts.mqttUrl,
        mode: this.opts.mode,
        ...(this.token?.jti !== undefined ? { jti: this.token.jti } : {}),
      });
      onUp();
    };
    // If the session ends while subscribing, `ended` wins and says why.
    await Promise.race([setUp().catch(() => {}), ended]);

    const reason = await ended;
    client.removeAllListeners('message');
    if (this.client === client) this.client = null;
    this.tokenRequests.failAll('session closed');
    this.reauthRequests.failAll('session closed');
    this.certRequests.failAll('session closed');
    this.claimRequests.failAll('session closed');
    return reason;
  }

  private sendSubscribe(client: MqttClient, filter: string, qos: QoS): Promise<void> {
    return new Promise((resolve, reject) => {
      const onClose = (): void => reject(new DeviceError('not_connected', `session closed before the subscription to ${filter} was acknowledged`));
      client.once('close', onClose);
      client.subscribe(filter, { qos }, (err) => {
        client.off('close', onClose);
        if (!err) return resolve();
        if (isSubackFailure(err)) {
          if (filter !== this.topics.all) this.subscriptions.delete(filter);
          this.report({ type: 'denied', action: 'subscribe', topic: filter });
          return reject(new DeviceError('subscribe_denied', `subscription to ${filter} refused`, undefined, { cause: err }));
        }
        reject(err);
      });
    });
  }

  /** Turns a failed attempt into an event and the delay before the next one. */
  private classify(err: unknown): { error: Error; delayMs: number | null } {
    if (err instanceof TokenEndpointError) {
      // A bad secret or a disabled client will not fix itself: never faster than the max.
      if (err.permanent) return { error: new DeviceError('token_error', err.message, undefined, { cause: err }), delayMs: this.backoff.max() };
      const delayMs = err.retryAfterMs !== undefined ? Math.max(err.retryAfterMs, this.backoff.next()) : null;
      return { error: new DeviceError('token_error', err.message, undefined, { cause: err }), delayMs };
    }
    if (err instanceof DeviceError && err.code === 'refused' && err.returnCode !== undefined) {
      const code = err.returnCode;
      this.report({ type: 'refused', returnCode: code, reason: connackReason(code) });
      // 4: the token is bad or expired; 5: revoked or client disabled. Either way present a new one next time.
      if (code === CONNACK.badUsernameOrPassword || code === CONNACK.notAuthorized) this.needFreshToken = true;
      // 5 and 2 are decisions about who we are, not load: do not hammer the broker.
      const slow = code === CONNACK.notAuthorized || code === CONNACK.identifierRejected;
      return { error: err, delayMs: slow ? this.backoff.max() : null };
    }
    const error = err instanceof Error ? err : new Error(String(err));
    this.report({ type: 'error', message: error.message });
    return { error, delayMs: null };
  }

  private wantsFreshToken(): boolean {
    if (this.opts.mode !== 'jwt' || !this.canFetchTokens()) return false;
    return this.token === null || this.needFreshToken || isNearExpiry(this.token, this.opts.refreshMarginMs);
  }

  private canFetchTokens(): boolean {
    return this.opts.tokenEndpoint !== undefined && this.opts.clientSecret !== undefined;
  }

  /** Client credentials at the token endpoint; the result becomes the current token. */
  private async refreshToken(): Promise<AccessToken> {
    const token = await this.fetchFromEndpoint();
    this.token = token;
    return token;
  }

  private async fetchFromEndpoint(): Promise<AccessToken> {
    try {
      const token = await fetchToken({
        tokenEndpoint: this.opts.tokenEndpoint!,
        clientId: this.clientId,
        clientSecret: this.opts.clientSecret!,
        ...(this.opts.scope !== undefined ? { scope: this.opts.scope } : {}),
        ...(this.opts.fetch !== undefined ? { fetch: this.opts.fetch } : {}),
      });
      this.report({
        type: 'token_fetched',
        expiresAt: token.expiresAt,
        ...(token.jti !== undefined ? { jti: token.jti } : {}),
        ...(token.scope !== undefined ? { scope: token.scope } : {}),
      });
      return token;
    } catch (err) {
      if (err instanceof TokenEndpointError) {
        this.report({
          type: 'token_error',
          error: err.code,
          status: err.status,
          ...(err.description !== undefined ? { description: err.description } : {}),
        });
      }
      throw err;
    }
  }

  // ---- $auth: renewal without reconnecting ---------------------------------

  private route(client: MqttClient, topic: string, payload: Buffer, packet: IPublishPacket): void {
    switch (topic) {
      case this.topics.expiring: {
        const notice = parseExpiring(payload);
        if (notice !== null) void this.renew(client, notice);
        return;
      }
      case this.topics.tokenResponse: {
        const res = parseTokenResponse(payload);
        if (res !== null) this.tokenRequests.settle(res.request_id, res);
        return;
      }
      case this.topics.reauthResponse: {
        const res = parseReauthResponse(payload);
        if (res !== null) this.reauthRequests.settle(res.request_id, res);
        return;
      }
      case this.topics.certRenewResponse: {
        const res = parseCertRenewResponse(payload);
        if (res !== null) this.certRequests.settle(res.request_id, res);
        return;
      }
      case this.topics.claimResponse: {
        const res = parseClaimResponse(payload);
        if (res !== null) this.claimRequests.settle(res.request_id, res);
        return;
      }
      default:
        // Anything else under our own $auth/ is not ours to interpret; the rest is the application's.
        if (topic.startsWith(`$auth/${this.clientId}/`)) return;
        this.emit('message', topic, payload, packet);
    }
  }

  /**
   * docs/INTERFACE.md#renewing-over-mqtt renewal, cheapest first:
   * 1. `token/request` over the live session (the broker issues a token);
   * 2. a token from the token endpoint, handed over on `reauth`;
   * 3. end the session and reconnect at once with that fresh token.
   */
  private async renew(client: MqttClient, notice: ExpiringNotice): Promise<void> {
    this.report({ type: 'expiring', exp: notice.exp, secondsLeft: notice.seconds_left });
    if (this.opts.mode === 'certificate') return this.renewCertificate(client);
    // One renewal at a time.
    if (this.renewing) return;
    this.renewing = true;
    // Leave time for the fallbacks: each step may use at most a third of what is left.
    const stepMs = Math.max(500, Math.min(this.opts.renewTimeoutMs, (notice.seconds_left * 1000) / 3));
    try {
      if (await this.renewOverMqtt(client, stepMs)) return;
      if (!this.canFetchTokens() || client !== this.client || this.closed) return;
      let fresh: AccessToken;
      try {
        fresh = await this.fetchFromEndpoint();
      } catch {
        return; // reported; when the session ends at expiry the loop tries again with backoff
      }
      if (await this.reauth(client, fresh, stepMs)) return;
      if (client !== this.client || this.closed) return;
      this.token = fresh;
      this.reconnectNow = true;
      this.endingReason = 'renewal refused; reconnecting with a fresh token';
      client.end(false);
    } finally {
      this.renewing = false;
    }
  }

  /**
   * docs/INTERFACE.md#onboarding certificate renewal: a new P-256 key made here, its CSR on
   * `cert/renew`; the new certificate and key are used from the next
   * connect (the live session stays on the old one). Once per certificate.
   */
  private async renewCertificate(client: MqttClient): Promise<void> {
    if (this.renewing || this.renewedCertificate === this.opts.cert) return;
    this.renewing = true;
    try {
      const { keyPem, csrPem } = await newKeyAndCsr(this.clientId);
      const { id, answer } = this.certRequests.open(this.opts.renewTimeoutMs);
      client.publish(this.topics.certRenew, JSON.stringify({ request_id: id, csr: csrPem }), { qos: 0 });
      const res = await answer;
      if ('error' in res) {
        this.report({ type: 'renew_failed', via: 'certificate', error: res.error, ...(res.error_description !== undefined ? { description: res.error_description } : {}) });
        return;
      }
      this.opts = { ...this.opts, cert: res.certificate, key: keyPem };
      this.renewedCertificate = res.certificate;
      this.report({ type: 'certificate_renewed', notAfter: res.not_after });
      this.opts.onCertificate?.({ cert: res.certificate, key: keyPem });
    } catch (err) {
      this.report({ type: 'renew_failed', via: 'certificate', error: 'timeout', description: (err as Error).message });
    } finally {
      this.renewing = false;
    }
  }

  /**
   * For a hub holding `provision:<template>`: mints a short-lived claim over
   * this session (`$auth/<id>/claim/request`) to hand to a new device out
   * of band. At most 10 uses and 15 minutes (900 s).
   *
   * @example const { onboarding } = await hub.requestClaim({ uses: 1, expiresIn: 300 });
   * @throws DeviceError `not_connected`, `provisioning_refused`
   */
  async requestClaim(ask: { uses?: number; expiresIn?: number; template?: string } = {}): Promise<{ claim: string; onboarding: string; expiresAt: string }> {
    const client = this.client;
    if (client === null || !client.connected) throw new DeviceError('not_connected', 'not connected');
    const { id, answer } = this.claimRequests.open(this.opts.renewTimeoutMs);
    const body = { request_id: id, ...(ask.uses !== undefined ? { uses: ask.uses } : {}), ...(ask.expiresIn !== undefined ? { expires_in: ask.expiresIn } : {}), ...(ask.template !== undefined ? { template: ask.template } : {}) };
    client.publish(this.topics.claimRequest, JSON.stringify(body), { qos: 0 });
    const res = await answer;
    if ('error' in res) throw new DeviceError('provisioning_refused', `${res.error}: ${res.error_description ?? ''}`);
    return { claim: res.claim, onboarding: res.onboarding, expiresAt: res.expires_at };
  }

  private async renewOverMqtt(client: MqttClient, timeoutMs: number): Promise<boolean> {
    const { id, answer } = this.tokenRequests.open(timeoutMs);
    const request = { request_id: id, ...(this.opts.scope !== undefined ? { scope: this.opts.scope } : {}) };
    try {
      client.publish(this.topics.tokenRequest, JSON.stringify(request), { qos: 0 });
      const res = await answer;
      if ('error' in res) {
        this.report({
          type: 'renew_failed',
          via: 'mqtt',
          error: res.error,
          ...(res.error_description !== undefined ? { description: res.error_description } : {}),
        });
        return false;
      }
      const token = accessToken(res.access_token, res.expires_in, res.scope);
      this.token = token;
      this.report({ type: 'renewed', via: 'mqtt', expiresAt: token.expiresAt, ...(token.jti !== undefined ? { jti: token.jti } : {}) });
      return true;
    } catch (err) {
      this.report({ type: 'renew_failed', via: 'mqtt', error: 'timeout', description: (err as Error).message });
      return false;
    }
  }

  private async reauth(client: MqttClient, fresh: AccessToken, timeoutMs: number, retried = false): Promise<boolean> {
    const { id, answer } = this.reauthRequests.open(timeoutMs);
    try {
      client.publish(this.topics.reauth, JSON.stringify({ request_id: id, access_token: fresh.value }), { qos: 0 });
      const res = await answer;
      // The broker allows one renewal per second and the failed token/request counted as one.
      if ('error' in res && res.error === 'slow_down' && !retried && client === this.client) {
        await sleep(1000, undefined, { signal: this.stopSleeping.signal }).catch(() => {});
        return this.reauth(client, fresh, timeoutMs, true);
      }
      if ('error' in res) {
        this.report({
          type: 'renew_failed',
          via: 'reauth',
          error: res.error,
          ...(res.error_description !== undefined ? { description: res.error_description } : {}),
        });
        return false;
      }
      this.token = fresh;
      this.report({ type: 'renewed', via: 'reauth', expiresAt: fresh.expiresAt, ...(fresh.jti !== undefined ? { jti: fresh.jti } : {}) });
      return true;
    } catch (err) {
      this.report({ type: 'renew_failed', via: 'reauth', error: 'timeout', description: (err as Error).message });
      return false;
    }
  }

  private report(e: DeviceEvent): void {
    try {
      this.opts.onEvent?.(e);
      this.emit('event', e);
    } catch {
      // A throwing observer must not break the connection loop.
    }
  }
}

/**
 * SUBACK 0x80 (MQTT 3.1.1 §3.9.3). mqtt.js reports it as an error that
 * carries either the return code or the SUBACK packet, depending on version.
 */
function isSubackFailure(err: Error): boolean {
  const { code, packet } = err as { code?: unknown; packet?: { granted?: unknown } };
  if (code === 128) return true;
  return Array.isArray(packet?.granted) && packet.granted.some((g) => typeof g === 'number' && (g & 0x80) !== 0);
}
