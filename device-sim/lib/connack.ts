/** MQTT 3.1.1 §3.2.2.3 CONNACK return codes. */
export const CONNACK = {
  accepted: 0,
  unacceptableProtocolVersion: 1,
  identifierRejected: 2,
  serverUnavailable: 3,
  badUsernameOrPassword: 4,
  notAuthorized: 5,
} as const;

const NAMES: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

/** @example connackReason(5) // 'not authorized' */
export function connackReason(code: number): string {
  return NAMES[code] ?? `return code ${code}`;
}

/**
 * The CONNACK return code carried by an mqtt.js error, or null for anything
 * else (socket errors carry string codes such as `ECONNREFUSED`).
 */
export function connackCode(err: unknown): number | null {
  if (typeof err !== 'object' || err === null) return null;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' && code >= 1 && code <= 5 ? code : null;
}
