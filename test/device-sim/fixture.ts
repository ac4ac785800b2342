import type { DeviceEvent, DeviceOptions } from '../../device-sim/lib/index.js';
import type { TestServer } from '../helpers/latchkey.js';

/** A device may publish and subscribe under lab/<its id>/, so it can talk to itself. */
export const LAB_SCOPE = 'mqtt:publish:lab/{client_id}/# mqtt:subscribe:lab/{client_id}/#';

/** Fast reconnects so tests do not wait on production backoff. */
export const FAST_RECONNECT = { minMs: 100, maxMs: 1500 };

/** Options for a client-credentials device against a test server, recording every event. */
export function jwtDevice(server: TestServer, clientId: string, clientSecret: string, events: DeviceEvent[], extra: Partial<DeviceOptions> = {}): DeviceOptions {
  return {
    clientId,
    mqttUrl: server.mqttUrl,
    tokenEndpoint: `${server.baseUrl}/oauth/token`,
    clientSecret,
    reconnect: FAST_RECONNECT,
    onEvent: (e) => events.push(e),
    ...extra,
  };
}

export function types(events: DeviceEvent[]): string[] {
  return events.map((e) => e.type);
}

/** Polls until `check` holds; fails with `what` after `timeoutMs`. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
