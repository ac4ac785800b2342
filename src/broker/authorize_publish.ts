import type { Client, PublishPacket } from 'aedes';
import { compilePolicy, decide } from '../policy/index.js';
import type { BrokerContext } from './broker_context.js';
import type { Session } from './session.js';
import { handleAuthRequest, isOwnAuthRequest } from './auth_topics.js';
import { handleCertRenewal } from './cert_renewal.js';
import { handleClaimRequest } from './claim_requests.js';
import { handleProvisionRequest } from './provision_requests.js';

/**
 * The Aedes `authorizePublish` hook: incoming publishes and Will messages.
 * Replacing Aedes' default also replaces its `$SYS` protection, which the
 * policy restores (nobody publishes to `$SYS/`). A denied publish closes
 * the connection, as Aedes does and [MQTT-3.3.5-2] allows: the client
 * cannot be told, and a device publishing where it may not is misbehaving.
 */
export function createAuthorizePublish(ctx: BrokerContext) {
  return function authorizePublish(client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void): void {
    if (client === null) return callback(authorizeStaleWill(ctx, packet));
    const session = ctx.sessions.byClientId(client.id);
    if (!session || session.client !== client) return callback(new Error('no session'));
    const decision = session.decide('publish', packet.topic);
    if (!decision.allow) {
      ctx.denials.record(session.principal.name, 'publish', packet.topic, decision.reason, session.remote);
      return callback(new Error(decision.reason));
    }
    // Requests to the broker, never messages to store or pass on.
    const request = requestHandler(session, packet.topic);
    if (request) {
      packet.retain = false;
      request(ctx, session, packet);
      return callback(null);
    }
    // Aedes sends PUBACK before it routes a QoS 1 message: with Redis down it would be acknowledged and
    // lost. Closing the connection instead makes the device keep it and send it again later.
    if (!ctx.routable()) return callback(new Error('cluster unreachable: Redis does not answer'));
    if (packet.retain && packet.qos > 0) {
      // Aedes sends PUBACK before it stores a retained message; storing it here,
      // before this hook answers, makes an acknowledged retained message survive kill -9.
      ctx.persistRetained(packet).then(() => callback(null), (err: Error) => callback(err));
      return;
    }
    callback(null);
  };
}

/**
 * A Will left in persistence by a broker that stopped (`client === null`):
 * published only if its owner still exists, is enabled, and its current
 * scopes allow the topic.
 */
function authorizeStaleWill(ctx: BrokerContext, packet: PublishPacket): Error | null {
  const owner = (packet as PublishPacket & { clientId?: string }).clientId;
  if (!owner) return new Error('will without owner');
  const name = owner.split('@')[0]!;
  for (const kind of ['client', 'user', 'apikey'] as const) {
    const state = ctx.principals.lookup({ kind, name });
    if (!state) continue;
    if (!state.enabled) return new Error('will owner disabled');
    const decision = decide(compilePolicy(name, state.scopes), 'publish', packet.topic, ctx.limits);
    if (decision.allow) return null;
    ctx.denials.record(name, 'will', packet.topic, decision.reason, null);
    return new Error(decision.reason);
  }
  return new Error('will owner unknown');
}


type RequestHandler = (ctx: BrokerContext, session: Session, packet: PublishPacket) => void;

/**
 * The broker's answer to a request the session may send (already allowed
 * by the decision above): renewal on `$auth/<own id>/`, a hub's claim, a
 * certificate renewal, or a provisioning session's CSR or registration.
 */
function requestHandler(session: Session, topic: string): RequestHandler | null {
  if (session.principal.kind === 'claim') return handleProvisionRequest;
  if (isOwnAuthRequest(session, topic)) return handleAuthRequest;
  const own = `$auth/${session.principal.name}/`;
  if (topic === `${own}claim/request`) return handleClaimRequest;
  if (topic === `${own}cert/renew`) return handleCertRenewal;
  return null;
}
