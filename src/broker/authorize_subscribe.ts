import type { Client, Subscription } from 'aedes';
import type { BrokerContext } from './broker_context.js';
import { sendExpiringIfDue } from './auth_topics.js';

/**
 * The Aedes `authorizeSubscribe` hook: a filter is granted only if a
 * subscribe scope contains it (docs/INTERFACE.md#scopes). A refused filter gets SUBACK
 * 0x80 and the session lives on (STYLE 6). Also runs for subscriptions
 * restored from a persistent session, so shrunk scopes apply on resume.
 */
export function createAuthorizeSubscribe(ctx: BrokerContext) {
  return function authorizeSubscribe(
    client: Client,
    subscription: Subscription,
    callback: (error: Error | null, subscription?: Subscription | null) => void,
  ): void {
    const session = ctx.sessions.byClientId(client.id) ?? ctx.pending.get(client);
    if (!session || session.client !== client) return callback(null, null);
    const decision = session.decide('subscribe', subscription.topic);
    if (!decision.allow) {
      ctx.denials.record(session.principal.name, 'subscribe', subscription.topic, decision.reason, session.remote);
      return callback(null, null);
    }
    callback(null, subscription);
    // docs/INTERFACE.md#renewing-over-mqtt: `expiring` is sent again when the device subscribes inside the window.
    setImmediate(() => sendExpiringIfDue(ctx, session));
  };
}
