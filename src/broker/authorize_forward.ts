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
    // Aedes restores a persistent session's subscriptions before it sends the CONNACK, and would
    // write a message routed meanwhile ahead of it [MQTT-3.2.0-1] (in a cluster a message on its way
    // through Redis often arrives then; mqtt.js then never sees its CONNACK). Withheld: a QoS 1/2
    // message is already in the session's queue (Aedes queues before it routes), which is sent right
    // after the CONNACK; a QoS 0 one is lost, as QoS 0 allows.
    if ((client as Client & { connackSent?: boolean }).connackSent === false) return null;
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
