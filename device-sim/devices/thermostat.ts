import { Device, type DeviceOptions } from '../lib/index.js';
import { recordDeviceEvent, type Timeline } from '../timeline.js';
import { HeatingModel } from './heating_model.js';
import type { SimClock } from './sim_clock.js';
import { homeTopics, parseSetpoint } from './topics.js';

export interface ThermostatOptions {
  /** How to reach latchkey: client credentials or a certificate. */
  device: Omit<DeviceOptions, 'onEvent'>;
  clock: SimClock;
  timeline: Timeline;
  initialTemperature?: number;
  initialSetpoint?: number;
  /** Telemetry interval, wall-clock ms; default 1000. */
  telemetryEveryMs?: number;
  /** Print a status line every this many telemetry reports; default 3. */
  printEvery?: number;
}

/**
 * A smart thermostat: a {@link HeatingModel} room that reports telemetry on
 * `home/<id>/telemetry` and obeys setpoints on `home/<id>/setpoint`. The
 * device library does all the credential work.
 *
 * @example const t = Thermostat.start({ device: { clientId: 't1', mqttUrl, tokenEndpoint, clientSecret }, clock, timeline });
 */
export class Thermostat {
  readonly device: Device;
  private readonly room: HeatingModel;
  private readonly timer: NodeJS.Timeout;
  private lastStep = Date.now();
  private reports = 0;

  private constructor(private readonly opts: ThermostatOptions) {
    const id = opts.device.clientId;
    this.room = new HeatingModel({ temperature: opts.initialTemperature ?? 17.5, setpoint: opts.initialSetpoint ?? 18, heating: false });
    this.device = Device.start({ ...opts.device, onEvent: (e) => recordDeviceEvent(opts.timeline, id, e) });
    void this.device.subscribe(homeTopics.setpoint(id)).catch(() => {});
    this.device.on('message', (topic, payload) => {
      if (topic !== homeTopics.setpoint(id)) return;
      const setpoint = parseSetpoint(payload);
      if (setpoint === null) {
        opts.timeline.add(id, 'setpoint_ignored', `ignored an invalid setpoint ${payload.toString().slice(0, 40)}`);
        return;
      }
      const before = this.room.current.setpoint;
      this.room.setSetpoint(setpoint);
      opts.timeline.add(id, 'setpoint_applied', `setpoint ${before} → ${setpoint} °C`, { setpoint });
    });
    this.timer = setInterval(() => void this.tick(), opts.telemetryEveryMs ?? 1000);
  }

  static start(opts: ThermostatOptions): Thermostat {
    return new Thermostat(opts);
  }

  get id(): string {
    return this.device.clientId;
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    const wasHeating = this.room.current.heating;
    const state = this.room.step((now - this.lastStep) / 1000 / this.opts.clock.secondsPerHour);
    this.lastStep = now;
    const { timeline } = this.opts;
    // Recorded for the checks; the printed telemetry already shows the heater.
    if (state.heating !== wasHeating) {
      timeline.add(this.id, 'heater', `heater ${state.heating ? 'on' : 'off'} at ${state.temperature.toFixed(1)} °C (setpoint ${state.setpoint} °C)`, { heating: state.heating }, { quiet: true });
    }
    if (!this.device.connected) return;
    const telemetry = { temperature: Math.round(state.temperature * 10) / 10, setpoint: state.setpoint, heating: state.heating, time: this.opts.clock.label() };
    try {
      await this.device.publish(homeTopics.telemetry(this.id), JSON.stringify(telemetry), { qos: 0 });
      this.reports += 1;
      const quiet = this.reports % (this.opts.printEvery ?? 3) !== 1;
      timeline.add(
        this.id,
        'telemetry',
        `${telemetry.time}  ${telemetry.temperature.toFixed(1)} °C, setpoint ${telemetry.setpoint} °C, heater ${telemetry.heating ? 'on' : 'off'}`,
        telemetry,
        { quiet },
      );
    } catch {
      // Offline between the check and the publish: the reading is simply lost, like a real sensor's.
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.device.close();
  }
}
