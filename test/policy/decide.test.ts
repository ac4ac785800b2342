import { describe, expect, it } from 'vitest';
import { compilePolicy, decide, hasAdmin, type Decision } from '../../src/policy/decide.js';
import { parseScopeString, type MqttAction } from '../../src/policy/scope.js';

const THERMOSTAT = 'mqtt:publish:home/{client_id}/telemetry mqtt:subscribe:home/{client_id}/setpoint';
const HUB = 'mqtt:subscribe:home/+/telemetry mqtt:publish:home/+/setpoint';

const policies = {
  t1: compilePolicy('t1', parseScopeString(THERMOSTAT)),
  hub: compilePolicy('hub', parseScopeString(HUB)),
  sysWriter: compilePolicy('ops', parseScopeString('mqtt:publish:$SYS/# mqtt:publish:# mqtt:subscribe:#')),
  sysReader: compilePolicy('mon', parseScopeString('mqtt:subscribe:$SYS/#')),
  everything: compilePolicy('root', parseScopeString('mqtt:publish:# mqtt:subscribe:# admin:write')),
  admin: compilePolicy('adm', parseScopeString('admin:write admin:read')),
  authScoped: compilePolicy('t1', parseScopeString('mqtt:publish:$auth/# mqtt:subscribe:$auth/#')),
  dev: compilePolicy('d', parseScopeString('mqtt:publish:dev/1/#')),
  none: compilePolicy('t1', []),
  provisionScoped: compilePolicy('t1', parseScopeString('mqtt:subscribe:$provision/# mqtt:publish:$provision/#')),
};
type Who = keyof typeof policies;

const allow = (scope: string | null, reason = `allowed by ${scope}`): Decision => ({ allow: true, reason, scope });
const deny = (reason: string): Decision => ({ allow: false, reason, scope: null });
const OWN_AUTH_PUB = allow(null, 'built-in: own $auth request topic');
const OWN_AUTH_SUB = allow(null, 'built-in: own $auth topics');

const rows: Array<[name: string, who: Who, action: MqttAction, topic: string, expected: Decision]> = [
  // The hub/thermostat example.
  ['allow/own-telemetry', 't1', 'publish', 'home/t1/telemetry', allow('mqtt:publish:home/{client_id}/telemetry')],
  ['allow/own-setpoint-subscription', 't1', 'subscribe', 'home/t1/setpoint', allow('mqtt:subscribe:home/{client_id}/setpoint')],
  ['deny/other-thermostat-telemetry', 't1', 'publish', 'home/t2/telemetry', deny('no mqtt:publish scope matches home/t2/telemetry')],
  ['deny/other-thermostat-setpoint', 't1', 'subscribe', 'home/t2/setpoint', deny('no mqtt:subscribe scope covers home/t2/setpoint')],
  ['deny/thermostat-publish-setpoint', 't1', 'publish', 'home/t1/setpoint', deny('no mqtt:publish scope matches home/t1/setpoint')],
  ['deny/thermostat-wildcard-setpoints', 't1', 'subscribe', 'home/+/setpoint', deny('no mqtt:subscribe scope covers home/+/setpoint')],
  ['deny/thermostat-subscribe-telemetry', 't1', 'subscribe', 'home/t1/telemetry', deny('no mqtt:subscribe scope covers home/t1/telemetry')],
  ['allow/hub-all-telemetry', 'hub', 'subscribe', 'home/+/telemetry', allow('mqtt:subscribe:home/+/telemetry')],
  ['allow/hub-one-telemetry', 'hub', 'subscribe', 'home/t1/telemetry', allow('mqtt:subscribe:home/+/telemetry')],
  ['deny/hub-home-hash', 'hub', 'subscribe', 'home/#', deny('no mqtt:subscribe scope covers home/#')],
  ['deny/hub-all', 'hub', 'subscribe', '#', deny('no mqtt:subscribe scope covers #')],
  ['allow/hub-setpoint', 'hub', 'publish', 'home/t2/setpoint', allow('mqtt:publish:home/+/setpoint')],
  ['deny/hub-publish-telemetry', 'hub', 'publish', 'home/t2/telemetry', deny('no mqtt:publish scope matches home/t2/telemetry')],
  ['deny/hub-setpoint-deeper', 'hub', 'publish', 'home/t2/setpoint/x', deny('no mqtt:publish scope matches home/t2/setpoint/x')],
  ['allow/hub-setpoint-empty-level', 'hub', 'publish', 'home//setpoint', allow('mqtt:publish:home/+/setpoint')],
  ['deny/no-scopes', 'none', 'publish', 'a', deny('no mqtt:publish scope matches a')],

  // Invalid input.
  ['deny/publish-wildcard', 'everything', 'publish', 'home/+/x', deny('invalid topic: wildcard in topic name')],
  ['deny/publish-empty', 'everything', 'publish', '', deny('invalid topic: empty')],
  ['deny/publish-null', 'everything', 'publish', 'a\u0000b', deny('invalid topic: null character')],
  ['deny/publish-too-many-levels', 'everything', 'publish', 'a/'.repeat(32) + 'a', deny('invalid topic: too many levels')],
  ['deny/publish-too-long', 'everything', 'publish', 'x'.repeat(65536), deny('invalid topic: too long')],
  ['deny/subscribe-hash-not-last', 'everything', 'subscribe', 'a/#/b', deny("invalid filter: '#' must be the last level")],
  ['deny/subscribe-plus-not-whole', 'everything', 'subscribe', 'a+/b', deny("invalid filter: '+' must be a whole level")],
  ['deny/subscribe-null', 'everything', 'subscribe', 'a/\u0000', deny('invalid filter: null character')],
  ['deny/subscribe-empty', 'everything', 'subscribe', '', deny('invalid filter: empty')],

  // Empty levels are levels.
  ['allow/everything-empty-levels', 'everything', 'publish', '/a//', allow('mqtt:publish:#')],
  ['allow/everything-trailing-slash', 'everything', 'subscribe', 'a/', allow('mqtt:subscribe:#')],

  // $SYS.
  ['deny/sys-publish-even-with-scope', 'sysWriter', 'publish', '$SYS/broker/uptime', deny('publishing to $SYS is reserved for the broker')],
  ['deny/sys-publish-bare', 'sysWriter', 'publish', '$SYS', deny('publishing to $SYS is reserved for the broker')],
  ['deny/sys-subscribe-via-hash', 'everything', 'subscribe', '$SYS/#', deny('no mqtt:subscribe scope covers $SYS/#')],
  ['allow/sys-subscribe-explicit', 'sysReader', 'subscribe', '$SYS/#', allow('mqtt:subscribe:$SYS/#')],
  ['allow/sys-subscribe-narrower', 'sysReader', 'subscribe', '$SYS/broker/+', allow('mqtt:subscribe:$SYS/#')],
  ['deny/sys-reader-not-others', 'sysReader', 'subscribe', '#', deny('no mqtt:subscribe scope covers #')],
  ['deny/hash-not-dollar-topic', 'everything', 'publish', '$other/x', deny('no mqtt:publish scope matches $other/x')],

  // $share.
  ['allow/shared-judged-on-filter', 'hub', 'subscribe', '$share/g/home/+/telemetry', allow('mqtt:subscribe:home/+/telemetry', 'shared subscription judged on its filter: allowed by mqtt:subscribe:home/+/telemetry')],
  ['deny/shared-too-wide', 'hub', 'subscribe', '$share/g/home/#', deny('shared subscription judged on its filter: no mqtt:subscribe scope covers home/#')],
  ['deny/shared-empty-group', 'everything', 'subscribe', '$share//a', deny('malformed shared subscription: shared subscription with an empty group')],
  ['deny/shared-no-filter', 'everything', 'subscribe', '$share/g', deny('malformed shared subscription: shared subscription without a filter')],
  ['deny/shared-empty-filter', 'everything', 'subscribe', '$share/g/', deny('malformed shared subscription: shared subscription without a filter')],
  ['deny/shared-wildcard-group', 'everything', 'subscribe', '$share/+/a', deny('malformed shared subscription: shared subscription group contains a wildcard')],
  ['deny/shared-not-literal-topic', 'everything', 'subscribe', '$share/g/$SYS/#', deny('shared subscription judged on its filter: no mqtt:subscribe scope covers $SYS/#')],
  ['deny/shared-other-auth', 'everything', 'subscribe', '$share/g/$auth/t2/#', deny('shared subscription judged on its filter: $auth topics of another client')],
  ['deny/publish-to-share', 'everything', 'publish', '$share/g/a', deny('publishing to $share/ is not allowed: it is a shared subscription prefix')],

  // $auth.
  ['allow/own-token-request', 'none', 'publish', '$auth/t1/token/request', OWN_AUTH_PUB],
  ['allow/own-reauth', 'none', 'publish', '$auth/t1/reauth', OWN_AUTH_PUB],
  ['allow/own-claim-request', 'none', 'publish', '$auth/t1/claim/request', OWN_AUTH_PUB],
  ['allow/own-cert-renew', 'none', 'publish', '$auth/t1/cert/renew', OWN_AUTH_PUB],
  ['deny/own-claim-response', 'none', 'publish', '$auth/t1/claim/response', deny('$auth topics other than token/request, reauth, claim/request and cert/renew are written by the broker')],
  ['deny/own-cert-renew-response', 'none', 'publish', '$auth/t1/cert/renew/response', deny('$auth topics other than token/request, reauth, claim/request and cert/renew are written by the broker')],
  ['deny/other-claim-request', 'authScoped', 'publish', '$auth/t2/claim/request', deny('$auth topics of another client')],

  // $provision is only for provisioning sessions (their own jail), whatever a scope says.
  ['deny/provision-publish-with-scope', 'everything', 'publish', '$provision/t1/csr', deny('$provision topics are reserved for provisioning sessions')],
  ['deny/provision-subscribe-with-scope', 'provisionScoped', 'subscribe', '$provision/#', deny('$provision topics are reserved for provisioning sessions')],
  ['deny/provision-subscribe-own-id', 'provisionScoped', 'subscribe', '$provision/t1/csr/response', deny('$provision topics are reserved for provisioning sessions')],
  ['deny/provision-shared', 'provisionScoped', 'subscribe', '$share/g/$provision/#', deny('shared subscription judged on its filter: $provision topics are reserved for provisioning sessions')],
  ['deny/provision-via-hash', 'everything', 'subscribe', '#', allow('mqtt:subscribe:#')], // '#' never reaches '$provision' [MQTT-4.7.2-1]
  ['deny/own-token-response', 'authScoped', 'publish', '$auth/t1/token/response', deny('$auth topics other than token/request, reauth, claim/request and cert/renew are written by the broker')],
  ['deny/own-expiring', 'everything', 'publish', '$auth/root/expiring', deny('$auth topics other than token/request, reauth, claim/request and cert/renew are written by the broker')],
  ['deny/own-reauth-deeper', 'none', 'publish', '$auth/t1/reauth/response', deny('$auth topics other than token/request, reauth, claim/request and cert/renew are written by the broker')],
  ['deny/other-token-request', 'authScoped', 'publish', '$auth/t2/token/request', deny('$auth topics of another client')],
  ['deny/auth-bare-publish', 'authScoped', 'publish', '$auth', deny('$auth topics of another client')],
  ['allow/own-auth-all', 'none', 'subscribe', '$auth/t1/#', OWN_AUTH_SUB],
  ['allow/own-auth-response', 'none', 'subscribe', '$auth/t1/token/response', OWN_AUTH_SUB],
  ['allow/own-auth-plus', 'none', 'subscribe', '$auth/t1/+', OWN_AUTH_SUB],
  ['deny/other-auth', 'authScoped', 'subscribe', '$auth/t2/#', deny('$auth topics of another client')],
  ['deny/all-auth', 'authScoped', 'subscribe', '$auth/#', deny('$auth topics of another client')],
  ['deny/auth-plus-id', 'authScoped', 'subscribe', '$auth/+/token/response', deny('$auth topics of another client')],
  ['deny/auth-bare-subscribe', 'authScoped', 'subscribe', '$auth', deny('$auth topics of another client')],
  ['allow/plus-first-never-reaches-auth', 'everything', 'subscribe', '+/t1/#', allow('mqtt:subscribe:#')], // [MQTT-4.7.2-1]

  // Prefixes are not levels.
  ['deny/dev-1-not-dev-10', 'dev', 'publish', 'dev/10/x', deny('no mqtt:publish scope matches dev/10/x')],

  // Admin scopes never grant MQTT.
  ['deny/admin-no-publish', 'admin', 'publish', 'a', deny('no mqtt:publish scope matches a')],
  ['deny/admin-no-subscribe', 'admin', 'subscribe', 'a', deny('no mqtt:subscribe scope covers a')],
];

describe('decide', () => {
  it.each(rows)('%s', (_name, who, action, topic, expected) => {
    expect(decide(policies[who], action, topic)).toEqual(expected);
  });

  it('allow/dev-1-hash-and-not-dev-10', () => {
    const p = compilePolicy('d', parseScopeString('mqtt:publish:dev/1/# mqtt:subscribe:dev/1/#'));
    expect(decide(p, 'publish', 'dev/1').allow).toBe(true);
    expect(decide(p, 'publish', 'dev/1/x/y').allow).toBe(true);
    expect(decide(p, 'publish', 'dev/10/x').allow).toBe(false);
    expect(decide(p, 'subscribe', 'dev/1/+').allow).toBe(true);
    expect(decide(p, 'subscribe', 'dev/+/x').allow).toBe(false);
  });

  it('limits/custom', () => {
    expect(decide(policies.everything, 'publish', 'a/b/c', { maxLevels: 2, maxBytes: 100 })).toEqual(
      deny('invalid topic: too many levels'),
    );
    expect(decide(policies.everything, 'subscribe', 'a/b/#', { maxLevels: 2, maxBytes: 100 })).toEqual(
      deny('invalid filter: too many levels'),
    );
  });

  it('first-matching-scope/reported', () => {
    const p = compilePolicy('c', parseScopeString('mqtt:publish:a/b mqtt:publish:a/#'));
    expect(decide(p, 'publish', 'a/b').scope).toBe('mqtt:publish:a/b');
    expect(decide(p, 'publish', 'a/c').scope).toBe('mqtt:publish:a/#');
  });

  it('compile/rejects-unsafe-principal', () => {
    expect(() => compilePolicy('a/b', [])).toThrow(TypeError);
    expect(() => compilePolicy('alice@laptop', [])).toThrow(TypeError);
  });

  it('compile/is-frozen', () => {
    expect(Object.isFrozen(policies.t1)).toBe(true);
    expect(policies.t1.principalId).toBe('t1');
  });
});

describe('hasAdmin', () => {
  const rows: Array<[name: string, scopes: string, access: 'read' | 'write', expected: boolean]> = [
    ['allow/read-with-read', 'admin:read', 'read', true],
    ['allow/read-with-write', 'admin:write', 'read', true],
    ['allow/write-with-write', 'admin:write', 'write', true],
    ['deny/write-with-read', 'admin:read', 'write', false],
    ['deny/mqtt-hash-is-not-admin', 'mqtt:publish:# mqtt:subscribe:#', 'read', false],
    ['deny/none', '', 'read', false],
  ];
  it.each(rows)('%s', (_name, scopes, access, expected) => {
    expect(hasAdmin(parseScopeString(scopes), access)).toBe(expected);
  });
});
