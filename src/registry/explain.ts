import { LatchkeyError } from '../errors/latchkey_error.js';
import { compilePolicy, decide, type MqttAction, parseScope, parseScopeString } from '../policy/index.js';
import type { Store } from '../store/store.js';

/** The answer of `explain`: the decision, why, and the scope that allowed it (or would). */
export interface Explanation {
  allow: boolean;
  reason: string;
  /** On allow, the scope that allowed it; on deny, the scope that would, when one could. */
  scope: string | null;
}

export interface TopicLimits {
  maxLevels: number;
  maxBytes: number;
}

/**
 * Would `id` be allowed to publish or subscribe here, and why? The broker's
 * own pure decide() over the principal's scopes, or over `proposedScope`
 * (the console's "what this allows" preview of a scope not yet saved).
 *
 * @throws LatchkeyError not_found, invalid_scope (a malformed proposed scope)
 * @example explain(store, limits, 't1', 'publish', 'home/t1/telemetry') // { allow: true, reason, scope }
 */
export function explain(store: Store, limits: TopicLimits, id: string, action: MqttAction, topic: string, proposedScope?: string): Explanation {
  const principal = findPrincipal(store, id);
  if (proposedScope === undefined && principal.status !== 'enabled') {
    return { allow: false, reason: `${principal.kind} "${id}" is ${principal.status}`, scope: null };
  }
  const decision = decide(compilePolicy(id, parseScopeString(proposedScope ?? principal.scope)), action, topic, limits);
  if (decision.allow) return { allow: true, reason: decision.reason, scope: decision.scope };
  return { allow: false, reason: decision.reason, scope: missingScope(id, action, topic, limits) };
}

/**
 * A device client, a user (the most their PATs may hold) or an API key:
 * names are unique across the three (docs/INTERFACE.md#people-and-integrations).
 *
 * @throws LatchkeyError not_found
 */
function findPrincipal(store: Store, id: string): { kind: 'client' | 'user' | 'API key'; scope: string; status: string } {
  const client = store.clients.get(id);
  if (client) return { kind: 'client', scope: client.scope, status: client.status };
  const user = store.users.get(id);
  if (user) return { kind: 'user', scope: user.scope, status: user.status };
  const key = store.apiKeys.get(id);
  if (key) return { kind: 'API key', scope: key.scope, status: key.status };
  throw new LatchkeyError('not_found', `no client, user or API key "${id}"`);
}

/**
 * The scope that would allow a denied action: `mqtt:<action>:<topic>`,
 * if granting it really would (never for $SYS, invalid topics or another
 * client's $auth topics). Judged by decide() itself, so it cannot drift.
 */
function missingScope(id: string, act: MqttAction, topic: string, limits: TopicLimits): string | null {
  try {
    const candidate = parseScope(`mqtt:${act}:${topic}`);
    return decide(compilePolicy(id, [candidate]), act, topic, limits).allow ? candidate.raw : null;
  } catch {
    return null;
  }
}
