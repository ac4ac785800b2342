import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { basic, invalidClientBody, post, type HttpAnswer } from './http.js';

let t: TestServer;
let url: string;
const secrets: Record<string, string> = {};
const CHALLENGE = 'Basic realm="latchkey", charset="UTF-8"';
const INVALID_CLIENT = invalidClientBody();
const GRANT = { grant_type: 'client_credentials' };

beforeAll(async () => {
  // A high failure limit: this file makes many failed attempts from one address on purpose.
  t = await startTestServer({ authFailureLimit: '1000' });
  url = `${t.baseUrl}/oauth/token`;
  secrets['dev-basic'] = t.createClient('dev-basic', 'mqtt:publish:home/{client_id}/# mqtt:subscribe:home/+/cmd');
  secrets['dev-post'] = t.server.registry.create({ id: 'dev-post', scope: 'mqtt:publish:x', authMethod: 'client_secret_post' }, 'test').client_secret!;
  secrets['dev-off'] = t.createClient('dev-off', 'mqtt:publish:x');
  t.server.registry.setStatus('dev-off', 'disabled', 'test');
  t.server.registry.create({ id: 'dev-tls', scope: 'mqtt:publish:x', authMethod: 'tls_client_auth' }, 'test');
});
afterAll(async () => {
  await t.close();
});

function expectNoStore(res: HttpAnswer): void {
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('pragma')).toBe('no-cache');
}

describe('token endpoint errors (RFC 6749 §5.2)', () => {
  const cases: { name: string; send: () => Promise<HttpAnswer>; status: number; body: unknown; challenge?: boolean }[] = [
    {
      name: 'invalid_request/missing-grant_type',
      send: () => post(url, {}, { authorization: basic('dev-basic', secrets['dev-basic']!) }),
      status: 400,
      body: { error: 'invalid_request', error_description: 'grant_type is required' },
    },
    {
      name: 'unsupported_grant_type/password',
      send: () => post(url, { grant_type: 'password', username: 'u', password: 'p' }, { authorization: basic('dev-basic', secrets['dev-basic']!) }),
      status: 400,
      body: { error: 'unsupported_grant_type', error_description: 'only client_credentials is supported' },
    },
    {
      name: 'invalid_request/json-body',
      send: () => post(url, { raw: JSON.stringify(GRANT), type: 'application/json' }, { authorization: basic('dev-basic', secrets['dev-basic']!) }),
      status: 400,
      body: { error: 'invalid_request', error_description: 'the request body must be application/x-www-form-urlencoded' },
    },
    {
      name: 'invalid_request/text-body',
      send: () => post(url, { raw: 'grant_type=client_credentials', type: 'text/plain' }, { authorization: basic('dev-basic', secrets['dev-basic']!) }),
      status: 400,
      body: { error: 'invalid_request', error_description: 'the request body must be application/x-www-form-urlencoded' },
    },
    {
      name: 'invalid_request/unknown-media-type',
      send: () => post(url, { raw: '<x/>', type: 'application/xml' }, { authorization: basic('dev-basic', secrets['dev-basic']!) }),
      status: 400,
      body: { error: 'invalid_request', error_description: 'the request body must be application/x-www-form-urlencoded' },
    },
    {
      name: 'invalid_request/repeated-parameter',
      send: () =>
        post(url, { raw: 'grant_type=client_credentials&grant_type=client_credentials', type: 'application/x-www-form-urlencoded' }, {
          authorization: basic('dev-basic', secrets['dev-basic']!),
        }),
      status: 400,
      body: { error: 'invalid_request', error_description: 'parameter grant_type is repeated' },
    },
    {
      name: 'invalid_request/body-too-large',
      send: () => post(url, { ...GRANT, pad: 'x'.repeat(20_000) }, { authorization: basic('dev-basic', secrets['dev-basic']!) }),
      status: 413,
      body: { error: 'invalid_request', error_description: 'the request body is too large' },
    },
    {
      name: 'invalid_client/no-credentials',
      send: () => post(url, GRANT),
      status: 401,
      body: INVALID_CLIENT,
      challenge: true,
    },
    {
      name: 'invalid_client/client_id-alone',
      send: () => post(url, { ...GRANT, client_id: 'dev-post' }),
      status: 401,
      body: INVALID_CLIENT,
      challenge: true,
    },
    {
      // One method per request and per client (issue 5): two at once prove no single registered method.
      name: 'invalid_client/two-methods-at-once',
      send: () => post(url, { ...GRANT, client_id: 'dev-basic', client_secret: secrets['dev-basic']! }, { authorization: basic('dev-basic', secrets['dev-basic']!) }),
      status: 401,
      body: INVALID_CLIENT,
      challenge: true,
    },
    {
      name: 'invalid_request/malformed-basic',
      send: () => post(url, GRANT, { authorization: 'Basic !!!notbase64' }),
      status: 400,
      body: { error: 'invalid_request', error_description: 'malformed Basic authorization header' },
    },
    {
      name: 'invalid_request/basic-without-colon',
      send: () => post(url, GRANT, { authorization: `Basic ${Buffer.from('dev-basic').toString('base64')}` }),
      status: 400,
      body: { error: 'invalid_request', error_description: 'malformed Basic authorization header' },
    },
    {
      name: 'invalid_request/basic-and-other-client_id',
      send: () => post(url, { ...GRANT, client_id: 'dev-post' }, { authorization: basic('dev-basic', secrets['dev-basic']!) }),
      status: 400,
      body: { error: 'invalid_request', error_description: 'client_id does not match the Authorization header' },
    },
    {
      name: 'invalid_request/post-secret-without-id',
      send: () => post(url, { ...GRANT, client_secret: 'x' }),
      status: 400,
      body: { error: 'invalid_request', error_description: 'client_secret needs client_id' },
    },
    {
      // One secret over two transports is one registration (as Keycloak does): a post client may use Basic.
      name: 'success/post-client-using-basic (same secret, other transport)',
      send: () => post(url, GRANT, { authorization: basic('dev-post', secrets['dev-post']!) }),
      status: 200,
      body: expect.objectContaining({ token_type: 'Bearer', scope: 'mqtt:publish:x' }),
    },
    {
      name: 'success/basic-client-using-post (same secret, other transport)',
      send: () => post(url, { ...GRANT, client_id: 'dev-basic', client_secret: secrets['dev-basic']! }),
      status: 200,
      body: expect.objectContaining({ token_type: 'Bearer' }),
    },
    {
      // Other methods stay per client; the caller is not told the registered method (it proved nothing).
      name: 'invalid_client/wrong-registered-method (tls_client_auth client using a secret)',
      send: () => post(url, GRANT, { authorization: basic('dev-tls', 'some-secret') }),
      status: 401,
      body: invalidClientBody('dev-tls'),
      challenge: true,
    },
    {
      // `curl -u dev-basic:` — RFC-correct invalid_client, not a malformed request; the audit says why.
      name: 'invalid_client/basic-with-empty-secret',
      send: () => post(url, GRANT, { authorization: `Basic ${Buffer.from('dev-basic:').toString('base64')}` }),
      status: 401,
      body: invalidClientBody('dev-basic'),
      challenge: true,
    },
    {
      name: 'invalid_client/post-with-empty-secret',
      send: () => post(url, { ...GRANT, client_id: 'dev-post', client_secret: '' }),
      status: 401,
      body: invalidClientBody('dev-post'),
    },
    {
      name: 'invalid_client/disabled-client',
      send: () => post(url, GRANT, { authorization: basic('dev-off', secrets['dev-off']!) }),
      status: 401,
      body: invalidClientBody('dev-off'),
      challenge: true,
    },
    {
      name: 'invalid_scope/superset',
      send: () => post(url, { ...GRANT, scope: 'mqtt:publish:home/#' }, { authorization: basic('dev-basic', secrets['dev-basic']!) }),
      status: 400,
      body: { error: 'invalid_scope', error_description: 'scope not allowed: mqtt:publish:home/#' },
    },
    {
      name: 'invalid_scope/another-clients-topic',
      send: () => post(url, { ...GRANT, scope: 'mqtt:publish:home/dev-post/x' }, { authorization: basic('dev-basic', secrets['dev-basic']!) }),
      status: 400,
      body: { error: 'invalid_scope', error_description: 'scope not allowed: mqtt:publish:home/dev-post/x' },
    },
    {
      name: 'invalid_scope/admin-not-held',
      send: () => post(url, { ...GRANT, scope: 'admin:write' }, { authorization: basic('dev-basic', secrets['dev-basic']!) }),
      status: 400,
      body: { error: 'invalid_scope', error_description: 'scope not allowed: admin:write' },
    },
  ];

  it.each(cases)('$name', async ({ send, status, body, challenge }) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.json).toEqual(body);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    if (status !== 200) {
      expect(res.headers.get('www-authenticate')).toBe(challenge ? CHALLENGE : null);
      // RFC 6749 §5.2: error_description is printable ASCII without '"' or '\\' (the audit hint included).
      expect((res.json as { error_description: string }).error_description).toMatch(/^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/);
    }
    expectNoStore(res);
  });

  it.each(['mqtt:publish:a/#/b', 'mqtt:nope:x', 'mqtt:subscribe:', 'read write'])('invalid_scope/malformed "%s"', async (scope) => {
    const res = await post(url, { ...GRANT, scope }, { authorization: basic('dev-basic', secrets['dev-basic']!) });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: 'invalid_scope', error_description: expect.stringMatching(/scope|filter|level|#/) });
    expectNoStore(res);
  });

  it('a requested subset is granted exactly', async () => {
    const res = await post(url, { ...GRANT, scope: 'mqtt:publish:home/dev-basic/temp' }, { authorization: basic('dev-basic', secrets['dev-basic']!) });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ scope: 'mqtt:publish:home/dev-basic/temp', token_type: 'Bearer' });
  });
});

function headerList(headers: Headers): [string, string][] {
  const list: [string, string][] = [];
  headers.forEach((value, name) => list.push([name, value]));
  return list;
}

describe('unknown client and wrong secret are indistinguishable', () => {
  // The description echoes the id the request named (a pointer to `latchkey audit --client <id>`);
  // apart from that echo, nothing may differ.
  const shape = (res: HttpAnswer, claimedId: string) => ({
    status: res.status,
    body: res.text.replaceAll(claimedId, '<id>'),
    headers: headerList(res.headers).filter(([name]) => !['date', 'content-length', 'keep-alive', 'connection'].includes(name)),
  });

  it('over client_secret_basic: same status, body and headers (WWW-Authenticate included)', async () => {
    const unknown = await post(url, GRANT, { authorization: basic('no-such-client', secrets['dev-basic']!) });
    const wrong = await post(url, GRANT, { authorization: basic('dev-basic', 'not-the-secret') });
    const wrongMethod = await post(url, GRANT, { authorization: basic('dev-tls', 'not-the-secret') });
    const disabled = await post(url, GRANT, { authorization: basic('dev-off', secrets['dev-off']!) });
    expect(unknown.status).toBe(401);
    expect(unknown.json).toEqual(invalidClientBody('no-such-client'));
    expect(unknown.headers.get('www-authenticate')).toBe(CHALLENGE);
    expect(shape(wrong, 'dev-basic')).toEqual(shape(unknown, 'no-such-client'));
    expect(shape(wrongMethod, 'dev-tls')).toEqual(shape(unknown, 'no-such-client'));
    expect(shape(disabled, 'dev-off')).toEqual(shape(unknown, 'no-such-client'));
  });

  it('over client_secret_post: same status, body and headers', async () => {
    const unknown = await post(url, { ...GRANT, client_id: 'no-such-client', client_secret: 'x' });
    const wrong = await post(url, { ...GRANT, client_id: 'dev-post', client_secret: 'x' });
    expect(unknown.status).toBe(401);
    expect(unknown.json).toEqual(invalidClientBody('no-such-client'));
    expect(shape(wrong, 'dev-post')).toEqual(shape(unknown, 'no-such-client'));
  });

  it('audits the private reason of each refusal, with the remote address', async () => {
    await post(url, GRANT, { authorization: basic('ghost-1', 'x') });
    await post(url, GRANT, { authorization: basic('dev-basic', 'wrong') });
    await post(url, GRANT, { authorization: basic('dev-tls', 'x') });
    await post(url, GRANT, { authorization: `Basic ${Buffer.from('dev-post:').toString('base64')}` });
    t.server.audit.flush();
    const reasons = (principal: string) =>
      t.auditEvents({ principal, event: 'token.refused', limit: 50 }).map((e) => ({ reason: e.reason, remote: e.remote }));
    expect(reasons('ghost-1')).toContainEqual({ reason: 'invalid_client: unknown client', remote: '127.0.0.1' });
    expect(reasons('dev-basic')).toContainEqual({ reason: 'invalid_client: wrong secret', remote: '127.0.0.1' });
    expect(reasons('dev-tls')).toContainEqual({
      reason: 'invalid_client: wrong method: registered tls_client_auth, used client_secret_basic',
      remote: '127.0.0.1',
    });
    expect(reasons('dev-post')).toContainEqual({ reason: 'invalid_client: no client secret given', remote: '127.0.0.1' });
    // Nothing that was sent as a secret reaches the audit table.
    const all = JSON.stringify(t.auditEvents({ limit: 1000 }));
    expect(all).not.toContain(secrets['dev-post']);
    expect(all).not.toContain(secrets['dev-basic']);
  });

  it('a client secret or PAT pasted into client_id is withheld from the audit row and the answer; a registered id of that shape is kept', async () => {
    const pasted = secrets['dev-basic']!;
    const prefixed = `lk_pat_${'Q'.repeat(40)}`;
    const shapedId = 'A'.repeat(43); // a legal client id that happens to have a secret's shape
    const shapedSecret = t.createClient(shapedId, 'mqtt:publish:x');
    const since = Date.now();
    const viaBasic = await post(url, GRANT, { authorization: basic(pasted, 'x') });
    const viaForm = await post(url, { ...GRANT, client_id: prefixed, client_secret: 'x' });
    await post(url, GRANT, { authorization: basic(shapedId, `${shapedSecret}x`) });
    // The answer points at the audit log without naming the pasted value.
    expect(viaBasic.json).toEqual(INVALID_CLIENT);
    expect(viaForm.json).toEqual(INVALID_CLIENT);
    t.server.audit.flush();
    const refused = t.auditEvents({ event: 'token.refused', since, limit: 50 });
    expect(refused.filter((e) => e.reason === 'invalid_client: unknown client').map((e) => e.principal)).toEqual([null, null]);
    expect(refused.find((e) => e.reason === 'invalid_client: wrong secret')?.principal).toBe(shapedId);
    const all = JSON.stringify(t.auditEvents({ limit: 1000 }));
    expect(all).not.toContain(pasted);
    expect(all).not.toContain(prefixed);
  });

  it('an unknown grant_type is not recorded (it may be a pasted secret); a known one is', async () => {
    const pasted = `lk_pat_${'R'.repeat(40)}`;
    const since = Date.now();
    expect((await post(url, { grant_type: pasted }, { authorization: basic('dev-basic', secrets['dev-basic']!) })).status).toBe(400);
    expect((await post(url, { grant_type: 'password' }, { authorization: basic('dev-basic', secrets['dev-basic']!) })).status).toBe(400);
    t.server.audit.flush();
    const reasons = t.auditEvents({ event: 'token.refused', since, limit: 50 }).map((e) => e.reason ?? '');
    expect(reasons.some((r) => r.includes('grant_type password'))).toBe(true);
    expect(reasons.some((r) => r.includes('grant_type (unrecognised, not recorded)'))).toBe(true);
    expect(JSON.stringify(t.auditEvents({ limit: 1000 }))).not.toContain(pasted);
  });
});

describe('other routes', () => {
  it('an unknown route is a JSON 404 with no-store', async () => {
    const res = await post(`${t.baseUrl}/oauth/nope`, GRANT);
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ error: 'not_found', error_description: 'no such endpoint' });
    expectNoStore(res);
  });
});
