/**
 * The operator console and a browser device in a real Chromium (Debian's
 * /usr/bin/chromium driven by playwright-core). One browser for the file,
 * pages reused; each step asserts what an operator sees and what the
 * server did.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDir, type TestServer } from '../helpers/latchkey.js';
import QRCode from 'qrcode';
import { parseOnboarding } from '../../src/onboarding/onboarding_string.js';
import { connectDevice, eventually } from '../helpers/mqtt.js';
import { certificatesOf } from '../helpers/mtls.js';
import { createClaim } from '../helpers/onboarding.js';

/** Debian's chromium; LATCHKEY_CHROMIUM points elsewhere (or nowhere, to see the skip). */
const CHROMIUM = process.env.LATCHKEY_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  // In CI a missing browser is a broken build, not a reason to skip.
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: the browser tests need Debian's chromium package in CI`);
  console.warn(`SKIPPED: the console browser tests need ${CHROMIUM} (apt-get install chromium)`);
}

/** Screenshots go to docs/console/ with LATCHKEY_SCREENSHOTS=1 (how the README's images are made), else to a temporary directory. */
const SHOTS = process.env.LATCHKEY_SCREENSHOTS ? resolve(import.meta.dirname, '../../docs/console') : tempDir('latchkey-shots-');
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };
const DEVICE_SCOPE = 'mqtt:publish:devices/{client_id}/# mqtt:subscribe:devices/{client_id}/#';

const run = promisify(execFile);

let t: TestServer;
let browser: Browser;
let operator: BrowserContext;
let page: Page;
const problems: string[] = [];

async function newContext(viewport = DESKTOP): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport, baseURL: t.baseUrl });
  context.on('page', watch);
  return context;
}

/** Collects CSP violations and script errors: the console must have none. */
function watch(p: Page): void {
  p.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[134]/.test(m.text())) problems.push(m.text());
  });
  p.on('pageerror', (err) => problems.push(err.message));
  p.on('response', (r) => {
    if (r.status() === 404) problems.push(`404 ${r.url()}`);
  });
}

async function loginLink(...args: string[]): Promise<string> {
  const result = await t.cli('console', '--json', ...args);
  expect(result.code, result.stderr).toBe(0);
  return /#login=(.+)$/.exec((JSON.parse(result.stdout) as { url: string }).url)![1]!;
}

async function shot(p: Page, name: string): Promise<void> {
  await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function go(p: Page, id: string): Promise<void> {
  await p.click(`nav a[data-page="${id}"]`);
  await p.waitForSelector(`main[data-page="${id}"]`);
}

describe.skipIf(!HAVE_CHROMIUM)(`the console in Chromium (${CHROMIUM})`, () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    t = await startTestServer();
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    operator = await newContext();
    page = await operator.newPage();
    watch(page);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('logs in with the one-time URL from `latchkey console`, and refuses its reuse', async () => {
    const link = await loginLink();
    const response = await page.goto(`/console/#login=${link}`);
    // The strict CSP is on the page itself.
    const csp = response!.headers()['content-security-policy']!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
    await expect.poll(() => page.textContent('[data-testid=who]')).toBe('operator');
    // The secret left the address bar as soon as it was used.
    expect(page.url()).not.toContain(link);
    const cookie = (await operator.cookies()).find((c) => c.name === 'lk_console')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });

    const other = await newContext();
    const second = await other.newPage();
    await second.goto(`/console/#login=${link}`);
    await expect.poll(() => second.textContent('[role=alert]')).toMatch(/not valid/);
    expect(await second.locator('[data-testid=who]').count()).toBe(0);
    await other.close();
  });

  let secret = '';
  it('creates a device and shows its secret once', async () => {
    await go(page, 'devices');
    await page.fill('input[name=client_id]', 'thermo-1');
    await page.fill('input[name=scope]', DEVICE_SCOPE);
    await page.click('[data-action=create-device]');
    secret = (await page.textContent('[data-testid=new-secret] .secret-value', { timeout: 5000 }))!.trim();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await expect.poll(() => page.locator('tr[data-client="thermo-1"]').count()).toBe(1);
    await shot(page, 'devices');
    // Gone after a reload: the server never shows it again.
    await page.reload();
    await page.waitForSelector('tr[data-client="thermo-1"]');
    expect(await page.locator('[data-testid=new-secret]').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);
  });

  it('edits a scope with a live "what this allows" preview from the broker\'s own decision', async () => {
    await page.fill('input[name=search]', 'thermo');
    await page.click('tr[data-client="thermo-1"] [data-action=manage]');
    const preview = page.locator('[data-testid=scope-preview]');
    await page.selectOption('select[name=preview-action]', 'subscribe');
    await page.fill('input[name=preview-topic]', 'alerts/fire');
    await expect.poll(() => preview.textContent()).toBe('DENY');
    // The draft, not yet saved, already allows it.
    await page.fill('textarea[name=scope]', `${DEVICE_SCOPE} mqtt:subscribe:alerts/#`);
    await expect.poll(() => preview.textContent()).toBe('ALLOW');
    expect(t.server.store.clients.get('thermo-1')!.scope).toBe(DEVICE_SCOPE);
    await page.click('[data-action=save-scope]');
    await expect.poll(() => t.server.store.clients.get('thermo-1')!.scope).toBe(`${DEVICE_SCOPE} mqtt:subscribe:alerts/#`);
    await page.click('tr[data-client="thermo-1"] [data-action=manage]');
  });

  let publisher: ChildProcess | null = null;
  it('the secret works from curl and mosquitto_pub while the live session list shows the device; revoking from the page ends it within 1 s', async () => {
    const { stdout } = await run('curl', ['-sS', '-u', `thermo-1:${secret}`, '-d', 'grant_type=client_credentials', `${t.baseUrl}/oauth/token`]);
    const { access_token } = JSON.parse(stdout) as { access_token: string };
    publisher = spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(t.server.ports.mqtt), '-i', 'thermo-1', '-u', 'thermo-1', '-P', access_token, '-t', 'devices/thermo-1/telemetry', '-l'], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    publisher.stdin!.write('{"temp":21.5}\n');
    await go(page, 'sessions');
    await page.waitForSelector('tr[data-session="thermo-1"]', { timeout: 5000 });
    expect(await page.textContent('tr[data-session="thermo-1"]')).toContain('jwt');
    await shot(page, 'sessions');

    await page.click('tr[data-session="thermo-1"] [data-action=revoke]');
    const clicked = Date.now();
    await eventually(() => !t.server.broker.sessions().some((s) => s.client_id === 'thermo-1'), 1000, 'the session ended on the broker');
    expect(Date.now() - clicked).toBeLessThan(1000);
    // The page's list follows on its next tick of the live feed (every second).
    await page.waitForSelector('tr[data-session="thermo-1"]', { state: 'detached', timeout: 2500 });
    expect(t.auditEvents({ event: 'token.revoked', limit: 5 }).some((e) => e.principal === 'thermo-1')).toBe(true);
  });

  it('explain answers who + action + topic with the decision, reason and matching scope', async () => {
    await go(page, 'explain');
    await page.fill('input[name=principal]', 'thermo-1');
    await page.selectOption('select[name=action]', 'publish');
    await page.fill('input[name=topic]', 'devices/thermo-1/telemetry');
    await page.click('[data-action=explain]');
    const verdict = page.locator('[data-testid=decision]');
    await expect.poll(() => verdict.textContent()).toContain('ALLOW');
    expect(await verdict.textContent()).toContain('mqtt:publish:devices/{client_id}/#');
    await shot(page, 'explain');
    await page.fill('input[name=topic]', 'devices/other/telemetry');
    await page.click('[data-action=explain]');
    await expect.poll(() => verdict.textContent()).toContain('DENY');
  });

  it('the audit page tails new events live', async () => {
    await go(page, 'audit');
    await page.fill('input[name=principal]', 'thermo-1');
    // A refused token request, made while the page is open.
    await fetch(`${t.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('thermo-1:wrong').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    await page.waitForSelector('tr[data-event="token.refused"]', { timeout: 5000 });
    await page.selectOption('select[name=outcome]', 'success');
    await page.waitForSelector('tr[data-event="token.refused"]', { state: 'detached' });
    await page.selectOption('select[name=outcome]', '');
    await page.fill('input[name=principal]', '');
    await shot(page, 'audit');
  });

  it('issues a certificate with a generated key and lists it; creates a PAT and an API key and rolls it; the overview renders', async () => {
    await go(page, 'certificates');
    await page.fill('input[name=cert_client_id]', 'thermo-1');
    await page.click('[data-action=issue]');
    await page.waitForSelector('text=Download private key', { timeout: 5000 });
    await expect.poll(() => page.locator('tbody tr').count()).toBeGreaterThan(0);
    await shot(page, 'certificates');
    t.server.people.users.create({ name: 'ops', scope: 'admin:write mqtt:subscribe:devices/#' }, 'test');
    await go(page, 'people');
    // A PAT and an API key made on the page, each shown once; the key rolled with a grace period.
    await page.selectOption('select[name=pat_user]', 'ops');
    await page.fill('input[name=pat_name]', 'laptop');
    await page.fill('input[name=pat_scope]', 'admin:read');
    await page.click('[data-action=create-pat]');
    await expect.poll(() => page.textContent('[data-testid=people-secret] .secret-value')).toMatch(/^lk_pat_/);
    await page.fill('input[name=key_name]', 'ingest');
    await page.fill('input[name=key_scope]', 'mqtt:publish:ingest/#');
    await page.click('[data-action=create-key]');
    await expect.poll(() => page.textContent('[data-testid=people-secret] .secret-value')).toMatch(/^lk_key_/);
    const first = await page.textContent('[data-testid=people-secret] .secret-value');
    await page.click('[data-action=roll]');
    await expect.poll(() => page.textContent('[data-testid=people-secret] .secret-value')).not.toBe(first);
    expect(t.server.people.apiKeys.show('ingest').secrets).toHaveLength(2);
    await shot(page, 'people');
    await go(page, 'overview');
    await expect.poll(async () => Number(await page.textContent('[data-testid=sessions-open] .value'))).toBeGreaterThanOrEqual(0);
    await page.waitForSelector('.chart polyline');
    await shot(page, 'overview-desktop');
    await page.setViewportSize(PHONE);
    await shot(page, 'overview-phone');
    await page.setViewportSize(DESKTOP);
  });

  it('onboarding: creates a template and a claim whose QR code shows in the page; the list never shows the secret; revokes it', async () => {
    await go(page, 'onboarding');
    await page.fill('input[name=template_name]', 'thermostat');
    await page.fill('input[name=template_scope]', 'mqtt:publish:home/{client_id}/telemetry');
    await page.fill('input[name=template_prefix]', 'th-');
    await page.click('[data-action=create-template]');
    await page.waitForSelector('tr[data-template="thermostat"]', { timeout: 5000 });
    expect(t.server.store.templates.get('thermostat')).toMatchObject({ idPrefix: 'th-', auth: 'cert', certDays: 365 });

    await page.selectOption('select[name=claim_template]', 'thermostat');
    await page.fill('input[name=claim_uses]', '3');
    await page.selectOption('select[name=claim_expires]', '3600');
    await page.click('[data-action=create-claim]');
    const claim = (await page.textContent('[data-testid=claim-secret] .secret-value', { timeout: 5000 }))!.trim();
    const onboarding = (await page.textContent('[data-testid=claim-onboarding] .secret-value'))!.trim();
    expect(claim).toMatch(/^lk_clm_/);
    expect(parseOnboarding(onboarding)).toMatchObject({ claim, mqtts: `127.0.0.1:${t.server.ports.mqtts}` });
    const stored = t.server.store.claims.list().find((c) => c.last4 === claim.slice(-4))!;
    expect(stored).toMatchObject({ template: 'thermostat', uses: 3, createdBy: 'console:operator' });

    // The QR code is in the page, decoded and drawn (the CSP let it load), and encodes exactly the onboarding string.
    const qr = page.locator('[data-testid=claim-qr]');
    await expect.poll(() => qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    expect((await qr.boundingBox())!.width).toBeGreaterThanOrEqual(200);
    const src = (await qr.getAttribute('src'))!;
    expect(src.startsWith('data:image/svg+xml')).toBe(true);
    expect(decodeURIComponent(src.slice(src.indexOf(',') + 1))).toBe(await QRCode.toString(onboarding, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }));

    // The list shows the claim by its last four characters, never the secret.
    const row = page.locator(`tr[data-claim="${stored.id}"]`);
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain(`lk_clm_…${claim.slice(-4)}`);
    expect((await page.locator('table').allTextContents()).join(' ')).not.toContain(claim.slice(7, 30));
    await shot(page, 'onboarding');

    // Hidden on request and gone after a reload: the server never shows it again.
    await page.click('[data-action=claim-done]');
    expect(await page.locator('[data-testid=minted-claim]').count()).toBe(0);
    await page.reload();
    await page.waitForSelector(`tr[data-claim="${stored.id}"]`);
    expect(await page.content()).not.toContain(claim.slice(7));

    await page.click(`tr[data-claim="${stored.id}"] [data-action=revoke-claim]`);
    await page.click(`tr[data-claim="${stored.id}"] [data-action=revoke-claim-confirm]`);
    await expect.poll(() => t.server.store.claims.byId(stored.id)!.revokedAt).not.toBeNull();
    await expect.poll(() => row.locator('.badge').textContent()).toBe('revoked');
    expect(await row.locator('[data-action=revoke-claim]').count()).toBe(0);
  });

  it('a change without the CSRF token is refused, even from the console\'s own page', async () => {
    const status = await page.evaluate(async () => {
      const res = await fetch('/admin/clients', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_id: 'no-csrf', scope: 'mqtt:publish:x' }) });
      return res.status;
    });
    expect(status).toBe(403);
    expect(t.server.store.clients.get('no-csrf')).toBeUndefined();
  });

  it('a read-only user sees no buttons, and the API refuses their changes', async () => {
    const { users, pats } = t.server.people;
    users.create({ name: 'reader', scope: 'admin:read' }, 'test');
    const { token } = pats.create({ user: 'reader', name: 'console', scope: 'admin:read' }, 'test');
    const context = await newContext();
    const p = await context.newPage();
    await p.goto('/console/');
    await p.fill('input[name=token]', token);
    await p.click('button[type=submit]');
    await expect.poll(() => p.textContent('[data-testid=access]')).toBe('read-only');
    await go(p, 'devices');
    await p.waitForSelector('tr[data-client="thermo-1"]');
    expect(await p.locator('[data-testid=create-device]').count()).toBe(0);
    await p.click('tr[data-client="thermo-1"] [data-action=manage]');
    await p.waitForSelector('.scope-editor');
    for (const action of ['save-scope', 'rotate', 'disable', 'delete']) expect(await p.locator(`[data-action=${action}]`).count()).toBe(0);
    await go(p, 'people');
    expect(await p.locator('[data-action=create-pat], [data-action=create-key]').count()).toBe(0);
    // Templates and claims are listed, with nothing to press: no create, delete or revoke.
    const active = createClaim(t, 'thermostat');
    await go(p, 'onboarding');
    await p.waitForSelector(`tr[data-claim="${active.id}"]`);
    await p.waitForSelector('tr[data-template="thermostat"]');
    expect(await p.locator('[data-testid=create-template], [data-testid=create-claim], [data-action=delete-template], [data-action=revoke-claim]').count()).toBe(0);
    expect(await p.content()).not.toContain(active.claim.slice(7));
    // With the CSRF token and from its own origin, the API still refuses: the session holds admin:read only.
    const status = await p.evaluate(async () => {
      const me = (await (await fetch('/console/api/me')).json()) as { csrf: string };
      const res = await fetch('/admin/clients/thermo-1/disable', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrf }, body: '{}' });
      return res.status;
    });
    expect(status).toBe(403);
    expect(t.server.store.clients.get('thermo-1')!.status).toBe('enabled');
    await context.close();
  });

  it('a browser device: the dashboard connects with mqtt.js over WebSocket using a PAT and shows telemetry', async () => {
    const { users, pats } = t.server.people;
    users.create({ name: 'viewer', scope: 'mqtt:subscribe:devices/#' }, 'test');
    const { token } = pats.create({ user: 'viewer', name: 'dashboard', scope: 'mqtt:subscribe:devices/+/telemetry' }, 'test');
    const p = await operator.newPage();
    await p.goto('/console/dashboard');
    await p.fill('input[name=username]', 'viewer');
    await p.fill('input[name=password]', token);
    await p.click('button[type=submit]');
    await expect.poll(() => p.textContent('#status'), { timeout: 5000 }).toMatch(/subscribed to devices\/\+\/telemetry/);
    const session = t.server.broker.sessions().find((s) => s.principal === 'viewer')!;
    expect(session).toMatchObject({ method: 'pat', kind: 'user' });

    const deviceSecret = t.createClient('dash-1', DEVICE_SCOPE);
    const device = await connectDevice(t.mqttUrl, 'dash-1', (await t.token('dash-1', deviceSecret)).access_token);
    try {
      await eventually(async () => {
        await device.publishAsync('devices/dash-1/telemetry', JSON.stringify({ temp: 22.5, humidity: 41 }));
        return (await p.locator('[data-topic="devices/dash-1/telemetry"]').count()) > 0;
      }, 5000, 'the reading on the dashboard');
      expect(await p.textContent('[data-topic="devices/dash-1/telemetry"] .value')).toBe('temp 22.5 · humidity 41');
      await shot(p, 'dashboard');
    } finally {
      await device.endAsync(true);
      await p.close();
    }
  });

  it('over HTTPS the dashboard connects over WSS (the same scheme as the page)', async () => {
    const { token } = t.server.people.pats.create({ user: 'viewer', name: 'tls-dashboard', scope: 'mqtt:subscribe:devices/+/telemetry' }, 'test');
    // The test CA is not in this browser's trust store; a deployment imports certs/ca.crt instead.
    // The WSS port asks every client for a certificate (devices authenticate with one), and Chromium cancels a
    // WebSocket handshake it cannot answer. So this browser holds one, as a managed browser would; latchkey
    // ignores it (the upgrade carries an Origin header) and the PAT decides.
    t.createClient('browser-cert', DEVICE_SCOPE);
    const issued = await (await certificatesOf(t)).issue('browser-cert', { days: 1 }, 'test');
    const context = await browser.newContext({
      viewport: DESKTOP,
      ignoreHTTPSErrors: true,
      clientCertificates: [
        { origin: t.httpsUrl, cert: Buffer.from(issued.certPem), key: Buffer.from(issued.keyPem!) },
        { origin: `https://127.0.0.1:${t.server.ports.wss}`, cert: Buffer.from(issued.certPem), key: Buffer.from(issued.keyPem!) },
      ],
    });
    context.on('page', watch);
    const p = await context.newPage();
    try {
      await p.goto(`${t.httpsUrl}/console/dashboard`);
      await p.fill('input[name=username]', 'viewer');
      await p.fill('input[name=password]', token);
      await p.click('button[type=submit]');
      await expect.poll(() => p.textContent('#status'), { timeout: 5000 }).toMatch(/^Connected over WSS as viewer; subscribed/);
      expect(t.server.broker.sessions().find((s) => s.principal === 'viewer')).toMatchObject({ method: 'pat', kind: 'user' });
    } finally {
      await context.close();
    }
  });

  it('no page broke its Content-Security-Policy or threw', () => {
    publisher?.kill();
    expect(problems).toEqual([]);
  });
});
