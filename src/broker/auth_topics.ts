import type { PublishPacket } from 'aedes';
import { CONNACK, ConnackError } from '../errors/connack_error.js';
import { OAuthError } from '../errors/oauth_error.js';
import { credentialFloor, tokenVoidReason } from '../tokens/credential_floor.js';
import { belongsToIncarnation } from '../tokens/incarnation.js';
import { tokenVoided } from './authenticate.js';
import type { BrokerContext } from './broker_context.js';
import { FORMER_INCARNATION } from './principals.js';
import { checkCertificateBinding, jwtCredential, type PresentedCertificate } from './credentials/jwt_resolver.js';
import type { Credential, Session } from './session.js';
import { type Body, openRequest, publishAnswer, takeTurn } from './topic_requests.js';

/** One renewal per second per session: signing is the costliest thing a device can ask for. */
const MIN_RENEWAL_INTERVAL_MS = 1000;

/** `$auth/<id>/token/request` or `$auth/<id>/reauth` of this session's own principal. */
export function isOwnAuthRequest(session: Session, topic: string): boolean {
  const prefix = `$auth/${session.principal.name}/`;
  return topic === `${prefix}token/request` || topic === `${prefix}reauth`;
}

/** Any client's request topic: these carry tokens or CSRs and are never delivered to anyone. */
export function isAuthRequestTopic(topic: string): boolean {
  return (
    topic.startsWith('$auth/') &&
    (topic.endsWith('/token/request') || topic.endsWith('/reauth') || topic.endsWith('/claim/request') || topic.endsWith('/cert/renew'))
  );
}

/**
 * Renewal over MQTT (docs/INTERFACE.md#renewing-over-mqtt): answers a token request or a reauth on
 * the session's own `$auth` topics. Runs after the publish is authorized;
 * the answer is published asynchronously.
 */
export function handleAuthRequest(ctx: BrokerContext, session: Session, packet: PublishPacket): void {
  const isReauth = packet.topic.endsWith('/reauth');
  const request = openRequest(packet.payload, (body) => publishAuth(ctx, session, isReauth ? 'reauth/response' : 'token/response', body));
  if (!request) return;
  const answer = isReauth ? reauth(ctx, session, request.body) : tokenRequest(ctx, session, request.body);
  answer.then(
    (result) => request.reply(result),
    (err: unknown) => {
      if (!(err instanceof OAuthError) && !(err instanceof ConnackError)) ctx.log.error({ err }, 'renewal failed');
      const error = err instanceof OAuthError ? err.error : isReauth ? 'invalid_token' : 'server_error';
      const description = err instanceof OAuthError ? err.description : err instanceof ConnackError ? err.reason : 'renewal failed';
      ctx.audit.record({ event: 'session.renewal_refused', principal: session.principal.name, outcome: 'failure', reason: description, remote: session.remote, detail: { via: isReauth ? 'reauth' : 'token/request' } });
      request.fail(error, description);
    },
  );
}

/** `token/request`: the broker issues a new token to the session's own client. */
async function tokenRequest(ctx: BrokerContext, session: Session, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  renewalAllowed(session);
  // The weaker credential is never traded for a bearer token: one minted here would outlive the password's revocation.
  if (session.credential.method === 'static_password') {
    throw new OAuthError(400, 'unauthorized_client', 'a static-password session does not mint tokens');
  }
  if (body.scope !== undefined && typeof body.scope !== 'string') throw new OAuthError(400, 'invalid_request', 'scope must be a string');
  const client = ctx.store.clients.get(session.principal.name);
  if (!client) throw new OAuthError(401, 'invalid_client', 'client no longer exists');
  // The session may stand on a token of a deleted client whose id was taken again since.
  if (!belongsToIncarnation({ incarnation: session.credential.incarnation ?? null, iat: session.credential.iat }, client)) {
    throw new OAuthError(401, 'invalid_client', 'client no longer exists');
  }
  // Renewal mints on the session's authority without the secret: a session whose token is void
  // (its secret retired, its auth method changed) gets nothing. Read afresh, not from the cache:
  // a rotation made by the CLI reaches the broker only at its next poll, and a token minted in
  // between would be issued after the change and outlive it. One indexed read per renewal.
  const now = Date.now();
  const grace = ctx.store.clients.graceEnds(client.id, now);
  const floor = credentialFloor(client.credentialsNotBefore, grace.ended, grace.ends);
  const voided = tokenVoidReason(session.credential.iat, floor, now / 1000);
  if (voided) throw new OAuthError(400, 'invalid_grant', voided);
  const issued = await ctx.issuer.issue(client, body.scope as string | undefined, {
    channel: 'mqtt',
    remote: session.remote,
    ...(session.credential.certificateThumbprint ? { certificateThumbprint: session.credential.certificateThumbprint } : {}),
  });
  const claims = { jti: issued.jti, exp: issued.exp, iat: Math.floor(Date.now() / 1000), scope: issued.response.scope, ...(client.incarnation ? { lk_inc: client.incarnation } : {}) };
  adoptCredential(ctx, session, jwtCredential(claims, presentedCertificate(session)), 'token/request');
  return { ...issued.response };
}

/** `reauth`: a token obtained elsewhere becomes the session's credential. */
async function reauth(ctx: BrokerContext, session: Session, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  renewalAllowed(session);
  if (typeof body.access_token !== 'string') throw new OAuthError(400, 'invalid_request', 'access_token must be a string');
  const claims = await ctx.jwt.verify(body.access_token);
  if (claims.sub !== session.principal.name) throw new OAuthError(400, 'invalid_grant', 'token belongs to another client');
  const certificate = presentedCertificate(session);
  checkCertificateBinding(claims, certificate);
  const credential = jwtCredential(claims, certificate);
  const state = ctx.principals.lookup(session.principal);
  const voided = state && tokenVoided(credential, state);
  if (voided) throw new OAuthError(400, 'invalid_grant', voided);
  if (!ctx.principals.accepts(session.principal, credential)) throw new ConnackError(CONNACK.notAuthorized, FORMER_INCARNATION);
  adoptCredential(ctx, session, credential, 'reauth');
  return { ok: true, exp: claims.exp };
}

/** The client certificate of the session's connection, which outlives any token renewal. */
function presentedCertificate(session: Session): PresentedCertificate | null {
  const { certificateSerial: serial, certificateThumbprint: fingerprint } = session.credential;
  return serial && fingerprint ? { serial, fingerprint } : null;
}

function renewalAllowed(session: Session): void {
  if (session.principal.kind !== 'client' || session.credential.method === 'certificate') {
    throw new OAuthError(400, 'unauthorized_client', 'this session does not renew over MQTT');
  }
  if (!takeTurn(session, 'lastRenewalAt', MIN_RENEWAL_INTERVAL_MS)) throw new OAuthError(400, 'slow_down', 'one renewal per second');
}

/** The new credential replaces the old: expiry moves, scopes are replaced and subscriptions re-checked. */
function adoptCredential(ctx: BrokerContext, session: Session, credential: Credential, via: string): void {
  ctx.sessions.replaceCredential(session, () => {
    session.credential = credential;
  });
  session.warned = false;
  ctx.applyScopes(session);
  ctx.scheduleExpiry(session);
  ctx.audit.record({ event: 'session.renewed', principal: session.principal.name, outcome: 'success', remote: session.remote, detail: { via, jti: credential.id, exp: credential.exp } });
}

/** Sends `$auth/<id>/expiring` if the session is inside its warning window. */
export function sendExpiringIfDue(ctx: BrokerContext, session: Session): void {
  const { exp, iat } = session.credential;
  if (!Number.isFinite(exp) || session.ending) return;
  const now = Date.now() / 1000;
  if (now < warningTime(ctx, exp, iat, session.credential.method) || now >= exp) return;
  session.warned = true;
  const seconds_left = Math.max(0, Math.round(exp - now));
  // A certificate is renewed with cert/renew, a token with token/request: say which this is.
  const credential = session.credential.method === 'certificate' ? { credential: 'certificate' } : {};
  publishAuth(ctx, session, 'expiring', { exp, seconds_left, ...credential });
}

/**
 * When to warn (docs/INTERFACE.md#renewing-over-mqtt): `min(--expiry-warning, half the lifetime)`
 * before a token's expiry; for a certificate session, `min(--cert-renew-before,
 * a third of the certificate's lifetime)` before its notAfter, time enough
 * to renew over MQTT.
 */
export function warningTime(ctx: BrokerContext, exp: number, iat: number, method?: string): number {
  if (method === 'certificate') return exp - Math.min(ctx.config.certRenewBefore, Math.max(0, (exp - iat) / 3));
  return exp - Math.min(ctx.config.expiryWarning, Math.max(0, (exp - iat) / 2));
}

/** Publishes to `$auth/<principal>/<suffix>`: QoS 0 and never retained, so no token is ever stored. */
export function publishAuth(ctx: BrokerContext, session: Session, suffix: string, body: Body): void {
  publishAnswer(ctx, `$auth/${session.principal.name}/${suffix}`, body);
}
