/**
 * The latchkey device library: connect an MQTT device with client
 * credentials or a certificate, renew tokens and certificates over
 * `$auth/<id>/`, provision a new device with an onboarding string, and
 * reconnect with backoff. See device-sim/README.md.
 */
export { Device, type DeviceEventMap, type DeviceOptions, type TokenInfo } from './device.js';
export { DeviceError, type DeviceErrorCode } from './device_error.js';
export type { AuthMode, DeviceEvent, DeviceEventType } from './events.js';
export { fetchToken, discoverTokenEndpoint, TokenEndpointError, type ClientCredentials } from './token_endpoint.js';
export { accessToken, isNearExpiry, type AccessToken } from './access_token.js';
export { authTopics } from './auth_topics.js';
export { Backoff, type BackoffBounds } from './backoff.js';
export { CONNACK, connackReason } from './connack.js';
export { peekClaims } from './jwt_claims.js';
export { provision, type ProvisionedIdentity, type ProvisionOptions } from './provision.js';
export { parseOnboardingString, type OnboardingString } from './onboarding.js';
export { newKeyAndCsr } from './csr.js';
