import { LatchkeyError } from '../errors/latchkey_error.js';
import { compilePolicy, decide, type Decision, type MqttAction, parseScope, parseScopeString } from '../policy/index.js';
import type { Store } from '../store/store.js';

/** `explain`'s answer: the decision, why, and the scope that allowed it (or would). */
export interface Explanation {
  allow: boolean;
  reason: string;
  scope: string | null;
}

/**
 * Would `id` be allowed to publish or subscribe on `topic`, and why: the
 * broker's own pure decide(), for `latchkey explain` and the admin API alike.
 * On a deny, `scope` names the scope that would allow it, when one could.
 *
 * @example explainAccess(store, 't1', 'publish', 'home/t1/telemetry', 32) // { allow: true, … }
 * @throws LatchkeyError not_found
 */
export function explainAccess(store: Store, id: string, act: MqttAction, topic: string, maxLevels: number): Explanation {
  const principal = findPrincipal(store, id);
  const limits = { maxLevels, maxBytes: 65_535 };
  let decision: Decision;
  if (principal.status !== 'enabled') {
    decision = { allow: false, reason: `${principal.kind} "${id}" is ${principal.status}`, scope: null };
  } else {
    decision = decide(compilePolicy(id, parseScopeString(principal.scope)), act, topic, limits);
    if (!decision.allow) decision = { ...decision, scope: missingScope(id, act, topic, limits) };
  }
  return { allow: decision.allow, reason: decision.reason, scope: decision.scope };
}

/**
 * A device client, a user (the most their PATs may hold) or an API key:
 * names are unique across the three.
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
function missingScope(id: string, act: MqttAction, topic: string, limits: { maxLevels: number; maxBytes: number }): string | null {
  try {
    const candidate = parseScope(`mqtt:${act}:${topic}`);
    return decide(compilePolicy(id, [candidate]), act, topic, limits).allow ? candidate.raw : null;
  } catch {
    return null;
  }
}
