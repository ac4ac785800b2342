import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliDirs, cliDirs, expectOneError, HUB_SCOPE, parseLines, spawnTimeout, THERMOSTAT_SCOPE } from './fixture.js';

// `count`: how many events an aggregated row stands for (1 otherwise); its samples are in detail.samples.
const AUDIT_KEYS = ['at', 'count', 'detail', 'event', 'outcome', 'principal', 'reason', 'remote'];

describe('latchkey token, keys, audit and explain', { timeout: spawnTimeout(6) }, () => {
  let cli: CliDirs;
  beforeAll(async () => {
    cli = cliDirs();
    await cli.json('init');
    await cli.json('client', 'create', 'thermostat-1', '--scope', THERMOSTAT_SCOPE);
    await cli.json('client', 'create', 'hub', '--scope', HUB_SCOPE);
  }, spawnTimeout(3));
  afterAll(() => cli.remove());

  it('token revoke answers {jti, revoked: true} and is idempotent', async () => {
    expect(await cli.json('token', 'revoke', 'jti-0001')).toEqual({ jti: 'jti-0001', revoked: true, already_revoked: false });
    expect(await cli.json('token', 'revoke', 'jti-0001')).toEqual({ jti: 'jti-0001', revoked: true, already_revoked: true });
    const before = cli.snapshot();
    expectOneError(await cli.run('token', 'revoke', 'not a jti'), 2);
    expectOneError(await cli.run('token', 'revoke'), 2);
    expect(cli.snapshot()).toBe(before);
  });

  it('keys rotate makes a new current key and keeps the old one published', async () => {
    const init = await cli.json('init');
    const rotated = await cli.json('keys', 'rotate');
    expect(Object.keys(rotated).sort()).toEqual(['kid', 'retired_kid', 'retired_published_until']);
    expect(rotated.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rotated.kid).not.toBe(init.signing_kid);
    expect(rotated.retired_kid).toBe(init.signing_kid);
    // The longest token lifetime here is the default 10 minutes.
    const until = Date.parse(rotated.retired_published_until as string);
    expect(Math.abs(until - (Date.now() + 600_000))).toBeLessThan(60_000);
    expect((await cli.json('init')).signing_kid).toBe(rotated.kid);
  });

  it('audit lists events newest first as JSON Lines, filtered by client, event and time', async () => {
    const all = await cli.run('audit', '--json');
    expect(all.code).toBe(0);
    const events = parseLines(all.stdout);
    expect(events.length).toBeGreaterThanOrEqual(4);
    for (const e of events) expect(Object.keys(e).sort()).toEqual(AUDIT_KEYS);
    const times = events.map((e) => Date.parse(e.at as string));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['client.created', 'token.revoked', 'keys.rotated']));

    const mine = parseLines((await cli.run('audit', '--client', 'thermostat-1', '--since', '1h', '--json')).stdout);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ event: 'client.created', principal: 'thermostat-1', outcome: 'success' });
    expect(mine[0]!.detail).toMatchObject({ actor: 'cli', scope: THERMOSTAT_SCOPE });

    const byEvent = parseLines((await cli.run('audit', '--event', 'client.created', '--json')).stdout);
    expect(byEvent.map((e) => e.principal)).toEqual(['hub', 'thermostat-1']);
    const limited = parseLines((await cli.run('audit', '--event', 'client.created', '--limit', '1', '--json')).stdout);
    expect(limited.map((e) => e.principal)).toEqual(['hub']);

    // An ISO time after every event, and a window too short to reach back to them.
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await cli.run('audit', '--since', future, '--json')).stdout).toBe('');
    const human = await cli.run('audit', '--client', 'thermostat-1');
    expect(human.stdout).toMatch(/^TIME\s+EVENT\s+PRINCIPAL\s+OUTCOME\s+REASON\n\S+\s+client\.created\s+thermostat-1\s+success/);
  });

  it('audit never contains a secret', async () => {
    const created = await cli.json('client', 'create', 'leaky', '--scope', 'mqtt:publish:l');
    const rotated = await cli.json('client', 'rotate-secret', 'leaky');
    const all = (await cli.run('audit', '--json', '--limit', '1000')).stdout;
    expect(all).not.toContain(created.client_secret as string);
    expect(all).not.toContain(rotated.client_secret as string);
  });

  it.each([
    ['--since', 'yesterday', 2],
    ['--limit', '0', 2],
    ['--limit', 'ten', 2],
  ])('audit %s %s -> exit %i', async (flag, value, status) => {
    expectOneError(await cli.run('audit', flag, value), status);
  });

  const explainCases = [
    { name: 'allow/own-telemetry', id: 'thermostat-1', act: 'publish', topic: 'home/thermostat-1/telemetry', allow: true, scope: 'mqtt:publish:home/{client_id}/telemetry' },
    { name: 'allow/own-setpoint', id: 'thermostat-1', act: 'subscribe', topic: 'home/thermostat-1/setpoint', allow: true, scope: 'mqtt:subscribe:home/{client_id}/setpoint' },
    { name: 'deny/other-thermostat-setpoint', id: 'thermostat-1', act: 'subscribe', topic: 'home/thermostat-2/setpoint', allow: false, scope: 'mqtt:subscribe:home/thermostat-2/setpoint' },
    { name: 'deny/publish-setpoint', id: 'thermostat-1', act: 'publish', topic: 'home/thermostat-1/setpoint', allow: false, scope: 'mqtt:publish:home/thermostat-1/setpoint' },
    { name: 'allow/hub-reads-all-telemetry', id: 'hub', act: 'subscribe', topic: 'home/+/telemetry', allow: true, scope: 'mqtt:subscribe:home/+/telemetry' },
    { name: 'deny/hub-everything', id: 'hub', act: 'subscribe', topic: 'home/#', allow: false, scope: 'mqtt:subscribe:home/#' },
    { name: 'deny/$SYS-no-scope-helps', id: 'hub', act: 'publish', topic: '$SYS/broker/x', allow: false, scope: null },
  ];

  it.each(explainCases)('explain $name', async ({ id, act, topic, allow, scope }) => {
    const answer = await cli.json('explain', id, act, topic);
    expect(Object.keys(answer).sort()).toEqual(['allow', 'reason', 'scope']);
    expect(answer.allow).toBe(allow);
    expect(answer.scope).toBe(scope);
    expect(answer.reason).toMatch(allow ? /^allowed by / : /\S/);
  });

  it('explain a denial in human form names the missing scope; exit 0', async () => {
    const result = await cli.run('explain', 'thermostat-1', 'publish', 'home/thermostat-2/telemetry');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^decision\s+DENY\n/);
    expect(result.stdout).toMatch(/missing scope\s+mqtt:publish:home\/thermostat-2\/telemetry/);
  });

  it('explain a disabled client: deny', async () => {
    await cli.json('client', 'disable', 'hub');
    const answer = await cli.json('explain', 'hub', 'subscribe', 'home/+/telemetry');
    expect(answer).toEqual({ allow: false, reason: 'client "hub" is disabled', scope: null });
    await cli.json('client', 'enable', 'hub');
  });

  it.each([
    { name: 'unknown client', args: ['explain', 'nobody', 'publish', 'a/b'], status: 3 },
    { name: 'unknown action', args: ['explain', 'hub', 'read', 'a/b'], status: 2 },
    { name: 'missing topic', args: ['explain', 'hub', 'publish'], status: 2 },
  ])('explain: $name -> exit $status', async ({ args, status }) => {
    expectOneError(await cli.run(...args), status);
  });
});
