import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/latchkey.js';
import { connect, connectDevice, eventually, refusalCode, subscribeCodes } from '../helpers/mqtt.js';
import type { AuditEvent } from '../../src/store/audit.js';

let lk: TestServer;
let secret: string;

beforeAll(async () => {
  lk = await startTestServer();
  secret = lk.createClient('flooder', 'mqtt:subscribe:home/flooder/#');
});
afterAll(() => lk.close());

const total = (rows: AuditEvent[]) => rows.reduce((sum, r) => sum + (r.count ?? 1), 0);

/** Rows of one kind are at least a second apart: the aggregation's promise. */
function expectOneRowPerSecond(rows: AuditEvent[]): void {
  const times = rows.map((r) => r.at).sort((a, b) => a - b);
  for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1000);
}

describe('a flood of denials is one audit row per (principal, action) per second', () => {
  test('300 denied subscriptions: every one counted, at most one row a second, up to 5 sample topics', async () => {
    const since = Date.now();
    const { access_token } = await lk.token('flooder', secret);
    const client = await connectDevice(lk.mqttUrl, 'flooder', access_token);
    const started = Date.now();
    for (let batch = 0; batch < 30; batch++) {
      const filters = Array.from({ length: 10 }, (_, i) => `home/other-${batch}-${i}/setpoint`);
      expect(await subscribeCodes(client, filters)).toEqual(filters.map(() => 128));
    }
    const elapsed = Date.now() - started;
    // The session lives on after denied subscriptions; the folded rows are written once their second ends.
    const rows = () => lk.auditEvents({ principal: 'flooder', event: 'mqtt.subscribe_denied', since, limit: 1000 });
    await eventually(() => total(rows()) === 300, 10_000, 'all 300 denials counted');
    const found = rows();
    expectOneRowPerSecond(found);
    // One row at once, then at most one per second of flooding (and the one closing the last second).
    expect(found.length).toBeLessThanOrEqual(Math.ceil(elapsed / 1000) + 2);
    expect(found.length).toBeLessThan(300);
    const folded = found.filter((r) => (r.count ?? 1) > 1);
    expect(folded.length).toBeGreaterThan(0);
    for (const row of folded) {
      const samples = row.detail?.samples as string[];
      expect(samples.length).toBeGreaterThan(0);
      expect(samples.length).toBeLessThanOrEqual(5);
      for (const topic of samples) expect(topic).toMatch(/^home\/other-\d+-\d\/setpoint$/);
    }
    await client.endAsync();

    // The CLI shows the count and samples, in the REASON column and in --json.
    const json = await lk.cli('audit', '--client', 'flooder', '--event', 'mqtt.subscribe_denied', '--json');
    expect(json.code).toBe(0);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { count: number; detail: { samples?: string[] } });
    expect(lines.reduce((sum, l) => sum + l.count, 0)).toBe(300);
    expect(lines.some((l) => l.count > 1 && (l.detail.samples?.length ?? 0) >= 1)).toBe(true);
    const text = await lk.cli('audit', '--client', 'flooder', '--event', 'mqtt.subscribe_denied');
    expect(text.stdout).toMatch(/\(x\d+, e\.g\. home\/other-\d+-\d\/setpoint/);
  });
});

describe('refused CONNECTs from one address are one row per (address, reason) per second', () => {
  test('60 CONNECTs with a garbage password: all counted, rows a second apart, up to 5 sample usernames', async () => {
    const since = Date.now();
    const started = Date.now();
    for (let batch = 0; batch < 6; batch++) {
      const codes = await Promise.all(
        Array.from({ length: 10 }, (_, i) => refusalCode(connect(lk.mqttUrl, { clientId: `ghost-${batch}-${i}`, username: `ghost-${batch}-${i}`, password: 'not-a-token' }))),
      );
      expect(codes.every((c) => c === 4)).toBe(true);
    }
    const elapsed = Date.now() - started;
    const refusals = () =>
      lk.auditEvents({ event: 'mqtt.connect', since, limit: 1000 }).filter((e) => e.outcome === 'failure' && e.remote === '127.0.0.1');
    await eventually(() => total(refusals()) === 60, 10_000, 'all 60 refusals counted');
    const rows = refusals();
    // One reason, one address: one kind of row.
    expect(new Set(rows.map((r) => r.reason)).size).toBe(1);
    expectOneRowPerSecond(rows);
    expect(rows.length).toBeLessThanOrEqual(Math.ceil(elapsed / 1000) + 2);
    for (const row of rows.filter((r) => (r.count ?? 1) > 1)) {
      const samples = row.detail?.samples as string[];
      expect(samples.length).toBeGreaterThan(0);
      expect(samples.length).toBeLessThanOrEqual(5);
      for (const name of samples) expect(name).toMatch(/^ghost-\d-\d$/);
    }
    // Every refusal is still in the metric.
    const metrics = await (await fetch(`${lk.baseUrl}/metrics`)).text();
    const refused = [...metrics.matchAll(/^latchkey_connects_total\{outcome="refused",[^}]*\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
    expect(refused).toBeGreaterThanOrEqual(60);
  });
});

describe('refusals naming registered clients stay findable under those clients, within a bound', () => {
  test('8 registered clients refused 3 times each from one address: up to 5 get rows of their own per second, the rest share one; every refusal counted', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `named-${i}`);
    for (const id of ids) lk.createClient(id, 'mqtt:publish:x');
    const since = Date.now();
    const started = Date.now();
    for (let round = 0; round < 3; round++) {
      const codes = await Promise.all(ids.map((id) => refusalCode(connect(lk.mqttUrl, { clientId: id, username: id, password: 'not-a-token' }))));
      expect(codes.every((c) => c === 4)).toBe(true);
    }
    const elapsed = Date.now() - started;
    const refusals = () =>
      lk.auditEvents({ event: 'mqtt.connect', since, limit: 1000 }).filter((e) => e.outcome === 'failure' && /^named-\d$/.test(e.principal ?? ''));
    await eventually(() => total(refusals()) === 24, 10_000, 'all 24 refusals counted');
    const rows = refusals();
    // The first refusal of each client within the first second is under its own name.
    const named = new Set(rows.map((r) => r.principal));
    expect(named.size).toBeGreaterThanOrEqual(5);
    // Bounded: at most 5 named rows and 1 shared row per second, however many clients are named.
    expect(rows.length).toBeLessThanOrEqual(6 * (Math.ceil(elapsed / 1000) + 2));
    const someone = [...named][0]!;
    const { stdout } = await lk.cli('audit', '--client', someone, '--event', 'mqtt.connect', '--since', '1h', '--json');
    expect(JSON.parse(stdout.trim().split('\n')[0]!)).toMatchObject({ principal: someone, outcome: 'failure', remote: '127.0.0.1' });
  });
});
