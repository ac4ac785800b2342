import type { Client } from 'aedes';
import type { TLSSocket } from 'node:tls';
import { CONNACK, ConnackError } from '../errors/connack_error.js';
import { CLIENT_ID_PATTERN } from '../policy/index.js';
import { certificateIdentity, type CertificateIdentity } from '../pki/certificate_identity.js';
import { PkiError } from '../pki/pki_error.js';
import { checkRecorded } from '../pki/recorded_certificate.js';
import { tokenVoidReason } from '../tokens/credential_floor.js';
import type { BrokerContext } from './broker_context.js';
import { remoteOf } from './broker_context.js';
import type { Authenticated, ConnectAttempt } from './credentials/credential_resolver.js';
import { auditableClientId, auditableUsername } from './audit_name.js';
import { effectiveScopes } from './effective_scopes.js';
import { FORMER_INCARNATION, type PrincipalState } from './principals.js';
import { Session } from './session.js';

type Done = (error: (Error & { returnCode: number }) | null, success: boolean | null) => void;

/**
 * The Aedes `authenticate` hook. CONNECT is refused unless a step proves
 * the client (STYLE 6); the steps, in order:
 * certificate → credential → client id → principal state → will → session.
 * A refusal becomes the CONNACK code of docs/INTERFACE.md#mqtt and an audit event.
 */
export function createAuthenticate(ctx: BrokerContext) {
  return function authenticate(client: Client, username: string | undefined, password: Buffer | undefined, done: Done): void {
    const remote = remoteOf(client.conn);
    authenticateSteps(ctx, client, username, password, remote).then(
      (session) => {
        ctx.pending.set(client, session);
        done(null, true);
      },
      (err: unknown) => {
        const refusal = err instanceof ConnackError ? err : new ConnackError(CONNACK.serverUnavailable, 'internal error');
        if (!(err instanceof ConnackError)) ctx.log.error({ err }, 'authenticate failed');
        ctx.metrics.connects.inc({ outcome: 'refused', reason: refusal.reason.split(':')[0]! });
        // Folded per (address, reason) and registered client: a storm of refusals costs a counter, not a row each.
        // What was presented is recorded only when it is a name: a token typed into the username stays out.
        const principal = refusedPrincipal(ctx, username, client.id);
        ctx.connectRefusals.record({
          username: auditableUsername(ctx.principals, username),
          clientId: auditableClientId(client.id),
          principal: principal.name,
          registered: principal.registered,
          reason: refusal.reason,
          remote,
          connack: refusal.returnCode,
        });
        done(Object.assign(new Error(refusal.reason), { returnCode: refusal.returnCode }), false);
      },
    );
  };
}

async function authenticateSteps(
  ctx: BrokerContext,
  client: Client,
  username: string | undefined,
  password: Buffer | undefined,
  remote: string | null,
): Promise<Session> {
  // A cluster node cut off from Redis could accept the device but not serve it: try another node.
  if (!ctx.routable()) throw new ConnackError(CONNACK.serverUnavailable, 'cluster unreachable: Redis does not answer');
  const certificate = peerCertificate(ctx, client);
  const tls = typeof (client.conn as Partial<TLSSocket>).getPeerCertificate === 'function';
  const attempt: ConnectAttempt = { clientId: client.id, username, certificate, remote, tls, cleanSession: client.clean };
  const authenticated = await credentialStep(ctx, attempt, password);
  checkClientId(authenticated, client.id);
  const state = ctx.principals.lookup(authenticated.principal);
  if (!state) throw new ConnackError(CONNACK.notAuthorized, `unknown ${authenticated.principal.kind}`);
  if (!state.enabled) throw new ConnackError(CONNACK.notAuthorized, `${authenticated.principal.kind} disabled`);
  const voided = tokenVoided(authenticated.credential, state);
  if (voided) throw new ConnackError(CONNACK.notAuthorized, voided);
  if (!ctx.principals.accepts(authenticated.principal, authenticated.credential)) throw new ConnackError(CONNACK.notAuthorized, FORMER_INCARNATION);
  const session = new Session(
    client,
    authenticated.principal,
    authenticated.credential,
    ctx.policies.get(authenticated.principal.name, effectiveScopes(authenticated.credential.scopes, state.scopes, authenticated.principal.name)),
    remote,
  );
  checkWill(ctx, client, session);
  return session;
}

/**
 * Step 1: a client certificate, when the MQTTS connection presented one.
 * The TLS layer asks for one but does not insist (so passwords work over
 * MQTTS too); an unverified, unfit, unrecorded or revoked certificate
 * refuses the CONNECT.
 */
function peerCertificate(ctx: BrokerContext, client: Client): CertificateIdentity | null {
  const socket = client.conn as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return null;
  const peer = socket.getPeerCertificate(false);
  if (!peer || !peer.raw) return null;
  if (!socket.authorized) {
    throw new ConnackError(CONNACK.badCredentials, `certificate not trusted: ${String(socket.authorizationError)}`);
  }
  let identity: CertificateIdentity;
  try {
    identity = certificateIdentity(peer.raw);
  } catch (err) {
    if (err instanceof PkiError) throw new ConnackError(CONNACK.badCredentials, `certificate refused: ${err.code}`);
    throw err;
  }
  // An allow-list: only a certificate latchkey recorded as issued to this client.
  // Read from the store, not a copy: it also knows a revocation the CLI committed a moment ago
  // that the change watcher has not applied yet. One indexed read beside a full TLS handshake.
  const refusal = checkRecorded(identity, ctx.store.certificates.bySerial(identity.serial), Date.now());
  if (refusal) throw new ConnackError(refusal.code === 'revoked' ? CONNACK.notAuthorized : CONNACK.badCredentials, refusal.reason);
  return identity;
}

/** Step 2: the password decides the credential; a certificate alone is one too. */
async function credentialStep(ctx: BrokerContext, attempt: ConnectAttempt, password: Buffer | undefined): Promise<Authenticated> {
  if (password && password.length > 0) {
    // Refuse before parsing anything: a huge password is an attack, not a token.
    if (password.length > ctx.config.maxPasswordBytes) throw new ConnackError(CONNACK.badCredentials, 'password too large');
    const text = password.toString('utf8');
    const resolver = ctx.passwordResolvers.find((r) => r.handles(text)) ?? ctx.jwt;
    const authenticated = await resolver.resolve(attempt, text);
    if (attempt.certificate && (authenticated.principal.kind !== 'client' || authenticated.principal.name !== attempt.certificate.clientId)) {
      throw new ConnackError(CONNACK.badCredentials, 'password credential belongs to another client than the certificate');
    }
    return authenticated;
  }
  const cert = attempt.certificate;
  if (!cert) throw new ConnackError(CONNACK.badCredentials, 'no credential');
  if (attempt.username !== undefined && attempt.username !== '' && attempt.username !== cert.clientId) {
    throw new ConnackError(CONNACK.badCredentials, 'username differs from the certificate subject');
  }
  return {
    principal: { kind: 'client', name: cert.clientId },
    credential: {
      method: 'certificate',
      id: cert.serial,
      scopes: null,
      exp: cert.notAfter.getTime() / 1000,
      iat: cert.notBefore.getTime() / 1000,
      certificateSerial: cert.serial,
      certificateThumbprint: cert.fingerprint,
    },
  };
}

/**
 * Why this access token no longer counts (its client changed auth method, or
 * retired the secret it was obtained under), or null. Other credentials are
 * judged elsewhere.
 */
export function tokenVoided(credential: Session['credential'], state: PrincipalState, nowMs = Date.now()): string | null {
  if (credential.method !== 'jwt' || !state.tokenFloor) return null;
  return tokenVoidReason(credential.iat, state.tokenFloor, nowMs / 1000);
}

/**
 * Whom a refused CONNECT is audited under, so `latchkey audit --client X`
 * shows X's refusals: the username when it names a registered client, else
 * the MQTT client id when that does (a certificate-only or password-less
 * CONNECT), else the username as given (a person, an API key, or nobody).
 * One indexed read per refusal, never per accepted CONNECT.
 */
function refusedPrincipal(ctx: BrokerContext, username: string | undefined, clientId: string): { name: string | null; registered: boolean } {
  for (const name of [username, clientId]) {
    if (name && CLIENT_ID_PATTERN.test(name) && ctx.store.clients.get(name)) return { name, registered: true };
  }
  // Otherwise the username only if it names a user or API key: never a secret typed into the field.
  return { name: auditableUsername(ctx.principals, username), registered: false };
}

/**
 * Step 3: the MQTT client id must be the principal's (docs/INTERFACE.md#mqtt, #people-and-integrations): a
 * device's own id; a person or integration may add `@suffix`. No
 * credential can take over a session id that belongs to another principal.
 */
function checkClientId({ principal }: Authenticated, clientId: string): void {
  if (clientId === principal.name) return;
  if (principal.kind !== 'client' && clientId.startsWith(`${principal.name}@`) && clientId.length > principal.name.length + 1) return;
  throw new ConnackError(CONNACK.identifierRejected, 'client id does not match the credential');
}

/** Step 5: a Will is authorized as a publish when the session connects (docs/INTERFACE.md#scopes). */
function checkWill(ctx: BrokerContext, client: Client, session: Session): void {
  const will = (client as unknown as { _will?: { topic: string } })._will;
  if (!will) return;
  const decision = session.decide('publish', will.topic);
  if (!decision.allow) {
    ctx.denials.record(session.principal.name, 'will', will.topic, decision.reason, session.remote);
    throw new ConnackError(CONNACK.notAuthorized, `will topic not allowed: ${decision.reason}`);
  }
}
