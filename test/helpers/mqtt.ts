import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** Connects with mqtt.js (MQTT 3.1.1, no auto-reconnect); rejects with the CONNACK error. */
export function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options });
}

/** Connects as a device: username and client id = id, password = token. */
export function connectDevice(url: string, id: string, token: string, options: IClientOptions = {}): Promise<MqttClient> {
  return connect(url, { clientId: id, username: id, password: token, ...options });
}

/** The CONNACK return code a refused connect got (mqtt.js puts it on `code`). */
export async function refusalCode(attempt: Promise<MqttClient>): Promise<number> {
  try {
    const client = await attempt;
    await client.endAsync(true);
    throw new Error('connect was accepted');
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (typeof code !== 'number') throw err;
    return code;
  }
}

/** Resolves when the broker closes the connection; rejects after `ms`. */
export function closedWithin(client: MqttClient, ms: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (!client.connected) return resolve(0);
    const timer = setTimeout(() => reject(new Error(`still connected after ${ms} ms`)), ms);
    client.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

/** Collects messages per topic. */
export function collect(client: MqttClient): { topic: string; payload: string; retain: boolean }[] {
  const seen: { topic: string; payload: string; retain: boolean }[] = [];
  client.on('message', (topic, payload, packet) => seen.push({ topic, payload: payload.toString(), retain: packet.retain }));
  return seen;
}

/** SUBACK granted QoS per filter (128 = refused). */
export async function subscribeCodes(client: MqttClient, filters: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    client.subscribe(filters, { qos: 1 }, (err, granted) => {
      // mqtt.js turns any 0x80 into an error carrying the SUBACK; the codes are what we assert.
      const suback = (err as { packet?: { granted?: number[] } } | null)?.packet?.granted;
      if (suback) return resolve(suback);
      if (granted && !err) return resolve(granted.map((g) => g.qos));
      reject(err ?? new Error('no SUBACK'));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true or `ms` passes. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`${what} not reached within ${ms} ms`);
}
