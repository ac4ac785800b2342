import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { Device, DeviceError, type DeviceOptions } from '../lib/index.js';
import { recordDeviceEvent, type Timeline } from '../timeline.js';
import { homeTopics } from './topics.js';

export interface RogueOptions {
  /** The rogue's own, legitimately registered credentials (it is a compromised device, not a stranger). */
  device: Omit<DeviceOptions, 'onEvent'>;
  /** The thermostat it tries to take over. */
  victim: string;
  timeline: Timeline;
}

/** What each attempt came to; every field true means latchkey held. */
export interface RogueOutcome {
  forgedTokenRefused: boolean;
  wildcardSubscribeDenied: boolean;
  foreignSetpointCutOff: boolean;
}

/**
 * An ES256 access token that looks right (typ, kid, claims, a real ECDSA
 * signature) but is signed by a key latchkey never issued.
 */
function forgeToken(victim: string, issuer: string): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'ES256', typ: 'at+jwt', kid: 'forged' };
  const claims = {
    iss: issuer,
    sub: victim,
    client_id: victim,
    aud: 'urn:latchkey:mqtt',
    scope: 'mqtt:publish:# mqtt:subscribe:#',
    iat: now,
    exp: now + 3600,
    jti: randomUUID(),
  };
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/**
 * The attacker's three tries, in order:
 * 1. connect as the victim with a forged token → CONNACK 4;
 * 2. connect as itself and subscribe to `#` → SUBACK 0x80;
 * 3. publish a setpoint to the victim → the broker closes the connection
 *    (MQTT 3.1.1 has no negative PUBACK; [MQTT-3.3.5-2]).
 *
 * @example const outcome = await runRogue({ device: { clientId: 'rogue', … }, victim: 'thermostat-1', timeline });
 */
export async function runRogue(opts: RogueOptions): Promise<RogueOutcome> {
  const { timeline, victim } = opts;
  const id = opts.device.clientId;
  const outcome: RogueOutcome = { forgedTokenRefused: false, wildcardSubscribeDenied: false, foreignSetpointCutOff: false };

  // 1. A forged token, presented as the victim.
  timeline.add(id, 'attempt', `tries to connect as ${victim} with a forged token`, { attempt: 'forged_token' });
  const issuer = opts.device.tokenEndpoint ? new URL(opts.device.tokenEndpoint).origin : 'http://localhost:8080';
  try {
    const impostor = await Device.connect({ clientId: victim, mqttUrl: opts.device.mqttUrl, accessToken: forgeToken(victim, issuer) });
    await impostor.close();
    timeline.add(id, 'breach', `connected as ${victim} with a forged token!`, { attempt: 'forged_token' });
  } catch (err) {
    outcome.forgedTokenRefused = err instanceof DeviceError && err.code === 'refused';
    const text = err instanceof DeviceError && err.returnCode !== undefined ? `forged token refused: CONNACK ${err.returnCode}` : `forged token failed: ${(err as Error).message}`;
    timeline.add(id, 'refused', text, { attempt: 'forged_token', returnCode: err instanceof DeviceError ? err.returnCode : undefined });
  }

  // 2 and 3 with its own credentials.
  const device = await Device.connect({ ...opts.device, onEvent: (e) => recordDeviceEvent(timeline, id, e) });
  try {
    timeline.add(id, 'attempt', 'subscribes to # to read everything', { attempt: 'subscribe_all' });
    try {
      await device.subscribe('#', { qos: 0 });
      timeline.add(id, 'breach', 'subscribed to #!', { attempt: 'subscribe_all' });
    } catch (err) {
      outcome.wildcardSubscribeDenied = err instanceof DeviceError && err.code === 'subscribe_denied';
    }

    timeline.add(id, 'attempt', `publishes setpoint 30 °C to ${victim}`, { attempt: 'foreign_setpoint' });
    const cutOff = device.waitFor('disconnected', () => true, 3_000).then(
      () => true,
      () => false,
    );
    await device.publish(homeTopics.setpoint(victim), JSON.stringify({ setpoint: 30 }), { qos: 0 }).catch(() => {});
    outcome.foreignSetpointCutOff = await cutOff;
    if (!outcome.foreignSetpointCutOff) timeline.add(id, 'breach', `still connected after publishing to ${victim}'s setpoint`, { attempt: 'foreign_setpoint' });
  } finally {
    await device.close();
  }
  return outcome;
}
