/**
 * The scope grammar (docs/INTERFACE.md#scopes): OAuth 2.0 scope tokens naming MQTT
 * permissions and admin access.
 *
 *   mqtt:publish:<filter>     may publish to topics the filter matches
 *   mqtt:subscribe:<filter>   may subscribe to filters the filter contains
 *   admin:read | admin:write  admin API access (write implies read)
 *   provision:<template>      may mint short-lived onboarding claims for that template
 *
 * '{client_id}' as a whole level of a filter stands for the caller's own id.
 */
import { filterContains, splitSharedSubscription, topicFilterError } from './topic.js';

export type MqttAction = 'publish' | 'subscribe';

export type Scope =
  | { kind: 'mqtt'; action: MqttAction; filter: string; raw: string }
  | { kind: 'admin'; access: 'read' | 'write'; raw: string }
  | { kind: 'provision'; template: string; raw: string };

/** Client ids (and user and API key names) are safe inside topics: no '/', '+', '#', '$'. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** The placeholder for the caller's own id, valid only as a whole level. */
export const CLIENT_ID_PLACEHOLDER = '{client_id}';

/** A scope string that does not follow the grammar. Maps to RFC 6749 `invalid_scope`. */
export class ScopeError extends Error {
  readonly code = 'invalid_scope';
  constructor(message: string) {
    super(message);
    this.name = 'ScopeError';
  }
}

/** `provision:<template>`: the holder may mint onboarding claims for that template (a hub vouching for devices). */
export const PROVISION_PREFIX = 'provision:';

const MQTT_PREFIXES: ReadonlyArray<readonly [string, MqttAction]> = [
  ['mqtt:publish:', 'publish'],
  ['mqtt:subscribe:', 'subscribe'],
];

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
function badScopeChar(raw: string): number {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x21 || c === 0x22 || c === 0x5c || c > 0x7e) return i;
  }
  return -1;
}

/**
 * Parses one scope token; throws ScopeError with a clear message otherwise.
 *
 * @example
 * parseScope('mqtt:publish:home/{client_id}/telemetry')
 * // { kind: 'mqtt', action: 'publish', filter: 'home/{client_id}/telemetry', raw: '...' }
 * parseScope('admin:write') // { kind: 'admin', access: 'write', raw: 'admin:write' }
 */
export function parseScope(raw: string): Scope {
  if (raw.length === 0) throw new ScopeError('empty scope');
  const bad = badScopeChar(raw);
  if (bad >= 0) {
    throw new ScopeError(
      `invalid scope ${JSON.stringify(raw)}: character ${JSON.stringify(raw[bad])} not allowed (RFC 6749 §3.3: printable ASCII without space, '"' or '\\')`,
    );
  }
  if (raw === 'admin:read') return { kind: 'admin', access: 'read', raw };
  if (raw === 'admin:write') return { kind: 'admin', access: 'write', raw };
  if (raw.startsWith(PROVISION_PREFIX)) {
    const template = raw.slice(PROVISION_PREFIX.length);
    // A template name follows the client id pattern; no wildcard: a hub vouches for one kind of device.
    if (!CLIENT_ID_PATTERN.test(template)) {
      throw new ScopeError(`invalid scope ${JSON.stringify(raw)}: provision:<template> needs a template name of 1-64 of A-Z a-z 0-9 . _ -`);
    }
    return { kind: 'provision', template, raw };
  }
  for (const [prefix, action] of MQTT_PREFIXES) {
    if (!raw.startsWith(prefix)) continue;
    const filter = raw.slice(prefix.length);
    const err = topicFilterError(filter);
    if (err !== null) throw new ScopeError(`invalid scope ${JSON.stringify(raw)}: bad topic filter: ${err}`);
    for (const level of filter.split('/')) {
      if ((level.includes('{') || level.includes('}')) && level !== CLIENT_ID_PLACEHOLDER) {
        throw new ScopeError(
          `invalid scope ${JSON.stringify(raw)}: '{client_id}' must be a whole topic level and is the only placeholder`,
        );
      }
    }
    // Shared subscriptions are judged on their inner filter, so a '$share' scope could never match.
    if (filter === '$share' || filter.startsWith('$share/')) {
      throw new ScopeError(`invalid scope ${JSON.stringify(raw)}: grant the filter itself, not a '$share/' form`);
    }
    return { kind: 'mqtt', action, filter, raw };
  }
  throw new ScopeError(
    `invalid scope ${JSON.stringify(raw)}: expected mqtt:publish:<filter>, mqtt:subscribe:<filter>, admin:read, admin:write or provision:<template>`,
  );
}

/**
 * Parses a space-separated scope string (RFC 6749 §3.3). Runs of whitespace
 * count as one separator; duplicates are dropped, first one kept.
 *
 * @example
 * parseScopeString('admin:read  admin:read') // [{ kind: 'admin', access: 'read', raw: 'admin:read' }]
 * parseScopeString('')                       // []
 */
export function parseScopeString(s: string): Scope[] {
  const out: Scope[] = [];
  const seen = new Set<string>();
  for (const token of s.split(/\s+/)) {
    if (token.length === 0 || seen.has(token)) continue;
    seen.add(token);
    out.push(parseScope(token));
  }
  return out;
}

/**
 * The scope string for a list of scopes, as carried in tokens and responses.
 *
 * @example
 * formatScopes(parseScopeString('admin:read mqtt:publish:a/b')) // 'admin:read mqtt:publish:a/b'
 */
export function formatScopes(scopes: readonly Scope[]): string {
  return scopes.map((s) => s.raw).join(' ');
}

/**
 * Replaces each whole '{client_id}' level with `clientId`. Throws a
 * TypeError if `clientId` does not match CLIENT_ID_PATTERN, so a
 * hostile id can never widen a filter.
 *
 * @example
 * expandFilter('home/{client_id}/telemetry', 't1') // 'home/t1/telemetry'
 */
export function expandFilter(filter: string, clientId: string): string {
  if (!CLIENT_ID_PATTERN.test(clientId)) throw new TypeError('client id does not match ^[A-Za-z0-9._-]{1,64}$');
  if (!filter.includes(CLIENT_ID_PLACEHOLDER)) return filter;
  return filter
    .split('/')
    .map((level) => (level === CLIENT_ID_PLACEHOLDER ? clientId : level))
    .join('/');
}

/**
 * Whether holding `held` grants everything `requested` asks for, for the
 * client `clientId`: same action and a containing filter, or admin:write
 * for admin:read.
 *
 * @example
 * scopeCovers(parseScope('mqtt:subscribe:home/#'), parseScope('mqtt:subscribe:home/{client_id}/x'), 't1') // true
 */
export function scopeCovers(held: Scope, requested: Scope, clientId: string): boolean {
  if (held.kind === 'admin') {
    return requested.kind === 'admin' && (held.access === requested.access || held.access === 'write');
  }
  if (held.kind === 'provision') return requested.kind === 'provision' && held.template === requested.template;
  if (requested.kind !== 'mqtt' || held.action !== requested.action) return false;
  return filterContains(expandFilter(held.filter, clientId), expandFilter(requested.filter, clientId));
}

/**
 * The requested scopes that no held scope covers; empty means the request
 * is a permitted subset (docs/INTERFACE.md#scopes, else `invalid_scope`).
 *
 * @example
 * missingScopes(parseScopeString('mqtt:publish:a/#'), parseScopeString('mqtt:publish:a/b admin:read'), 'c1')
 * // [{ kind: 'admin', access: 'read', raw: 'admin:read' }]
 */
export function missingScopes(held: readonly Scope[], requested: readonly Scope[], clientId: string): Scope[] {
  return requested.filter((r) => !held.some((h) => scopeCovers(h, r, clientId)));
}

/**
 * Whether `scopes` let their holder mint onboarding claims for `template`
 * (`provision:<template>`, exactly that name).
 *
 * @example
 * mayProvision(parseScopeString('provision:thermostat'), 'thermostat') // true
 * mayProvision(parseScopeString('provision:thermostat'), 'camera')     // false
 */
export function mayProvision(scopes: readonly Scope[], template: string): boolean {
  return scopes.some((s) => s.kind === 'provision' && s.template === template);
}
