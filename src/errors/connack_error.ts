/** MQTT 3.1.1 CONNACK return codes latchkey refuses with [MQTT-3.2.2.3]. */
export const CONNACK = {
  unacceptableProtocol: 1,
  identifierRejected: 2,
  serverUnavailable: 3,
  badCredentials: 4,
  notAuthorized: 5,
} as const;

export type ConnackCode = (typeof CONNACK)[keyof typeof CONNACK];

/**
 * A refused CONNECT. Aedes turns an error with `returnCode` 2-5 from the
 * authenticate hook into that CONNACK code; `reason` is for the audit log.
 */
export class ConnackError extends Error {
  constructor(
    readonly returnCode: ConnackCode,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'ConnackError';
  }
}
