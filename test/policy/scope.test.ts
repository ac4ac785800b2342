import { describe, expect, it } from 'vitest';
import {
  CLIENT_ID_PATTERN,
  mayProvision,
  expandFilter,
  formatScopes,
  missingScopes,
  parseScope,
  parseScopeString,
  scopeCovers,
  ScopeError,
  type Scope,
} from '../../src/policy/scope.js';

describe('parseScope', () => {
  const ok: Array<[name: string, raw: string, expected: Scope]> = [
    [
      'ok/publish-template',
      'mqtt:publish:home/{client_id}/telemetry',
      { kind: 'mqtt', action: 'publish', filter: 'home/{client_id}/telemetry', raw: 'mqtt:publish:home/{client_id}/telemetry' },
    ],
    [
      'ok/subscribe-plus',
      'mqtt:subscribe:home/+/telemetry',
      { kind: 'mqtt', action: 'subscribe', filter: 'home/+/telemetry', raw: 'mqtt:subscribe:home/+/telemetry' },
    ],
    ['ok/subscribe-hash', 'mqtt:subscribe:#', { kind: 'mqtt', action: 'subscribe', filter: '#', raw: 'mqtt:subscribe:#' }],
    [
      'ok/subscribe-sys',
      'mqtt:subscribe:$SYS/#',
      { kind: 'mqtt', action: 'subscribe', filter: '$SYS/#', raw: 'mqtt:subscribe:$SYS/#' },
    ],
    [
      'ok/filter-with-colon',
      'mqtt:publish:a:b/c',
      { kind: 'mqtt', action: 'publish', filter: 'a:b/c', raw: 'mqtt:publish:a:b/c' },
    ],
    ['ok/empty-levels', 'mqtt:publish:/a//', { kind: 'mqtt', action: 'publish', filter: '/a//', raw: 'mqtt:publish:/a//' }],
    ['ok/admin-read', 'admin:read', { kind: 'admin', access: 'read', raw: 'admin:read' }],
    ['ok/admin-write', 'admin:write', { kind: 'admin', access: 'write', raw: 'admin:write' }],
    ['ok/provision', 'provision:thermostat', { kind: 'provision', template: 'thermostat', raw: 'provision:thermostat' }],
    ['ok/provision-dotted', 'provision:cam.v2_a-b', { kind: 'provision', template: 'cam.v2_a-b', raw: 'provision:cam.v2_a-b' }],
  ];
  it.each(ok)('%s', (_name, raw, expected) => {
    expect(parseScope(raw)).toEqual(expected);
  });

  const bad: Array<[name: string, raw: string, message: RegExp]> = [
    ['bad/empty', '', /empty scope/],
    ['bad/provision-empty', 'provision:', /template name/],
    ['bad/provision-wildcard', 'provision:*', /template name/],
    ['bad/provision-plus', 'provision:+', /template name/],
    ['bad/provision-slash', 'provision:a/b', /template name/],
    ['bad/provision-placeholder', 'provision:{client_id}', /template name/],
    ['bad/provision-case', 'Provision:x', /expected mqtt:publish/],
    ['bad/unknown-prefix', 'mqtt:read:a/b', /expected mqtt:publish/],
    ['bad/unknown-kind', 'openid', /expected mqtt:publish/],
    ['bad/admin-other', 'admin:delete', /expected mqtt:publish/],
    ['bad/case', 'MQTT:publish:a', /expected mqtt:publish/],
    ['bad/empty-filter', 'mqtt:publish:', /bad topic filter: empty/],
    ['bad/hash-not-last', 'mqtt:subscribe:a/#/b', /'#' must be the last level/],
    ['bad/plus-not-whole', 'mqtt:subscribe:a+/b', /'\+' must be a whole level/],
    ['bad/template-not-whole-level', 'mqtt:publish:home/x{client_id}/t', /'\{client_id\}' must be a whole topic level/],
    ['bad/template-suffix', 'mqtt:publish:home/{client_id}-a', /'\{client_id\}' must be a whole topic level/],
    ['bad/unknown-placeholder', 'mqtt:publish:home/{device}/t', /only placeholder/],
    ['bad/space', 'mqtt:publish:a b', /not allowed/],
    ['bad/null', 'mqtt:publish:a\u0000', /not allowed/],
    ['bad/quote', 'mqtt:publish:a"b', /not allowed/],
    ['bad/backslash', 'mqtt:publish:a\\b', /not allowed/],
    ['bad/non-ascii', 'mqtt:publish:café', /not allowed/],
    ['bad/shared', 'mqtt:subscribe:$share/g/a', /not a '\$share\/' form/],
    ['bad/shared-bare', 'mqtt:subscribe:$share', /not a '\$share\/' form/],
  ];
  it.each(bad)('%s', (_name, raw, message) => {
    let caught: unknown;
    try {
      parseScope(raw);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ScopeError);
    expect((caught as ScopeError).code).toBe('invalid_scope');
    expect((caught as ScopeError).message).toMatch(message);
  });
});

describe('parseScopeString and formatScopes', () => {
  it('empty/string', () => expect(parseScopeString('')).toEqual([]));
  it('empty/whitespace', () => expect(parseScopeString('   ')).toEqual([]));
  it('split/collapses-whitespace', () => {
    const scopes = parseScopeString('  admin:read   mqtt:publish:a/b\tmqtt:subscribe:a/# ');
    expect(scopes.map((s) => s.raw)).toEqual(['admin:read', 'mqtt:publish:a/b', 'mqtt:subscribe:a/#']);
  });
  it('split/dedupes-keeping-first', () => {
    expect(formatScopes(parseScopeString('admin:read mqtt:publish:x admin:read mqtt:publish:x'))).toBe(
      'admin:read mqtt:publish:x',
    );
  });
  it('split/one-bad-token-fails-all', () => {
    expect(() => parseScopeString('admin:read bogus')).toThrow(ScopeError);
  });
  it('format/round-trip', () => {
    const s = 'mqtt:publish:home/{client_id}/telemetry mqtt:subscribe:home/{client_id}/setpoint';
    expect(formatScopes(parseScopeString(s))).toBe(s);
  });
});

describe('expandFilter', () => {
  const rows: Array<[name: string, filter: string, id: string, expected: string]> = [
    ['expand/middle', 'home/{client_id}/telemetry', 't1', 'home/t1/telemetry'],
    ['expand/first', '{client_id}/#', 'dev.1_a-b', 'dev.1_a-b/#'],
    ['expand/twice', '{client_id}/x/{client_id}', 'c', 'c/x/c'],
    ['expand/none', 'home/+/telemetry', 't1', 'home/+/telemetry'],
    ['expand/not-a-level', 'a/{client_id}x', 't1', 'a/{client_id}x'],
  ];
  it.each(rows)('%s', (_name, filter, id, expected) => {
    expect(expandFilter(filter, id)).toBe(expected);
  });

  const badIds: Array<[name: string, id: string]> = [
    ['bad-id/slash', 'a/b'],
    ['bad-id/plus', '+'],
    ['bad-id/hash', '#'],
    ['bad-id/empty', ''],
    ['bad-id/too-long', 'a'.repeat(65)],
    ['bad-id/dollar', '$SYS'],
  ];
  it.each(badIds)('%s', (_name, id) => {
    expect(CLIENT_ID_PATTERN.test(id)).toBe(false);
    expect(() => expandFilter('home/{client_id}/t', id)).toThrow(TypeError);
  });
});

describe('scopeCovers and missingScopes', () => {
  const rows: Array<[name: string, held: string, requested: string, id: string, expected: boolean]> = [
    ['covers/same', 'mqtt:publish:a/b', 'mqtt:publish:a/b', 'c', true],
    ['covers/wider-held', 'mqtt:subscribe:home/#', 'mqtt:subscribe:home/+/telemetry', 'c', true],
    ['covers/template-held-literal-requested', 'mqtt:publish:home/{client_id}/t', 'mqtt:publish:home/t1/t', 't1', true],
    ['covers/template-both', 'mqtt:publish:home/{client_id}/#', 'mqtt:publish:home/{client_id}/t', 't1', true],
    ['covers/literal-held-template-requested', 'mqtt:publish:home/t1/t', 'mqtt:publish:home/{client_id}/t', 't1', true],
    ['not/other-client', 'mqtt:publish:home/{client_id}/t', 'mqtt:publish:home/t2/t', 't1', false],
    ['not/narrow-held', 'mqtt:subscribe:home/+/telemetry', 'mqtt:subscribe:home/#', 'c', false],
    ['not/action-differs', 'mqtt:subscribe:#', 'mqtt:publish:a', 'c', false],
    ['not/hash-does-not-cover-sys', 'mqtt:subscribe:#', 'mqtt:subscribe:$SYS/#', 'c', false],
    ['covers/admin-write-read', 'admin:write', 'admin:read', 'c', true],
    ['covers/admin-same', 'admin:read', 'admin:read', 'c', true],
    ['not/admin-read-write', 'admin:read', 'admin:write', 'c', false],
    ['not/admin-for-mqtt', 'admin:write', 'mqtt:publish:a', 'c', false],
    ['not/mqtt-for-admin', 'mqtt:publish:#', 'admin:read', 'c', false],
  ];
  it.each(rows)('%s', (_name, held, requested, id, expected) => {
    expect(scopeCovers(parseScope(held), parseScope(requested), id)).toBe(expected);
  });

  it('subset/allowed', () => {
    const held = parseScopeString('mqtt:publish:home/{client_id}/# mqtt:subscribe:home/+/setpoint admin:write');
    const requested = parseScopeString('mqtt:publish:home/t1/telemetry mqtt:subscribe:home/t1/setpoint admin:read');
    expect(missingScopes(held, requested, 't1')).toEqual([]);
  });
  it('subset/reports-missing', () => {
    const held = parseScopeString('mqtt:publish:home/{client_id}/#');
    const requested = parseScopeString('mqtt:publish:home/t1/x mqtt:publish:home/t2/x admin:read');
    expect(formatScopes(missingScopes(held, requested, 't1'))).toBe('mqtt:publish:home/t2/x admin:read');
  });
  it('subset/empty-request', () => {
    expect(missingScopes(parseScopeString('admin:read'), [], 'c')).toEqual([]);
  });
});

describe('provision:<template>', () => {
  const rows: Array<[name: string, held: string, template: string, expected: boolean]> = [
    ['allow/exact-template', 'provision:thermostat', 'thermostat', true],
    ['allow/one-of-several', 'mqtt:subscribe:a/# provision:camera provision:thermostat', 'thermostat', true],
    ['deny/other-template', 'provision:camera', 'thermostat', false],
    ['deny/prefix-is-not-a-template', 'provision:thermo', 'thermostat', false],
    ['deny/admin-write-is-not-provision', 'admin:write mqtt:publish:#', 'thermostat', false],
    ['deny/none', '', 'thermostat', false],
  ];
  it.each(rows)('%s', (_name, held, template, expected) => {
    expect(mayProvision(parseScopeString(held), template)).toBe(expected);
  });

  it('covers only the same template in a token request, and never MQTT or admin', () => {
    const held = parseScopeString('provision:thermostat');
    expect(missingScopes(held, parseScopeString('provision:thermostat'), 'hub')).toEqual([]);
    expect(missingScopes(held, parseScopeString('provision:camera'), 'hub').map((s) => s.raw)).toEqual(['provision:camera']);
    expect(missingScopes(parseScopeString('admin:write mqtt:publish:#'), held, 'hub').map((s) => s.raw)).toEqual(['provision:thermostat']);
    expect(missingScopes(held, parseScopeString('admin:read mqtt:publish:a'), 'hub')).toHaveLength(2);
  });
});
