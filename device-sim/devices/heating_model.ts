/** What a thermostat knows and reports. */
export interface HeatingState {
  /** Room temperature, °C. */
  temperature: number;
  setpoint: number;
  heating: boolean;
}

export interface HeatingParameters {
  /** Outdoor temperature the room drifts toward, °C. */
  outside: number;
  /** Warming from the heater at full power, °C per simulated hour. */
  heaterRate: number;
  /** Fraction of the indoor/outdoor difference lost per simulated hour. */
  lossRate: number;
  /** The heater switches on below setpoint − hysteresis and off above setpoint + hysteresis. */
  hysteresis: number;
}

export const DEFAULT_HEATING: HeatingParameters = { outside: 6, heaterRate: 1.6, lossRate: 0.06, hysteresis: 0.4 };

/**
 * A room with one heater and a bang-bang thermostat:
 * dT/dt = heaterRate·on − lossRate·(T − outside), per simulated hour.
 * With the defaults a room at 16 °C warms about 1 °C an hour and cools
 * about 0.6 °C an hour with the heater off: slow enough to be plausible,
 * fast enough to see in a compressed day.
 *
 * @example
 * const room = new HeatingModel({ temperature: 17, setpoint: 19, heating: false });
 * room.step(0.5); // half an hour later; the heater is on
 */
export class HeatingModel {
  private state: HeatingState;

  constructor(
    initial: HeatingState,
    private readonly params: HeatingParameters = DEFAULT_HEATING,
  ) {
    this.state = { ...initial };
    this.control();
  }

  get current(): HeatingState {
    return { ...this.state };
  }

  setSetpoint(setpoint: number): void {
    this.state.setpoint = setpoint;
    this.control();
  }

  /**
   * Advances the room by `hours` of simulated time and returns the new state.
   * Integrates in steps of at most three simulated minutes, checking the
   * thermostat at each, as a real one samples often: no overshoot from
   * coarse ticks.
   */
  step(hours: number): HeatingState {
    const { outside, heaterRate, lossRate } = this.params;
    let left = Math.max(0, hours);
    while (left > 0) {
      const dt = Math.min(left, 0.05);
      const warming = this.state.heating ? heaterRate : 0;
      this.state.temperature += (warming - lossRate * (this.state.temperature - outside)) * dt;
      this.control();
      left -= dt;
    }
    return this.current;
  }

  private control(): void {
    const { temperature, setpoint } = this.state;
    if (temperature < setpoint - this.params.hysteresis) this.state.heating = true;
    else if (temperature > setpoint + this.params.hysteresis) this.state.heating = false;
  }
}
