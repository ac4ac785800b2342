/**
 * Templates and claims over the admin API: the same registries and audit
 * events as `latchkey template|claim`, admin:read to look, admin:write to
 * change, the claim secret (and its QR code) in the create answer only.
 */
import { rmSync } from 'node:fs';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOnboarding } from '../../src/onboarding/onboarding_string.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/latchkey.js';

const SCOPE = 'mqtt:publish:home/{client_id}/telemetry';

let t: TestServer;
let reader: string; // PAT with admin:read
let writer: string; // API key with admin:write

beforeAll(async () => {
  t = await startTestServer();
  const { users, pats, apiKeys } = t.server.people;
  users.create({ name: 'olivia', scope: 'admin:write' }, 'test');
  reader = pats.create({ user: 'olivia', name: 'read', scope: 'admin:read' }, 'test').token;
  writer = apiKeys.create({ name: 'installer', scope: 'admin:write' }, 'test').key;
});
afterAll(() => t.close());

interface Answer {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON of many shapes
  text: string;
}

async function call(method: string, path: string, token: string | null, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${t.baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null, text };
}

function lastAudit(event: string): { principal: string | null; reason: string | null; detail: Record<string, unknown> } | undefined {
  t.server.audit.flush();
  return t.auditEvents({ event, limit: 1 })[0] as never;
}

describe('templates over the admin API', () => {
  it('create, show, list and delete, audited with the caller as actor', async () => {
    const created = await call('POST', '/admin/templates', writer, { name: 'thermostat', scope: SCOPE, id_prefix: 'th-', cert_days: 90 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'thermostat', scope: SCOPE, id_prefix: 'th-', cert_days: 90, auth: 'cert', created_at: expect.any(String) });
    expect(t.server.store.templates.get('thermostat')).toMatchObject({ scope: SCOPE, idPrefix: 'th-', certDays: 90 });
    expect(lastAudit('template.created')?.detail).toMatchObject({ actor: 'admin:installer', template: 'thermostat' });

    const defaults = await call('POST', '/admin/templates', writer, { name: 'sensor', scope: 'mqtt:publish:s/{client_id}' });
    expect(defaults.body).toMatchObject({ id_prefix: '', cert_days: 365, auth: 'cert' });

    expect((await call('GET', '/admin/templates/thermostat', reader)).body).toMatchObject({ name: 'thermostat', id_prefix: 'th-' });
    const list = await call('GET', '/admin/templates', reader);
    expect(list.status).toBe(200);
    expect(list.body.templates.map((x: { name: string }) => x.name).sort()).toEqual(['sensor', 'thermostat']);

    const deleted = await call('DELETE', '/admin/templates/sensor', writer);
    expect(deleted).toMatchObject({ status: 200, body: { name: 'sensor', deleted: true } });
    expect(t.server.store.templates.get('sensor')).toBeUndefined();
    expect(lastAudit('template.deleted')?.detail).toMatchObject({ actor: 'admin:installer', template: 'sensor' });
    expect((await call('GET', '/admin/templates/sensor', reader)).status).toBe(404);
    expect((await call('DELETE', '/admin/templates/sensor', writer)).status).toBe(404);
  });

  it('bad input is refused with a code, and nothing is stored', async () => {
    const cases: [unknown, number, string][] = [
      [{ name: 'thermostat', scope: SCOPE }, 409, 'conflict'],
      [{ name: 'bad/name', scope: SCOPE }, 400, 'invalid_request'],
      [{ name: 'x', scope: 'mqtt:publish:a admin:write' }, 400, 'invalid_request'],
      [{ name: 'x', scope: SCOPE, auth: 'password' }, 400, 'invalid_request'],
      [{ name: 'x', scope: SCOPE, id_prefix: 'a/b' }, 400, 'invalid_request'],
      [{ name: 'x', scope: SCOPE, cert_days: 0 }, 400, 'invalid_request'],
    ];
    for (const [body, status, error] of cases) {
      const res = await call('POST', '/admin/templates', writer, body);
      expect([JSON.stringify(body), res.status, res.body.error]).toEqual([JSON.stringify(body), status, error]);
    }
    expect(t.server.store.templates.get('x')).toBeUndefined();
  });

  it('admin:read may look but not change (403), no token is 401', async () => {
    expect((await call('GET', '/admin/templates', null)).status).toBe(401);
    const refused = await call('POST', '/admin/templates', reader, { name: 'sneaky', scope: SCOPE });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('scope="admin:write"');
    expect((await call('DELETE', '/admin/templates/thermostat', reader)).status).toBe(403);
    expect(t.server.store.templates.get('sneaky')).toBeUndefined();
    expect(t.server.store.templates.get('thermostat')).toBeDefined();
  });
});

describe('claims over the admin API', () => {
  it('create answers the secret, onboarding string and its QR code once, no-store; the list never has the secret', async () => {
    const res = await call('POST', '/admin/claims', writer, { template: 'thermostat', uses: 2, expires_in: 3600 });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const { id, claim, onboarding, expires_at, qr_svg } = res.body;
    expect(id).toMatch(/^clm_[0-9A-Za-z]+$/);
    expect(claim).toMatch(/^lk_clm_/);
    expect(Date.parse(expires_at) - Date.now()).toBeGreaterThan(3500_000);
    // The string devices dial: this server's real MQTTS and HTTPS ports, its CA pinned, the claim.
    expect(parseOnboarding(onboarding)).toMatchObject({ mqtts: `127.0.0.1:${t.server.ports.mqtts}`, https: `https://127.0.0.1:${t.server.ports.https}`, claim });
    // The QR code encodes exactly that string: the same library renders the same matrix.
    expect(qr_svg).toMatch(/^<svg [^>]*viewBox=/);
    expect(qr_svg).toBe(await QRCode.toString(onboarding, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }));
    expect(qr_svg).not.toMatch(/<script|on[a-z]+=/i);

    expect(t.server.store.claims.byId(id)).toMatchObject({ template: 'thermostat', uses: 2, createdBy: 'admin:installer' });
    expect(JSON.stringify(t.server.store.claims.byId(id))).not.toContain(claim);
    const audit = lastAudit('claim.created');
    expect(audit?.detail).toMatchObject({ actor: 'admin:installer', id, template: 'thermostat', uses: 2 });
    expect(JSON.stringify(audit)).not.toContain(claim);

    const list = await call('GET', '/admin/claims', reader);
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(claim);
    expect(list.text).not.toContain(claim.slice(7, 20));
    expect(list.body.claims.find((c: { id: string }) => c.id === id)).toMatchObject({ template: 'thermostat', prefix: 'lk_clm_', last4: claim.slice(-4), uses: 2, used: 0, status: 'active' });
  });

  it('a claim minted over the API provisions a device with latchkey provision', async () => {
    const { onboarding } = (await call('POST', '/admin/claims', writer, { template: 'thermostat' })).body;
    const out = tempDir('latchkey-api-claim-');
    try {
      const result = await t.cli('provision', '--onboarding', onboarding, '--id', 'th-api', '--out', out, '--json');
      expect(result.code, result.stderr).toBe(0);
      expect(t.server.store.clients.get('th-api')).toMatchObject({ scope: SCOPE });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('revoke: the claim stops working, a second revoke says so, unknown and malformed ids are refused', async () => {
    const { id, onboarding } = (await call('POST', '/admin/claims', writer, { template: 'thermostat' })).body;
    expect((await call('DELETE', `/admin/claims/${id}`, reader)).status).toBe(403);
    const revoked = await call('DELETE', `/admin/claims/${id}`, writer);
    expect(revoked).toMatchObject({ status: 200, body: { id, revoked: true, already_revoked: false } });
    expect(lastAudit('claim.revoked')?.detail).toMatchObject({ actor: 'admin:installer', id });
    expect((await call('DELETE', `/admin/claims/${id}`, writer)).body).toMatchObject({ revoked: true, already_revoked: true });
    expect((await call('GET', '/admin/claims', reader)).body.claims.find((c: { id: string }) => c.id === id)).toMatchObject({ status: 'revoked', revoked_at: expect.any(String) });

    const out = tempDir('latchkey-api-revoked-');
    try {
      const result = await t.cli('provision', '--onboarding', onboarding, '--id', 'th-revoked', '--out', out);
      expect(result.code).not.toBe(0);
      expect(t.server.store.clients.get('th-revoked')).toBeUndefined();
    } finally {
      rmSync(out, { recursive: true, force: true });
    }

    expect((await call('DELETE', '/admin/claims/clm_doesnotexist', writer)).status).toBe(404);
    expect((await call('DELETE', '/admin/claims/not-a-claim', writer)).status).toBe(400);
  });

  it('refuses an unknown template, more uses or a longer life than an operator may ask, and admin:read', async () => {
    const before = t.server.store.claims.list().length;
    const cases: [unknown, number][] = [
      [{ template: 'nope' }, 404],
      [{ template: 'thermostat', uses: 0 }, 400],
      [{ template: 'thermostat', uses: 10_001 }, 400],
      [{ template: 'thermostat', expires_in: 30 * 86_400 + 1 }, 400],
    ];
    for (const [body, status] of cases) expect([JSON.stringify(body), (await call('POST', '/admin/claims', writer, body)).status]).toEqual([JSON.stringify(body), status]);
    // The caller never chooses the secret: a claim in the body is refused (an unknown field), and nothing is minted.
    const chosen = await call('POST', '/admin/claims', writer, { template: 'thermostat', claim: 'lk_clm_mine' });
    expect(chosen.status).toBe(400);
    expect(chosen.text).not.toContain('lk_clm_mine');
    const minted = await call('POST', '/admin/claims', writer, { template: 'thermostat' });
    expect(minted.body.claim).toMatch(/^lk_clm_[0-9A-Za-z]{38}$/);
    expect((await call('DELETE', `/admin/claims/${minted.body.id}`, writer)).status).toBe(200);
    const readOnly = await call('POST', '/admin/claims', reader, { template: 'thermostat' });
    expect(readOnly.status).toBe(403);
    expect(readOnly.text).not.toContain('lk_clm_');
    expect(t.server.store.claims.list().length).toBe(before + 1);
  });

  it('deleting a template takes its claims with it', async () => {
    await call('POST', '/admin/templates', writer, { name: 'doomed', scope: 'mqtt:publish:d/{client_id}' });
    const { id } = (await call('POST', '/admin/claims', writer, { template: 'doomed' })).body;
    expect((await call('DELETE', '/admin/templates/doomed', writer)).status).toBe(200);
    expect((await call('GET', '/admin/claims', reader)).body.claims.some((c: { id: string }) => c.id === id)).toBe(false);
  });
});

it('/openapi.json lists the onboarding routes with their access', async () => {
  const doc = (await call('GET', '/openapi.json', null)).body;
  for (const [path, methods] of Object.entries({ '/admin/templates': ['get', 'post'], '/admin/templates/{name}': ['get', 'delete'], '/admin/claims': ['get', 'post'], '/admin/claims/{id}': ['delete'] })) {
    for (const method of methods) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
      expect(doc.paths[path][method].tags).toContain('onboarding');
      expect(doc.paths[path][method].description).toContain(method === 'get' ? 'admin:read' : 'admin:write');
    }
  }
  expect(doc.paths['/admin/claims'].post.responses['201'].content['application/json'].schema.properties).toHaveProperty('qr_svg');
});
