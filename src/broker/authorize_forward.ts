import type { AedesPublishPacket, Client } from 'aedes';
import type { BrokerContext } from './broker_context.js';
import { isAuthRequestTopic } from './auth_topics.js';
import { isProvisionRequestTopic } from './provision_topics.js';

/**
 * The Aedes `authorizeForward` hook, run for every delivery, including
 * retained and queued messages: the receiving session must still be
 * allowed to subscribe to the message's topic, so a scope that shrank after
 * the subscription was made withholds the message (docs/INTERFACE.md#scopes).
 */
export function createAuthorizeForward(ctx: BrokerContext) {
  return function authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    const session = ctx.sessions.byClientId(client.id) ?? ctx.pending.get(client);
    if (!session || session.client !== client) return null;
    // Requests to the broker ($auth/<id>/token/request, reauth) carry tokens: never delivered.
    if (isAuthRequestTopic(packet.topic) || isProvisionRequestTopic(packet.topic)) return null;
    const decision = session.decide('subscribe', packet.topic);
    if (!decision.allow) {
      ctx.denials.record(session.principal.name, 'deliver', packet.topic, decision.reason, session.remote);
      return null;
    }
    return packet;
  };
}
