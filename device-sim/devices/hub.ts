import { Device, type DeviceOptions } from '../lib/index.js';
import { recordDeviceEvent, type Timeline } from '../timeline.js';
import { DEFAULT_SCHEDULE, setpointAt, type Schedule } from './schedule.js';
import type { SimClock } from './sim_clock.js';
import { homeTopics, parseTelemetry, type Telemetry } from './topics.js';

export interface HubOptions {
  device: Omit<DeviceOptions, 'onEvent'>;
  clock: SimClock;
  timeline: Timeline;
  /** The thermostats it sets; more are learned from their telemetry. */
  thermostats: string[];
  schedule?: Schedule;
}

/**
 * The home hub: listens to every thermostat's telemetry and sets each one
 * to the schedule's setpoint whenever the period (day/night) changes.
 * Setpoints are retained, so a thermostat that reconnects gets the current
 * one at once.
 *
 * @example const hub = Hub.start({ device: { clientId: 'hub', mqttUrl, tokenEndpoint, clientSecret }, clock, timeline, thermostats: ['t1'] });
 */
export class Hub {
  readonly device: Device;
  /** Latest telemetry per thermostat. */
  readonly latest = new Map<string, Telemetry & { at: number }>();
  /** The setpoint last acknowledged per thermostat. */
  private readonly sent = new Map<string, number>();
  private readonly inFlight = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private period: 'day' | 'night' | null = null;

  private constructor(private readonly opts: HubOptions) {
    const id = opts.device.clientId;
    this.device = Device.start({ ...opts.device, onEvent: (e) => recordDeviceEvent(opts.timeline, id, e) });
    void this.device.subscribe(homeTopics.allTelemetry).catch(() => {});
    this.device.on('message', (topic, payload) => this.onTelemetry(topic, payload));
    for (const t of opts.thermostats) this.sent.set(t, Number.NaN);
    this.timer = setInterval(() => this.tick(), 200);
  }

  static start(opts: HubOptions): Hub {
    return new Hub(opts);
  }

  get id(): string {
    return this.device.clientId;
  }

  private onTelemetry(topic: string, payload: Buffer): void {
    const from = homeTopics.thermostatOf(topic);
    const telemetry = from === null ? null : parseTelemetry(payload);
    if (from === null || telemetry === null) return;
    const first = !this.latest.has(from);
    this.latest.set(from, { ...telemetry, at: Date.now() });
    if (!this.sent.has(from)) this.sent.set(from, Number.NaN);
    this.opts.timeline.add(
      this.id,
      'telemetry_received',
      first ? `receiving telemetry from ${from}: ${telemetry.temperature.toFixed(1)} °C` : `${from}: ${telemetry.temperature.toFixed(1)} °C`,
      { from, temperature: telemetry.temperature, heating: telemetry.heating },
      { quiet: !first },
    );
  }

  private tick(): void {
    const { period, setpoint } = setpointAt(this.opts.clock.hour(), this.opts.schedule ?? DEFAULT_SCHEDULE);
    if (period !== this.period) {
      this.period = period;
      this.opts.timeline.add(this.id, 'schedule', `${this.opts.clock.label()} – ${period}: ${setpoint} °C for every thermostat`, { period, setpoint });
    }
    if (!this.device.connected) return;
    for (const [thermostat, current] of this.sent) {
      if (current === setpoint || this.inFlight.has(thermostat)) continue;
      this.inFlight.add(thermostat);
      this.device
        .publish(homeTopics.setpoint(thermostat), JSON.stringify({ setpoint }), { qos: 1, retain: true })
        .then(
          () => {
            this.sent.set(thermostat, setpoint);
            this.opts.timeline.add(this.id, 'setpoint_sent', `setpoint ${setpoint} °C → ${thermostat}`, { to: thermostat, setpoint, period });
          },
          () => {}, // offline: the next tick tries again
        )
        .finally(() => this.inFlight.delete(thermostat));
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.device.close();
  }
}
