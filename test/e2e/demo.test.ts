import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TimelineEntry } from '../../device-sim/timeline.js';

const DEMO = resolve(import.meta.dirname, '../../dist/device-sim/demo.js');

interface DemoRun {
  code: number | null;
  entries: TimelineEntry[];
  report: { ok: boolean; checks: Array<{ id: string; ok: boolean; detail?: string }> } | null;
  stdout: string;
  stderr: string;
}

/** `npm run demo -- --json` as a newcomer would run it (built by `npm test`'s pretest). */
function runDemo(args: string[]): Promise<DemoRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [DEMO, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
      const entries = lines.filter((l) => typeof l.kind === 'string') as unknown as TimelineEntry[];
      const report = (lines.find((l) => 'checks' in l) ?? null) as DemoRun['report'];
      resolvePromise({ code, entries, report, stdout, stderr });
    });
  });
}

describe('npm run demo (end to end)', () => {
  let run: DemoRun;
  const of = (actor: string, kind: string): TimelineEntry[] => run.entries.filter((e) => e.actor === actor && e.kind === kind);
  const data = (e: TimelineEntry | undefined, key: string): unknown => e?.data?.[key];

  beforeAll(async () => {
    run = await runDemo(['--json', '--duration', '18']);
  }, 60_000);

  it('starts latchkey on free ports and stops it cleanly', () => {
    const ports = data(of('latchkey', 'listening')[0], 'ports') as Record<string, number>;
    for (const name of ['mqtt', 'mqtts', 'http', 'https']) expect(ports[name], name).toBeGreaterThan(0);
    expect(data(of('latchkey', 'stopped')[0], 'exitCode')).toBe(0);
  });

  it('connects the hub and one thermostat with JWTs, the other with its certificate', () => {
    expect(of('hub', 'connected').map((e) => data(e, 'mode'))).toEqual(['jwt']);
    expect(of('thermostat-1', 'connected').map((e) => data(e, 'mode'))).toEqual(['jwt']);
    expect(of('thermostat-2', 'connected').map((e) => data(e, 'mode'))).toEqual(['certificate']);
  });

  it('carries telemetry to the hub and the schedule\'s setpoints to the thermostats', () => {
    const from = new Set(of('hub', 'telemetry_received').map((e) => data(e, 'from')));
    expect(from).toEqual(new Set(['thermostat-1', 'thermostat-2', 'thermostat-3']));
    const sent = of('hub', 'setpoint_sent').filter((e) => data(e, 'to') === 'thermostat-1').map((e) => data(e, 'setpoint'));
    expect(sent).toEqual(expect.arrayContaining([19, 16]));
    const applied = of('thermostat-1', 'setpoint_applied').map((e) => data(e, 'setpoint'));
    expect(applied).toEqual(expect.arrayContaining([19, 16]));
    expect(of('thermostat-2', 'setpoint_applied').length).toBeGreaterThan(0);
    expect(of('thermostat-1', 'telemetry').length).toBeGreaterThan(5);
  });

  it('renews JWTs over MQTT without dropping a session', () => {
    const end = of('demo', 'ending')[0]!.t;
    for (const id of ['hub', 'thermostat-1']) {
      const renewed = of(id, 'renewed');
      expect(renewed.length, id).toBeGreaterThanOrEqual(2);
      expect(renewed.every((e) => data(e, 'via') === 'mqtt'), id).toBe(true);
      expect(of(id, 'disconnected').filter((e) => e.t < end), id).toEqual([]);
    }
  });

  it('refuses the rogue three ways, and says why on the server side', () => {
    const forged = run.entries.find((e) => e.actor === 'rogue' && e.kind === 'refused' && data(e, 'attempt') === 'forged_token');
    expect(data(forged, 'returnCode')).toBe(4);
    expect(of('latchkey', 'connect_refused').some((e) => (data(e, 'detail') as { connack?: number }).connack === 4)).toBe(true);

    expect(of('rogue', 'denied').map((e) => data(e, 'topic'))).toContain('#');
    expect(of('latchkey', 'subscribe_denied').some((e) => data(e, 'principal') === 'rogue')).toBe(true);

    const publishDenied = of('latchkey', 'publish_denied').find((e) => data(e, 'principal') === 'rogue');
    expect((data(publishDenied, 'detail') as { topic: string }).topic).toBe('home/thermostat-1/setpoint');
    expect(of('rogue', 'disconnected').length).toBe(1);
    expect(of('thermostat-1', 'setpoint_applied').map((e) => data(e, 'setpoint'))).not.toContain(30);
  });

  it('cuts the disabled thermostat off within a second or two and keeps it out', () => {
    // Typed, then committed inside the CLI process, then the CLI returned: the cut-off may land anywhere after the
    // typing, and its delay counts from the return (0 if it came first), not from the CLI's start-up.
    const typedAt = of('operator', 'disable')[0]!.t;
    const disabledAt = of('operator', 'disabled')[0]!.t;
    const cutOff = of('thermostat-2', 'disconnected').find((e) => e.t >= typedAt);
    expect(cutOff).toBeDefined();
    expect(Math.max(0, cutOff!.t - disabledAt)).toBeLessThanOrEqual(2000);
    expect(of('latchkey', 'disconnected_by_broker').some((e) => data(e, 'principal') === 'thermostat-2')).toBe(true);
    expect(of('thermostat-2', 'refused').some((e) => e.t > disabledAt && data(e, 'returnCode') === 5)).toBe(true);
    expect(of('thermostat-2', 'connected').filter((e) => e.t > disabledAt)).toEqual([]);
    expect(of('hub', 'telemetry_received').filter((e) => data(e, 'from') === 'thermostat-2' && e.t > disabledAt + 1500)).toEqual([]);
  });

  it('onboards a new thermostat through the hub, and refuses the spent claim replayed', () => {
    expect(of('operator', 'template_created')).toHaveLength(1);
    const minted = of('hub', 'claim_minted');
    expect(minted).toHaveLength(1);
    const provisioned = of('thermostat-3', 'provisioned');
    expect(provisioned).toHaveLength(1);
    expect(provisioned[0]!.t).toBeGreaterThanOrEqual(minted[0]!.t);
    expect(data(provisioned[0], 'scope')).toBe('mqtt:publish:home/{client_id}/telemetry mqtt:subscribe:home/{client_id}/setpoint');
    expect(of('thermostat-3', 'connected').map((e) => data(e, 'mode'))).toEqual(['certificate']);
    expect(of('hub', 'telemetry_received').some((e) => data(e, 'from') === 'thermostat-3')).toBe(true);
    const replay = run.entries.find((e) => e.actor === 'rogue' && e.kind === 'refused' && data(e, 'attempt') === 'claim_replay');
    expect(data(replay, 'returnCode')).toBe(4);
    expect(of('rogue', 'provisioned')).toEqual([]);
    expect(of('latchkey', 'connect_refused').some((e) => String(data(e, 'reason')).startsWith('claim refused: claim used up'))).toBe(true);
    // The server says who vouched for whom, naming the claim by id.
    const audited = of('latchkey', 'provisioned').find((e) => data(e, 'principal') === 'thermostat-3');
    expect(data(audited, 'detail')).toMatchObject({ provisioned_by: 'hub', template: 'thermostat', claim: expect.stringMatching(/^clm_/) });
  });

  it('never prints a secret or a whole token', () => {
    expect(run.stdout).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
    expect(run.stdout).not.toMatch(/client_secret/);
    expect(run.stdout).not.toMatch(/lk_clm_/);
  });

  it('judges itself the same way and exits 0', () => {
    expect(run.stderr).toBe('');
    expect(run.report?.checks.filter((c) => !c.ok)).toEqual([]);
    expect(run.report?.ok).toBe(true);
    expect(run.code).toBe(0);
  });
});
