import { describe, expect, it } from 'vitest';
import { HeatingModel } from '../../device-sim/devices/heating_model.js';
import { setpointAt } from '../../device-sim/devices/schedule.js';
import { SimClock } from '../../device-sim/devices/sim_clock.js';
import { homeTopics, parseSetpoint } from '../../device-sim/devices/topics.js';

describe('the simulated home', () => {
  it('schedule: 19 °C from 06:00, 16 °C from 22:00', () => {
    const rows: Array<[number, 'day' | 'night', number]> = [
      [0, 'night', 16],
      [5.99, 'night', 16],
      [6, 'day', 19],
      [21.99, 'day', 19],
      [22, 'night', 16],
    ];
    for (const [hour, period, setpoint] of rows) expect(setpointAt(hour), `${hour}h`).toEqual({ period, setpoint });
  });

  it('clock: one simulated hour per configured second, wrapping at midnight', () => {
    let now = 0;
    const clock = new SimClock({ startHour: 20, secondsPerHour: 1 }, () => now);
    expect(clock.label()).toBe('20:00');
    now = 2_500;
    expect(clock.label()).toBe('22:30');
    now = 10_000;
    expect(clock.hour()).toBe(6);
  });

  it('room: warms toward the setpoint with the heater on, then holds it within the hysteresis', () => {
    const room = new HeatingModel({ temperature: 15, setpoint: 19, heating: false });
    expect(room.current.heating).toBe(true);
    const first = room.step(1);
    expect(first.temperature).toBeGreaterThan(15.5);
    expect(first.temperature).toBeLessThan(17);
    for (let i = 0; i < 24; i++) room.step(0.5);
    expect(Math.abs(room.current.temperature - 19)).toBeLessThanOrEqual(0.5);
  });

  it('room: cools toward the outside with the heater off', () => {
    const room = new HeatingModel({ temperature: 19, setpoint: 16, heating: true });
    expect(room.current.heating).toBe(false);
    const later = room.step(1);
    expect(later.temperature).toBeLessThan(19);
    expect(later.temperature).toBeGreaterThan(17.5);
  });

  it('topics and payloads', () => {
    expect(homeTopics.thermostatOf('home/t-1/telemetry')).toBe('t-1');
    expect(homeTopics.thermostatOf('home/t-1/setpoint')).toBeNull();
    expect(homeTopics.thermostatOf('home/a/b/telemetry')).toBeNull();
    expect(parseSetpoint(Buffer.from('{"setpoint":19}'))).toBe(19);
    expect(parseSetpoint(Buffer.from('{"setpoint":99}'))).toBeNull();
    expect(parseSetpoint(Buffer.from('19'))).toBeNull();
  });
});
