import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import mqtt from 'mqtt';
import { certificateSha256, newKeyAndCsr } from './csr.js';
import { DeviceError } from './device_error.js';
import { parseOnboardingString } from './onboarding.js';

/** What a provisioned device keeps (the key stays on the device; store it privately). */
export interface ProvisionedIdentity {
  clientId: string;
  /** PKCS#8 PEM of the key made here. */
  key: string;
  cert: string;
  /** The latchkey CA, pinned by the onboarding string's fingerprint. */
  ca: string;
  /** `mqtts://host:port` to connect to with the certificate. */
  mqttUrl: string;
  scope: string;
  notAfter: string;
}

export interface ProvisionOptions {
  /** The client id to ask for (must fit the template's prefix). */
  clientId: string;
  timeoutMs?: number;
}

/**
 * Provisions this device with an onboarding string (docs/INTERFACE.md#onboarding): pins the
 * server's CA by fingerprint on first contact (the CA is fetched, then
 * trusted only if its SHA-256 is the pinned one), makes a P-256 key that
 * never leaves the device, connects to MQTTS as `$claim`, sends a CSR on
 * `$provision/<id>/csr` and returns the certificate.
 *
 * @example const identity = await provision(onboardingString, { clientId: 'thermostat-3' });
 * Device.start({ clientId: identity.clientId, mqttUrl: identity.mqttUrl, cert: identity.cert, key: identity.key, ca: identity.ca });
 * @throws DeviceError `invalid_options` (not an onboarding string), `ca_mismatch`, `refused` (CONNACK), `provisioning_refused`, `network`
 */
export async function provision(onboardingString: string, opts: ProvisionOptions): Promise<ProvisionedIdentity> {
  const onboarding = parseOnboardingString(onboardingString);
  if (!onboarding) throw new DeviceError('invalid_options', 'not a latchkey://onboard?… string');
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const ca = await pinnedCa(onboarding.https, onboarding.caSha256, timeoutMs);
  const { keyPem, csrPem } = await newKeyAndCsr(opts.clientId);
  const mqttUrl = `mqtts://${onboarding.mqtts}`;
  let client: mqtt.MqttClient;
  try {
    client = await mqtt.connectAsync(mqttUrl, {
      protocolVersion: 4,
      clientId: opts.clientId,
      username: '$claim',
      password: onboarding.claim,
      ca,
      rejectUnauthorized: true,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
    });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'number') throw new DeviceError('refused', `provisioning CONNECT refused (CONNACK ${code})`, code);
    throw new DeviceError('network', `cannot reach ${mqttUrl}: ${(err as Error).message}`);
  }
  try {
    const base = `$provision/${opts.clientId}`;
    await client.subscribeAsync(`${base}/csr/response`, { qos: 0 });
    const requestId = randomUUID();
    const answer = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new DeviceError('network', 'no provisioning answer in time')), timeoutMs);
      client.on('message', (topic, payload) => {
        if (topic !== `${base}/csr/response`) return;
        const body = JSON.parse(payload.toString()) as Record<string, unknown>;
        if (body.request_id !== requestId && body.request_id !== null) return;
        clearTimeout(timer);
        resolve(body);
      });
      client.publish(`${base}/csr`, JSON.stringify({ request_id: requestId, csr: csrPem }), { qos: 0 });
    });
    if (typeof answer.certificate !== 'string') {
      throw new DeviceError('provisioning_refused', `${String(answer.error)}: ${String(answer.error_description ?? '')}`);
    }
    return {
      clientId: opts.clientId,
      key: keyPem,
      cert: answer.certificate,
      ca,
      mqttUrl,
      scope: String(answer.scope ?? ''),
      notAfter: String(answer.not_after ?? ''),
    };
  } finally {
    await client.endAsync(true).catch(() => {});
  }
}

/** Fetches `<https>/pki/ca.crt` unverified and keeps it only if it is the pinned CA. */
async function pinnedCa(httpsBase: string, pinned: string, timeoutMs: number): Promise<string> {
  const pem = await new Promise<string>((resolve, reject) => {
    const req = request(`${httpsBase}/pki/ca.crt`, { rejectUnauthorized: false, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new DeviceError('network', `GET /pki/ca.crt answered ${String(res.statusCode)}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => reject(err instanceof DeviceError ? err : new DeviceError('network', `cannot fetch the CA: ${err.message}`)));
    req.end();
  });
  let seen: string;
  try {
    seen = await certificateSha256(pem);
  } catch {
    throw new DeviceError('ca_mismatch', 'the server sent no certificate for its CA');
  }
  if (seen !== pinned) throw new DeviceError('ca_mismatch', `the server's CA (sha256 ${seen}) is not the pinned one: refusing to send the claim`);
  return pem;
}
