/** Stable codes a caller can switch on. */
export type DeviceErrorCode =
  /** The options cannot work (no credentials, certificate mode over plain MQTT, …). */
  | 'invalid_options'
  /** The token endpoint refused or could not be reached; `cause` is a TokenEndpointError. */
  | 'token_error'
  /** CONNACK with a non-zero return code; see `returnCode`. */
  | 'refused'
  /** The socket or TLS handshake failed before a CONNACK. */
  | 'network'
  | 'not_connected'
  /** SUBACK 0x80: the broker does not allow this filter. */
  | 'subscribe_denied'
  /** Provisioning answered with an error (`invalid_claim`, `client_id_taken`, …): see the message. */
  | 'provisioning_refused'
  /** The server's CA is not the one the onboarding string pins: the claim was not sent. */
  | 'ca_mismatch'
  | 'closed';

/**
 * An error from the device library with a stable `code`.
 *
 * @example
 * try { await Device.connect(opts); }
 * catch (err) { if (err instanceof DeviceError && err.returnCode === 5) console.log('client disabled'); }
 */
export class DeviceError extends Error {
  override readonly name = 'DeviceError';

  constructor(
    readonly code: DeviceErrorCode,
    message: string,
    readonly returnCode?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
