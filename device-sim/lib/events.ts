/** How a session proved who the device is. */
export type AuthMode = 'jwt' | 'certificate';

/**
 * Everything the device library reports, in the order it happens. Tokens
 * appear only as their `jti`; secrets never appear.
 */
export type DeviceEvent =
  | { type: 'token_fetched'; jti?: string; expiresAt: number; scope?: string }
  | { type: 'token_error'; error: string; status: number | null; description?: string }
  | { type: 'connecting'; attempt: number; url: string; mode: AuthMode }
  | { type: 'connected'; url: string; mode: AuthMode; jti?: string }
  /** CONNACK with a non-zero return code: 2 identifier, 4 bad credentials, 5 not authorized. */
  | { type: 'refused'; returnCode: number; reason: string }
  | { type: 'disconnected'; reason: string }
  | { type: 'reconnecting'; delayMs: number; attempt: number; freshToken: boolean }
  /** `$auth/<id>/expiring` arrived. */
  | { type: 'expiring'; exp: number; secondsLeft: number }
  /** The session now runs on a new token; `via` says how it was obtained. */
  | { type: 'renewed'; via: 'mqtt' | 'reauth'; jti?: string; expiresAt: number }
  | { type: 'renew_failed'; via: 'mqtt' | 'reauth' | 'certificate'; error: string; description?: string }
  /** A new certificate for a new key arrived over `cert/renew`; the next connect uses it. */
  | { type: 'certificate_renewed'; notAfter: string }
  /** The broker refused a subscription (SUBACK 0x80). */
  | { type: 'denied'; action: 'subscribe'; topic: string }
  | { type: 'error'; message: string }
  | { type: 'closed' };

export type DeviceEventType = DeviceEvent['type'];
