/**
 * decide(): the one authorization decision for MQTT, used by the broker on
 * every PUBLISH/SUBSCRIBE (and will) and by the CLI `explain` command.
 * Deny by default; every answer carries a stable, human-readable reason
 * that the audit log records.
 */
import { CLIENT_ID_PATTERN, CLIENT_ID_PLACEHOLDER, type MqttAction, type Scope } from './scope.js';
import {
  DEFAULT_TOPIC_LIMITS,
  levelsContain,
  levelsMatch,
  splitSharedSubscription,
  startsWithDollar,
  topicFilterError,
  topicNameError,
  type TopicLimits,
} from './topic.js';

/**
 * Read-only: allow decisions are built once per scope and shared (frozen),
 * so copy with a spread to change one.
 */
export interface Decision {
  readonly allow: boolean;
  /** Stable and human-readable; recorded in the audit log. */
  readonly reason: string;
  /** The raw scope that allowed it; null on deny and for built-in rules. */
  readonly scope: string | null;
}

/** One mqtt scope with its filter expanded for the principal and split into levels. */
export interface CompiledFilter {
  readonly raw: string;
  readonly levels: readonly string[];
  /** Built once: the hot path returns it without allocating. */
  readonly allowed: Decision;
}

/** A principal's scopes, prepared once so decide() only splits the topic. */
export interface CompiledPolicy {
  readonly principalId: string;
  readonly publish: readonly CompiledFilter[];
  readonly subscribe: readonly CompiledFilter[];
}

/**
 * Prepares `scopes` for `principalId` (a client id, user name or API key
 * name; never an MQTT client id suffix like 'alice@laptop'). Throws a
 * TypeError if the id does not match CLIENT_ID_PATTERN. Admin scopes are
 * dropped: they never grant MQTT actions.
 *
 * @example
 * const policy = compilePolicy('t1', parseScopeString('mqtt:publish:home/{client_id}/telemetry'))
 */
export function compilePolicy(principalId: string, scopes: readonly Scope[]): CompiledPolicy {
  // Checked even without a '{client_id}' scope: the id also names the $auth topics.
  if (!CLIENT_ID_PATTERN.test(principalId)) throw new TypeError('principal id does not match ^[A-Za-z0-9._-]{1,64}$');
  const publish: CompiledFilter[] = [];
  const subscribe: CompiledFilter[] = [];
  for (const s of scopes) {
    if (s.kind !== 'mqtt') continue;
    const compiled: CompiledFilter = Object.freeze({
      raw: s.raw,
      levels: expandedLevels(s.filter, principalId),
      allowed: allowedBy(s.raw),
    });
    (s.action === 'publish' ? publish : subscribe).push(compiled);
  }
  return Object.freeze({ principalId, publish: frozenList(publish), subscribe: frozenList(subscribe) });
}

/** Levels of unexpanded filters, shared (bounded like ALLOWED_BY). */
const LEVELS_OF = new Map<string, readonly string[]>();

/**
 * The levels of `filter` with each whole '{client_id}' level replaced by
 * `principalId` (already checked against CLIENT_ID_PATTERN by the caller),
 * as expandFilter would give them. The other level strings, and a whole
 * list without a placeholder, are shared between every policy.
 */
function expandedLevels(filter: string, principalId: string): readonly string[] {
  let levels = LEVELS_OF.get(filter);
  if (levels === undefined) {
    levels = Object.freeze(filter.split('/'));
    if (LEVELS_OF.size >= ALLOWED_BY_CAPACITY) LEVELS_OF.clear();
    LEVELS_OF.set(filter, levels);
  }
  if (!levels.includes(CLIENT_ID_PLACEHOLDER)) return levels;
  return Object.freeze(levels.map((level) => (level === CLIENT_ID_PLACEHOLDER ? principalId : level)));
}

const NO_FILTERS: readonly CompiledFilter[] = Object.freeze([]);

/** Frozen; an empty list is the one shared empty list (most policies lack publish or subscribe scopes). */
function frozenList(filters: CompiledFilter[]): readonly CompiledFilter[] {
  return filters.length === 0 ? NO_FILTERS : Object.freeze(filters);
}

/** Allow decisions by raw scope, shared by every policy holding the scope. */
const ALLOWED_BY = new Map<string, Decision>();
/** Distinct scopes remembered; past this the memo starts over (policies keep theirs). */
const ALLOWED_BY_CAPACITY = 10_000;

/**
 * The frozen allow decision of scope `raw`. Shared: 10,000 sessions of a
 * fleet compile 10,000 policies from the same scopes, and each used to hold
 * its own copy of the same decision and reason string.
 */
function allowedBy(raw: string): Decision {
  let decision = ALLOWED_BY.get(raw);
  if (decision === undefined) {
    decision = Object.freeze({ allow: true, reason: `allowed by ${raw}`, scope: raw });
    if (ALLOWED_BY.size >= ALLOWED_BY_CAPACITY) ALLOWED_BY.clear();
    ALLOWED_BY.set(raw, decision);
  }
  return decision;
}

const OWN_AUTH_REQUEST: Decision = Object.freeze({ allow: true, reason: 'built-in: own $auth request topic', scope: null });
const OWN_AUTH_TOPICS: Decision = Object.freeze({ allow: true, reason: 'built-in: own $auth topics', scope: null });

/** `$provision/` carries claim answers (certificates, secrets): only the provisioning session of that id reaches it. */
const PROVISION_RESERVED: Decision = Object.freeze({ allow: false, reason: '$provision topics are reserved for provisioning sessions', scope: null });

function deny(reason: string): Decision {
  return { allow: false, reason, scope: null };
}

/**
 * Whether `policy`'s principal may publish to the topic or subscribe with
 * the filter `topicOrFilter`, and why.
 *
 * @example
 * decide(policy, 'publish', 'home/t1/telemetry')
 * // { allow: true, reason: 'allowed by mqtt:publish:home/{client_id}/telemetry', scope: 'mqtt:publish:home/{client_id}/telemetry' }
 */
export function decide(
  policy: CompiledPolicy,
  action: MqttAction,
  topicOrFilter: string,
  limits: TopicLimits = DEFAULT_TOPIC_LIMITS,
): Decision {
  if (action === 'publish') return decidePublish(policy, topicOrFilter, limits);
  if (action === 'subscribe') return decideSubscribe(policy, topicOrFilter, limits);
  return deny('unknown action');
}

function decidePublish(policy: CompiledPolicy, topic: string, limits: TopicLimits): Decision {
  const err = topicNameError(topic, limits);
  if (err !== null) return deny(`invalid topic: ${err}`);
  const levels = topic.split('/');
  const dollar = startsWithDollar(topic);
  if (dollar) {
    const first = levels[0];
    // Only the broker writes $SYS, whatever a scope says.
    if (first === '$SYS') return deny('publishing to $SYS is reserved for the broker');
    // '$share/' is a subscription form, never a topic to publish to.
    if (first === '$share') return deny('publishing to $share/ is not allowed: it is a shared subscription prefix');
    if (first === '$auth') return decideAuthPublish(policy.principalId, levels);
    // Provisioning sessions have their own jail (src/broker/provision_topics.ts); everyone else stays out.
    if (first === '$provision') return PROVISION_RESERVED;
  }
  for (const f of policy.publish) {
    if (levelsMatch(f.levels, levels, dollar)) return f.allowed;
  }
  return deny(`no mqtt:publish scope matches ${topic}`);
}

/** Requests a session may send on its own `$auth/<id>/`: renewal, hub claims, certificate renewal. */
const AUTH_REQUESTS: ReadonlySet<string> = new Set(['token/request', 'reauth', 'claim/request', 'cert/renew']);

/**
 * docs/INTERFACE.md#renewing-over-mqtt, #onboarding: a device writes only its own requests (token/request,
 * reauth, claim/request, cert/renew); the broker writes the rest. Whether
 * the session may make the request is the request handler's decision.
 */
function decideAuthPublish(id: string, levels: readonly string[]): Decision {
  if (levels[1] !== id) return deny('$auth topics of another client');
  if (AUTH_REQUESTS.has(levels.slice(2).join('/'))) return OWN_AUTH_REQUEST;
  return deny('$auth topics other than token/request, reauth, claim/request and cert/renew are written by the broker');
}

function decideSubscribe(policy: CompiledPolicy, filter: string, limits: TopicLimits): Decision {
  const err = topicFilterError(filter, limits);
  if (err !== null) return deny(`invalid filter: ${err}`);
  if (startsWithDollar(filter)) {
    let shared: { group: string; filter: string } | null;
    try {
      shared = splitSharedSubscription(filter);
    } catch (e) {
      return deny(`malformed shared subscription: ${(e as Error).message}`);
    }
    if (shared !== null) {
      // docs/INTERFACE.md#scopes: judged on <filter>, never as a literal topic.
      const inner = decideSubscribe(policy, shared.filter, limits);
      return { ...inner, reason: `shared subscription judged on its filter: ${inner.reason}` };
    }
  }
  const levels = filter.split('/');
  if (levels[0] === '$provision') return PROVISION_RESERVED;
  // Only a literal first level '$auth' reaches $auth topics [MQTT-4.7.2-1].
  if (levels[0] === '$auth') {
    if (levels.length >= 2 && levels[1] === policy.principalId) {
      return OWN_AUTH_TOPICS;
    }
    return deny('$auth topics of another client');
  }
  for (const f of policy.subscribe) {
    if (levelsContain(f.levels, levels)) return f.allowed;
  }
  return deny(`no mqtt:subscribe scope covers ${filter}`);
}

/**
 * Whether `scopes` grant admin API access; admin:write implies admin:read.
 *
 * @example
 * hasAdmin(parseScopeString('admin:write'), 'read') // true
 */
export function hasAdmin(scopes: readonly Scope[], access: 'read' | 'write'): boolean {
  return scopes.some((s) => s.kind === 'admin' && (s.access === access || s.access === 'write'));
}
