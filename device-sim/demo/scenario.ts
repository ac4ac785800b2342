import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Hub } from '../devices/hub.js';
import { runRogue } from '../devices/rogue.js';
import { SimClock } from '../devices/sim_clock.js';
import { Thermostat } from '../devices/thermostat.js';
import { DeviceError, provision as provisionWithClaim } from '../lib/index.js';
import { SCOPES } from '../devices/topics.js';
import type { Timeline } from '../timeline.js';
import { CAST, checkScenario, type CheckResult } from './checks.js';
import { runLatchkey } from './latchkey_cli.js';
import { createClient, issueCertificate } from './provision.js';
import { recordServerLog } from './server_log.js';
import { startServerProcess, type ServerProcess } from './server_process.js';

export interface ScenarioOptions {
  timeline: Timeline;
  /** Wall-clock length of the device phase, ms; default 24 s (one simulated day). */
  durationMs?: number;
  /** Aborting (Ctrl-C) stops the run early; everything is still cleaned up. */
  signal?: AbortSignal;
}

export interface ScenarioResult {
  checks: CheckResult[];
  ok: boolean;
}

/** When things happen, ms after the devices start. */
const ROGUE_AT = 3_000;
const ONBOARD_AT = 5_000;
const DISABLE_AT = 12_000;
/** Short-lived tokens so renewals happen within the demo: 8 s tokens, warned 3 s before expiry. */
const TOKEN_TTL = '8s';
const EXPIRY_WARNING = '3s';
const RECONNECT = { minMs: 500, maxMs: 4_000 };

/**
 * The whole story in one call: a fresh latchkey on free ports in a
 * temporary directory, the operator provisioning four devices with the CLI,
 * a hub and two thermostats running a compressed day, a rogue device
 * refused three ways, a thermostat disabled mid-run, a clean shutdown.
 * Everything is cleaned up, whatever happens.
 *
 * @example const { ok } = await runScenario({ timeline: new Timeline() }); process.exitCode = ok ? 0 : 1;
 */
export async function runScenario(opts: ScenarioOptions): Promise<ScenarioResult> {
  const { timeline } = opts;
  const durationMs = opts.durationMs ?? 24_000;
  const wait = (ms: number): Promise<void> => sleep(Math.max(0, ms), undefined, opts.signal ? { signal: opts.signal } : {});
  const root = mkdtempSync(join(tmpdir(), 'latchkey-demo-'));
  const dirs = { dataDir: join(root, 'data'), certsDir: join(root, 'certs') };
  let server: ServerProcess | null = null;
  const running: Array<{ stop(): Promise<void> }> = [];
  let disabledAt: number | null = null;
  let endedAt = Number.POSITIVE_INFINITY;
  let serverExitCode: number | null = null;

  try {
    timeline.note(`latchkey demo – temporary data in ${root}`, 'bold');
    server = await startServerProcess(dirs, ['--expiry-warning', EXPIRY_WARNING], (line) => recordServerLog(timeline, line));
    const { ports } = server;
    timeline.add('latchkey', 'listening', `listening: MQTT ${ports.mqtt}, MQTTS ${ports.mqtts}, HTTP ${ports.http}, HTTPS ${ports.https}`, { ports });
    const mqttUrl = `mqtt://127.0.0.1:${ports.mqtt}`;
    const mqttsUrl = `mqtts://127.0.0.1:${ports.mqtts}`;
    const tokenEndpoint = `http://127.0.0.1:${ports.http}/oauth/token`;
    const ca = readFileSync(join(dirs.certsDir, 'ca.crt'), 'utf8');

    // The operator provisions every device with the CLI, as on a real installation.
    const provision = async (id: string, scope: string, extra: { tokenTtl?: string; authMethod?: string } = {}): Promise<string | null> => {
      const secret = await createClient(dirs, id, scope, extra);
      timeline.add('operator', 'client_created', `latchkey client create ${id} --scope "${scope}"${extra.tokenTtl ? ` --token-ttl ${extra.tokenTtl}` : ''}`, { id, scope });
      return secret;
    };
    // The hub may vouch for new thermostats: provision:thermostat lets it mint claims for that template.
    const hubSecret = await provision(CAST.hub, `${SCOPES.hub} provision:thermostat`, { tokenTtl: TOKEN_TTL });
    const t1Secret = await provision(CAST.jwtThermostat, SCOPES.thermostat, { tokenTtl: TOKEN_TTL });
    await provision(CAST.certThermostat, SCOPES.thermostat);
    const rogueSecret = await provision(CAST.rogue, SCOPES.rogue);
    const certDir = join(root, 'device-certs');
    mkdirSync(certDir, { recursive: true });
    const t2Cert = await issueCertificate(dirs, CAST.certThermostat, certDir);
    const template = await runLatchkey(dirs, ['template', 'create', 'thermostat', '--scope', SCOPES.thermostat, '--id-prefix', 'thermostat-', '--json']);
    if (template.code !== 0) throw new Error(`template create failed: ${template.stderr.trim()}`);
    timeline.add('operator', 'template_created', `latchkey template create thermostat --scope "${SCOPES.thermostat}" --id-prefix thermostat-`, { template: 'thermostat' });
    timeline.add('operator', 'certificate_issued', `device certificate for ${CAST.certThermostat} (CN=${CAST.certThermostat}, signed by the latchkey CA)`, { id: CAST.certThermostat, via: t2Cert.via });

    timeline.note('devices start; one simulated hour per second, from 20:00', 'dim');
    const clock = new SimClock({ startHour: 20, secondsPerHour: 1 });
    const started = Date.now();
    const jwt = (id: string, secret: string | null) => ({ clientId: id, mqttUrl, tokenEndpoint, clientSecret: secret!, reconnect: RECONNECT });
    const hub = Hub.start({ device: jwt(CAST.hub, hubSecret), clock, timeline, thermostats: [CAST.jwtThermostat, CAST.certThermostat] });
    running.push(hub);
    const t1 = Thermostat.start({ device: jwt(CAST.jwtThermostat, t1Secret), clock, timeline, initialTemperature: 17.2 });
    running.push(t1);
    const t2 = Thermostat.start({
      device: { clientId: CAST.certThermostat, mqttUrl: mqttsUrl, cert: t2Cert.cert, key: t2Cert.key, ca, reconnect: RECONNECT },
      clock,
      timeline,
      initialTemperature: 18.4,
    });
    running.push(t2);

    await wait(ROGUE_AT - (Date.now() - started));
    timeline.note('a compromised device tries its luck', 'dim');
    await runRogue({ device: jwt(CAST.rogue, rogueSecret), victim: CAST.jwtThermostat, timeline });

    await wait(ONBOARD_AT - (Date.now() - started));
    timeline.note('a new thermostat joins the home: the hub vouches for it', 'dim');
    const t3 = await onboardThermostat({ hub, timeline, clock, reconnect: RECONNECT });
    if (t3) running.push(t3);

    await wait(DISABLE_AT - (Date.now() - started));
    timeline.add('operator', 'disable', `latchkey client disable ${CAST.certThermostat}`, { id: CAST.certThermostat });
    const disabled = await runLatchkey(dirs, ['client', 'disable', CAST.certThermostat, '--json']);
    if (disabled.code !== 0) throw new Error(`client disable failed: ${disabled.stderr.trim()}`);
    // The change is committed when the CLI returns; the clock for "cut off within 1 s" starts here.
    disabledAt = timeline.add('operator', 'disabled', `${CAST.certThermostat} disabled`, { id: CAST.certThermostat }, { quiet: true }).t;

    await wait(durationMs - (Date.now() - started));
    endedAt = timeline.add('demo', 'ending', 'time is up: devices disconnect', undefined, { quiet: true }).t;
  } finally {
    await Promise.allSettled(running.map((r) => r.stop()));
    if (server !== null) {
      serverExitCode = await server.stop();
      timeline.add('latchkey', 'stopped', `stopped on SIGTERM, exit ${String(serverExitCode)}`, { exitCode: serverExitCode });
    }
    rmSync(root, { recursive: true, force: true });
  }

  const checks = checkScenario(timeline.entries, { disabledAt, endedAt, serverExitCode });
  return { checks, ok: checks.every((c) => c.ok) };
}

/**
 * Hub-vouched onboarding: the hub mints a one-time claim over its own
 * session and hands the onboarding string to the new thermostat out of
 * band; the thermostat makes its own key, pins the CA, provisions over
 * MQTTS and starts reporting with its certificate. Then a rogue that
 * overheard the string replays the spent claim and is refused.
 */
async function onboardThermostat(opts: { hub: Hub; timeline: Timeline; clock: SimClock; reconnect: typeof RECONNECT }): Promise<Thermostat | null> {
  const { hub, timeline } = opts;
  let onboarding: string;
  try {
    const minted = await hub.device.requestClaim({ uses: 1, expiresIn: 300 });
    onboarding = minted.onboarding;
    timeline.add(CAST.hub, 'claim_minted', `minted a one-time claim (valid until ${minted.expiresAt}) and hands the onboarding string to ${CAST.newThermostat}`, { expiresAt: minted.expiresAt });
  } catch (err) {
    timeline.add(CAST.hub, 'claim_refused', `could not mint a claim: ${(err as Error).message}`);
    return null;
  }
  let thermostat: Thermostat | null = null;
  try {
    const identity = await provisionWithClaim(onboarding, { clientId: CAST.newThermostat });
    timeline.add(CAST.newThermostat, 'provisioned', `provisioned itself: own P-256 key, CA pinned by fingerprint, certificate until ${identity.notAfter}`, { notAfter: identity.notAfter, scope: identity.scope });
    thermostat = Thermostat.start({
      device: { clientId: identity.clientId, mqttUrl: identity.mqttUrl, cert: identity.cert, key: identity.key, ca: identity.ca, reconnect: opts.reconnect },
      clock: opts.clock,
      timeline,
      initialTemperature: 16.8,
    });
  } catch (err) {
    timeline.add(CAST.newThermostat, 'provision_failed', `provisioning failed: ${(err as Error).message}`);
  }
  timeline.add(CAST.rogue, 'attempt', 'replays the overheard onboarding string to join as thermostat-9', { attempt: 'claim_replay' });
  try {
    await provisionWithClaim(onboarding, { clientId: 'thermostat-9' });
    timeline.add(CAST.rogue, 'provisioned', 'the spent claim worked: this must never happen', { attempt: 'claim_replay' });
  } catch (err) {
    const returnCode = err instanceof DeviceError ? (err.returnCode ?? null) : null;
    timeline.add(CAST.rogue, 'refused', `spent claim refused${returnCode !== null ? `: CONNACK ${returnCode}` : ''} (${(err as Error).message})`, { attempt: 'claim_replay', returnCode });
  }
  return thermostat;
}
