import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOPES } from '../../device-sim/devices/topics.js';
import { runSim } from '../../device-sim/run_sim.js';
import { parseSimArgs, SimConfigError } from '../../device-sim/sim_config.js';
import { Timeline } from '../../device-sim/timeline.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/latchkey.js';
import { certificatesOf } from '../helpers/mtls.js';

const SIM = resolve(import.meta.dirname, '../../dist/device-sim/sim.js');
const silent = (): Writable => new Writable({ write: (_c, _e, done) => done() });

describe('npm run sim: configuration', () => {
  const dir = tempDir('latchkey-sim-config-');
  writeFileSync(join(dir, 't2.crt'), 'CERT');
  writeFileSync(join(dir, 't2.key'), 'KEY');
  writeFileSync(join(dir, 'ca.crt'), 'CA');
  const file = join(dir, 'home.json');
  writeFileSync(
    file,
    JSON.stringify({
      mqttUrl: 'mqtt://file:1883',
      mqttsUrl: 'mqtts://file:8883',
      tokenEndpoint: 'http://file:8080/oauth/token',
      ca: 'ca.crt',
      hub: { clientId: 'hub', clientSecret: 's-hub' },
      thermostats: [{ clientId: 't1', clientSecret: 's:1' }, { clientId: 't2', cert: 't2.crt', key: 't2.key' }],
    }),
  );
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the JSON file, paths relative to it; flags win', () => {
    const config = parseSimArgs(['--config', file, '--mqtt-url', 'mqtt://flag:1883', '--thermostat', 't3:secret:with:colons'])!;
    expect(config).toMatchObject({
      mqttUrl: 'mqtt://flag:1883',
      mqttsUrl: 'mqtts://file:8883',
      ca: 'CA',
      hub: { clientId: 'hub', clientSecret: 's-hub' },
      thermostats: [
        { clientId: 't1', clientSecret: 's:1' },
        { clientId: 't2', cert: 'CERT', key: 'KEY' },
        { clientId: 't3', clientSecret: 'secret:with:colons' },
      ],
      secondsPerHour: 1,
      json: false,
    });
  });

  it('answers --help with null and refuses what cannot run, with one clear message', () => {
    expect(parseSimArgs(['--help'])).toBeNull();
    const rows: Array<[string[], RegExp]> = [
      [[], /nothing to run/],
      [['--hub', 'hub:s'], /need --mqtt-url and --token-endpoint/],
      [['--hub', 'no-secret', '--mqtt-url', 'mqtt://x', '--token-endpoint', 'http://x'], /--hub wants <id>:<secret>/],
      [['--cert-thermostat', 't2:a.crt'], /--cert-thermostat wants/],
      [['--cert-thermostat', `t2:${join(dir, 't2.crt')}:${join(dir, 't2.key')}`], /need --mqtts-url/],
      [['--config', join(dir, 'missing.json')], /cannot read/],
      [['--bogus'], /Unknown option/],
      [['--thermostat', 't:s', '--mqtt-url', 'mqtt://x', '--token-endpoint', 'http://x', '--duration', 'soon'], /--duration must be a number/],
    ];
    for (const [args, message] of rows) {
      expect(() => parseSimArgs(args), args.join(' ')).toThrow(SimConfigError);
      expect(() => parseSimArgs(args), args.join(' ')).toThrow(message);
    }
  });

  it('the built entry point prints usage for --help and exits 2 on bad flags', () => {
    const help = spawnSync(process.execPath, [SIM, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^npm run sim -- \[options\]/);
    const bad = spawnSync(process.execPath, [SIM], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('error: nothing to run: give --hub and/or --thermostat (see --help)\n');
  });
});

describe('npm run sim: against a running latchkey', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  it('runs a hub, a JWT thermostat and a certificate thermostat that talk to each other', async () => {
    const hubSecret = server.createClient('hub', SCOPES.hub);
    const t1Secret = server.createClient('thermostat-1', SCOPES.thermostat);
    server.createClient('thermostat-2', SCOPES.thermostat);
    // Through the registry, as `cert issue` does: latchkey accepts only certificates it recorded.
    const issued = await (await certificatesOf(server)).issue('thermostat-2', { days: 1 }, 'test');
    const timeline = new Timeline({ out: silent() });
    await runSim(
      {
        mqttUrl: server.mqttUrl,
        mqttsUrl: server.mqttsUrl,
        tokenEndpoint: `${server.baseUrl}/oauth/token`,
        ca: readFileSync(join(server.certsDir, 'ca.crt'), 'utf8'),
        hub: { clientId: 'hub', clientSecret: hubSecret },
        thermostats: [
          { clientId: 'thermostat-1', clientSecret: t1Secret },
          { clientId: 'thermostat-2', cert: issued.certPem, key: issued.keyPem! },
        ],
        // Both thermostats must be up before 22:00 to get the day setpoint: a JWT device fetches a token first,
        // which took over 2 s on the loaded CI machine, so the simulated hour is 4 s, not 1 s.
        secondsPerHour: 4,
        json: false,
      },
      timeline,
      AbortSignal.timeout(10_500),
    );
    expect(timeline.find({ kind: 'connected' }).map((e) => `${e.actor}:${String(e.data?.mode)}`).sort()).toEqual([
      'hub:jwt',
      'thermostat-1:jwt',
      'thermostat-2:certificate',
    ]);
    expect(new Set(timeline.find({ actor: 'hub', kind: 'telemetry_received' }).map((e) => e.data?.from))).toEqual(new Set(['thermostat-1', 'thermostat-2']));
    // 20:00 is day: both got 19 °C; 22:00 (8 s in) is night: 16 °C. The setpoint is a retained QoS 1 message:
    // at least once, so a subscription racing the hub's publish may see it live and again as the retained copy
    // (seen under load). The order of the changes is what the schedule promises.
    const changes = (values: unknown[]): unknown[] => values.filter((v, i) => i === 0 || v !== values[i - 1]);
    for (const id of ['thermostat-1', 'thermostat-2']) {
      expect(changes(timeline.find({ actor: id, kind: 'setpoint_applied' }).map((e) => e.data?.setpoint)), id).toEqual([19, 16]);
    }
    expect(timeline.find({ kind: 'closed' }).map((e) => e.actor).sort()).toEqual(['hub', 'thermostat-1', 'thermostat-2']);
  });
});

