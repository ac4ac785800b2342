/**
 * CONTRACT §2: a client id matches this pattern, which keeps it safe inside
 * MQTT topic levels and certificate subjects alike.
 */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * True when `id` is a well-formed client id.
 *
 * @example isClientId('thermostat-1') // true
 */
export function isClientId(id: string): boolean {
  return CLIENT_ID_PATTERN.test(id);
}
