import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** When each client connected through these helpers was closed, by this process's clock. */
const closeTimes = new WeakMap<MqttClient, number>();

/** Connects with mqtt.js (MQTT 3.1.1, no auto-reconnect); rejects with the CONNACK error. */
export async function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...options });
  // Recorded from the start, so a close that happens while the test is still awaiting the change keeps its true time.
  client.once('close', () => closeTimes.set(client, Date.now()));
  return client;
}

/**
 * Connects as a device and collects its messages from the first packet on.
 * A persistent session's queued messages can arrive in the same read as the
 * CONNACK, and mqtt.js emits them before an `await connect()` resumes: a
 * listener attached afterwards misses them (more often on a loaded machine).
 */
export async function connectDeviceCollecting(
  url: string,
  id: string,
  token: string,
  options: IClientOptions = {},
): Promise<{ client: MqttClient; seen: ReturnType<typeof collect> }> {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, clientId: id, username: id, password: token, ...options });
  const seen = collect(client);
  client.once('close', () => closeTimes.set(client, Date.now()));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
  return { client, seen };
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

/** The CONNACK return code a connect got: 0 if accepted (the client is then ended), else the refusal's code. */
export async function connackCode(attempt: Promise<MqttClient>): Promise<number> {
  try {
    return await refusalCode(attempt);
  } catch (err) {
    if ((err as Error).message === 'connect was accepted') return 0;
    throw err;
  }
}

/**
 * When the connection closed (Date.now() at its 'close' event, the recorded
 * time if it closed earlier). Rejects if still open after `waitMs`: a cap
 * that ends a hung test, not a bound under test.
 */
export function closedAt(client: MqttClient, waitMs = 10_000): Promise<number> {
  const recorded = closeTimes.get(client);
  if (recorded !== undefined) return Promise.resolve(recorded);
  // A client not made by connect() that is already closed: now is the latest it can have closed.
  if (!client.connected) return Promise.resolve(Date.now());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still connected after ${waitMs} ms`)), waitMs);
    client.once('close', () => {
      clearTimeout(timer);
      resolve(closeTimes.get(client) ?? Date.now());
    });
  });
}

/**
 * Asserts the broker closed the connection at most `ms` after `since`: the
 * moment the change that must close it was committed (for a CLI command, when
 * the command returned; by default, now). Resolves with that delay, 0 if it
 * closed before `since`. The bound is checked on the timestamps, and the wait
 * itself is generous: after a stall on a loaded machine Node runs due timers
 * before pending socket events, so a timer of `ms` would fail a close that
 * arrived in time.
 */
export async function closedWithin(client: MqttClient, ms: number, since = Date.now()): Promise<number> {
  const late = Math.max(0, (await closedAt(client, ms + 10_000)) - since);
  if (late > ms) throw new Error(`closed ${late} ms after the change, more than ${ms} ms`);
  return late;
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
