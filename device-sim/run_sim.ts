import { setTimeout as sleep } from 'node:timers/promises';
import { Hub } from './devices/hub.js';
import { runRogue } from './devices/rogue.js';
import { SimClock } from './devices/sim_clock.js';
import { Thermostat } from './devices/thermostat.js';
import type { DeviceOptions } from './lib/index.js';
import type { SimConfig } from './sim_config.js';
import type { Timeline } from './timeline.js';

/**
 * Runs the configured devices until `signal` aborts (or the duration ends),
 * then disconnects them cleanly.
 *
 * @example await runSim(config, new Timeline(), AbortSignal.timeout(30_000));
 */
export async function runSim(config: SimConfig, timeline: Timeline, signal: AbortSignal): Promise<void> {
  const clock = new SimClock({ startHour: 20, secondsPerHour: config.secondsPerHour });
  const reconnect = { minMs: 500, maxMs: 30_000 };
  const jwt = (d: { clientId: string; clientSecret: string }): Omit<DeviceOptions, 'onEvent'> => ({
    clientId: d.clientId,
    mqttUrl: config.mqttUrl!,
    tokenEndpoint: config.tokenEndpoint!,
    clientSecret: d.clientSecret,
    reconnect,
    ...(config.ca ? { ca: config.ca } : {}),
  });
  const running: Array<{ stop(): Promise<void> }> = [];
  try {
    for (const t of config.thermostats) {
      const device: Omit<DeviceOptions, 'onEvent'> =
        'cert' in t ? { clientId: t.clientId, mqttUrl: config.mqttsUrl!, cert: t.cert, key: t.key, reconnect, ...(config.ca ? { ca: config.ca } : {}) } : jwt(t);
      running.push(Thermostat.start({ device, clock, timeline }));
    }
    if (config.hub) running.push(Hub.start({ device: jwt(config.hub), clock, timeline, thermostats: config.thermostats.map((t) => t.clientId) }));
    if (config.rogue) {
      const victim = config.rogue.victim ?? config.thermostats[0]?.clientId ?? 'thermostat-1';
      await sleep(2_000, undefined, { signal }).catch(() => {});
      if (!signal.aborted) await runRogue({ device: jwt(config.rogue), victim, timeline }).catch((err: unknown) => timeline.add(config.rogue!.clientId, 'error', (err as Error).message));
    }
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await Promise.allSettled(running.map((r) => r.stop()));
  }
}
