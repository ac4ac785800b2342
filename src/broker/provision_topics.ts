import { type Decision, type MqttAction, topicFilterError, topicNameError } from '../policy/index.js';

/** What a provisioning session may publish: its request, one of these, under `$provision/<id>/`. */
const REQUESTS: ReadonlySet<string> = new Set(['csr', 'register']);

const OWN_REQUEST: Decision = Object.freeze({ allow: true, reason: 'built-in: own $provision request', scope: null });
const OWN_TOPICS: Decision = Object.freeze({ allow: true, reason: 'built-in: own $provision topics', scope: null });

function deny(reason: string): Decision {
  return { allow: false, reason, scope: null };
}

/**
 * The topic jail of a provisioning session (username `$claim`): it may
 * publish only `$provision/<id>/csr` or `$provision/<id>/register` and
 * subscribe only within `$provision/<id>/#`; anything else is denied like
 * any other denial (a publish closes the connection, a subscription gets
 * SUBACK 0x80). Pure.
 *
 * @example
 * decideProvisioning('th-42', 'publish', '$provision/th-42/csr')   // allow
 * decideProvisioning('th-42', 'subscribe', 'home/#')               // deny
 */
export function decideProvisioning(id: string, action: MqttAction, topicOrFilter: string): Decision {
  const levels = topicOrFilter.split('/');
  if (action === 'publish') {
    if (topicNameError(topicOrFilter) !== null) return deny('invalid topic');
    if (levels.length === 3 && levels[0] === '$provision' && levels[1] === id && REQUESTS.has(levels[2]!)) return OWN_REQUEST;
    return deny('a provisioning session may publish only its own $provision/<id>/csr or register');
  }
  if (topicFilterError(topicOrFilter) !== null) return deny('invalid filter');
  // Literal levels only: '+' or '#' at the first two levels would reach other devices' answers.
  if (levels.length >= 2 && levels[0] === '$provision' && levels[1] === id) return OWN_TOPICS;
  return deny('a provisioning session may subscribe only within its own $provision/<id>/#');
}

/** A device's request on `$provision/…`: never delivered to anyone, the broker answers it. */
export function isProvisionRequestTopic(topic: string): boolean {
  const levels = topic.split('/');
  return levels[0] === '$provision' && levels.length === 3 && REQUESTS.has(levels[2]!);
}
