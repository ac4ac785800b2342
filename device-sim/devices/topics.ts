/** The home's topic layout, the same one the scopes in the README grant. */
export const homeTopics = {
  telemetry: (id: string) => `home/${id}/telemetry`,
  setpoint: (id: string) => `home/${id}/setpoint`,
  /** What the hub subscribes to. */
  allTelemetry: 'home/+/telemetry',
  /** `home/<id>/telemetry` -> `<id>`, or null for anything else. */
  thermostatOf(topic: string): string | null {
    const m = /^home\/([A-Za-z0-9._-]{1,64})\/telemetry$/.exec(topic);
    return m ? m[1]! : null;
  },
};

/** The scopes each kind of device is registered with. */
export const SCOPES = {
  thermostat: 'mqtt:publish:home/{client_id}/telemetry mqtt:subscribe:home/{client_id}/setpoint',
  hub: 'mqtt:subscribe:home/+/telemetry mqtt:publish:home/+/setpoint',
  /** The rogue is a registered device too, allowed only its own telemetry. */
  rogue: 'mqtt:publish:home/{client_id}/telemetry',
};

/** Telemetry payload: `{"temperature","setpoint","heating","time"}`. */
export interface Telemetry {
  temperature: number;
  setpoint: number;
  heating: boolean;
  /** Simulated time of day, `HH:MM`. */
  time: string;
}

/** @example parseTelemetry(payload)?.temperature */
export function parseTelemetry(payload: Buffer): Telemetry | null {
  try {
    const o = JSON.parse(payload.toString()) as Partial<Telemetry>;
    if (typeof o.temperature !== 'number' || typeof o.setpoint !== 'number' || typeof o.heating !== 'boolean') return null;
    return { temperature: o.temperature, setpoint: o.setpoint, heating: o.heating, time: typeof o.time === 'string' ? o.time : '' };
  } catch {
    return null;
  }
}

/** Setpoint payload `{"setpoint"}`; anything outside 5–30 °C is not a setpoint a thermostat obeys. */
export function parseSetpoint(payload: Buffer): number | null {
  try {
    const o = JSON.parse(payload.toString()) as { setpoint?: unknown };
    return typeof o.setpoint === 'number' && o.setpoint >= 5 && o.setpoint <= 30 ? o.setpoint : null;
  } catch {
    return null;
  }
}
