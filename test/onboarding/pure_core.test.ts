/** The pure core of onboarding: decisions and formats, table-driven. */
import { describe, expect, it } from 'vitest';
import { claimStatus, claimTerms, HUB_CLAIM_LIMITS, OPERATOR_CLAIM_LIMITS } from '../../src/onboarding/claims.js';
import { formatOnboarding, parseOnboarding } from '../../src/onboarding/onboarding_string.js';
import { decideProvision, type ProvisionKind } from '../../src/onboarding/provision.js';
import { hostPort, publicHost } from '../../src/onboarding/public_endpoint.js';
import { validateTemplate } from '../../src/onboarding/templates.js';
import type { ClaimRecord } from '../../src/store/claims.js';
import type { TemplateRecord } from '../../src/store/templates.js';

const NOW = 1_800_000_000_000;
const template: TemplateRecord = { name: 'thermostat', scope: 'mqtt:publish:home/{client_id}/telemetry', idPrefix: 'th-', certDays: 90, auth: 'cert', createdAt: 0 };
const secretTemplate: TemplateRecord = { ...template, name: 'sensor', idPrefix: '', auth: 'secret' };
const claim = (over: Partial<ClaimRecord> = {}): ClaimRecord => ({
  id: 'clm_1', template: 'thermostat', hash: Buffer.alloc(32), last4: 'abcd', uses: 1, used: 0, expiresAt: NOW + 60_000, createdAt: NOW - 1000, createdBy: 'cli', revokedAt: null, ...over,
});

describe('decideProvision', () => {
  const rows: Array<[name: string, c: ClaimRecord | undefined, t: TemplateRecord | undefined, id: string, kind: ProvisionKind, taken: boolean, expected: string]> = [
    ['allow/cert', claim(), template, 'th-1', 'csr', false, 'ok'],
    ['allow/secret', claim({ template: 'sensor' }), secretTemplate, 'anything', 'register', false, 'ok'],
    ['deny/unknown-claim', undefined, template, 'th-1', 'csr', false, 'invalid_claim'],
    ['deny/expired', claim({ expiresAt: NOW }), template, 'th-1', 'csr', false, 'invalid_claim'],
    ['deny/revoked', claim({ revokedAt: NOW - 1 }), template, 'th-1', 'csr', false, 'invalid_claim'],
    ['deny/used-up', claim({ used: 1 }), template, 'th-1', 'csr', false, 'invalid_claim'],
    ['deny/template-gone', claim(), undefined, 'th-1', 'csr', false, 'invalid_claim'],
    ['deny/outside-prefix', claim(), template, 'cam-1', 'csr', false, 'invalid_client_id'],
    ['deny/prefix-alone', claim(), template, 'th-', 'csr', false, 'invalid_client_id'],
    ['deny/not-an-id', claim(), template, 'th-1/x', 'csr', false, 'invalid_client_id'],
    ['deny/wildcard-id', claim(), template, 'th-+', 'csr', false, 'invalid_client_id'],
    ['deny/taken', claim(), template, 'th-1', 'csr', true, 'client_id_taken'],
    ['deny/register-on-cert-template', claim(), template, 'th-1', 'register', false, 'unsupported_request'],
    ['deny/csr-on-secret-template', claim({ template: 'sensor' }), secretTemplate, 's1', 'csr', false, 'unsupported_request'],
  ];
  it.each(rows)('%s', (_name, c, t, id, kind, taken, expected) => {
    const decision = decideProvision({ claim: c, template: t, clientId: id, kind, idTaken: taken, now: NOW });
    expect(decision.ok ? 'ok' : decision.code).toBe(expected);
  });

  it('plans the template\'s scopes and method, and the hub that vouched', () => {
    expect(decideProvision({ claim: claim({ createdBy: 'client:hub-1' }), template, clientId: 'th-9', kind: 'csr', idTaken: false, now: NOW })).toEqual({
      ok: true, clientId: 'th-9', template: 'thermostat', claimId: 'clm_1', scope: template.scope, authMethod: 'tls_client_auth', certDays: 90, provisionedBy: 'hub-1',
    });
  });
});

describe('claims', () => {
  it.each([
    ['hub/defaults', {}, HUB_CLAIM_LIMITS, { uses: 1, expiresIn: 900 }],
    ['hub/max', { uses: 10, expiresIn: 900 }, HUB_CLAIM_LIMITS, { uses: 10, expiresIn: 900 }],
    ['operator/batch', { uses: 500, expiresIn: 7 * 86_400 }, OPERATOR_CLAIM_LIMITS, { uses: 500, expiresIn: 604_800 }],
  ] as const)('%s', (_name, ask, limits, expected) => {
    expect(claimTerms(ask, limits)).toEqual(expected);
  });

  it.each([
    ['hub/too-many-uses', { uses: 11 }],
    ['hub/too-long', { expiresIn: 901 }],
    ['hub/zero-uses', { uses: 0 }],
    ['hub/fraction', { uses: 1.5 }],
    ['hub/string', { uses: '2' }],
    ['hub/negative-lifetime', { expiresIn: -1 }],
  ] as const)('refuses %s', (_name, ask) => {
    expect(() => claimTerms(ask, HUB_CLAIM_LIMITS)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });

  it('status: revoked, then used up, then expired', () => {
    expect(claimStatus(claim({ revokedAt: 1, used: 1, expiresAt: 0 }), NOW)).toBe('revoked');
    expect(claimStatus(claim({ used: 1, expiresAt: 0 }), NOW)).toBe('used');
    expect(claimStatus(claim({ expiresAt: NOW }), NOW)).toBe('expired');
    expect(claimStatus(claim(), NOW)).toBe('active');
  });
});

describe('templates', () => {
  it('normalises scopes and applies defaults', () => {
    expect(validateTemplate({ name: 't', scope: 'mqtt:publish:a  mqtt:publish:a' })).toEqual({ name: 't', scope: 'mqtt:publish:a', idPrefix: '', certDays: 365, auth: 'cert' });
  });
  it.each([
    ['bad-name', { name: 'a b', scope: 'mqtt:publish:a' }, 'invalid_id'],
    ['no-scope', { name: 't', scope: '  ' }, 'invalid_scope'],
    ['admin-scope', { name: 't', scope: 'mqtt:publish:a admin:read' }, 'invalid_scope'],
    ['provision-scope', { name: 't', scope: 'provision:t' }, 'invalid_scope'],
    ['bad-prefix', { name: 't', scope: 'mqtt:publish:a', idPrefix: 'a+' }, 'invalid_argument'],
    ['long-prefix', { name: 't', scope: 'mqtt:publish:a', idPrefix: 'a'.repeat(33) }, 'invalid_argument'],
    ['days', { name: 't', scope: 'mqtt:publish:a', certDays: 3651 }, 'invalid_argument'],
    ['auth', { name: 't', scope: 'mqtt:publish:a', auth: 'password' }, 'invalid_argument'],
  ] as const)('refuses %s', (_name, input, code) => {
    expect(() => validateTemplate(input)).toThrow(expect.objectContaining({ code }));
  });
});

describe('onboarding string', () => {
  const o = { mqtts: 'hub.local:8883', https: 'https://hub.local:8443', caSha256: 'ab'.repeat(32), claim: 'lk_clm_x' };
  it('round-trips', () => {
    const text = formatOnboarding(o);
    expect(text).toBe(`latchkey://onboard?mqtts=hub.local%3A8883&https=https%3A%2F%2Fhub.local%3A8443&ca_sha256=${'ab'.repeat(32)}&claim=lk_clm_x`);
    expect(parseOnboarding(text)).toEqual(o);
  });
  it.each([
    ['other scheme', formatOnboarding(o).replace('latchkey://', 'https://')],
    ['short fingerprint', formatOnboarding({ ...o, caSha256: 'ab' })],
    ['http', formatOnboarding({ ...o, https: 'http://hub.local:8080' })],
    ['no port', formatOnboarding({ ...o, mqtts: 'hub.local' })],
    ['no claim', formatOnboarding(o).replace(/&claim=.*/, '')],
  ])('refuses %s', (_name, text) => {
    expect(parseOnboarding(text)).toBeNull();
  });
  it('names the public host: flag, then a non-wildcard --host, then the first TLS name', () => {
    expect(publicHost({ host: '0.0.0.0', publicHost: 'iot.example' }, ['localhost'])).toBe('iot.example');
    expect(publicHost({ host: '192.168.1.5' }, ['localhost'])).toBe('192.168.1.5');
    expect(publicHost({ host: '0.0.0.0' }, ['hub.local', 'localhost'])).toBe('hub.local');
    expect(publicHost({ host: '::' }, [])).toBe('localhost');
    expect(hostPort('::1', 8883)).toBe('[::1]:8883');
  });
});
