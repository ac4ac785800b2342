/**
 * The `$auth/<client_id>/` topics of docs/INTERFACE.md#renewing-over-mqtt: how a live session renews
 * its credential without reconnecting. Builders for the topic names and
 * parsers that turn the broker's JSON into typed values (or null when a
 * payload is not what docs/INTERFACE.md#renewing-over-mqtt says, which the device then ignores).
 */

export const authTopics = (clientId: string) =>
  ({
    /** Subscribe to this for every message the broker sends about our credential. */
    all: `$auth/${clientId}/#`,
    expiring: `$auth/${clientId}/expiring`,
    tokenRequest: `$auth/${clientId}/token/request`,
    tokenResponse: `$auth/${clientId}/token/response`,
    reauth: `$auth/${clientId}/reauth`,
    reauthResponse: `$auth/${clientId}/reauth/response`,
    /** A certificate session renews its certificate with a CSR for a new key. */
    certRenew: `$auth/${clientId}/cert/renew`,
    certRenewResponse: `$auth/${clientId}/cert/renew/response`,
    /** A hub with `provision:<template>` mints onboarding claims. */
    claimRequest: `$auth/${clientId}/claim/request`,
    claimResponse: `$auth/${clientId}/claim/response`,
  }) as const;

export type AuthTopics = ReturnType<typeof authTopics>;

/** broker → device: `{"exp","seconds_left"}`, plus `"credential":"certificate"` for a certificate session. */
export interface ExpiringNotice {
  exp: number;
  seconds_left: number;
  credential?: string;
}

/** broker → device on `cert/renew/response`. */
export type CertRenewResponse = { request_id: string; certificate: string; not_after: string } | { request_id: string; error: string; error_description?: string };

/** broker → hub on `claim/response`. */
export type ClaimResponse =
  | { request_id: string; claim: string; onboarding: string; expires_at: string }
  | { request_id: string; error: string; error_description?: string };

/** broker → device on `token/response`. */
export type TokenResponse =
  | { request_id: string; access_token: string; token_type?: string; expires_in?: number; scope?: string }
  | { request_id: string; error: string; error_description?: string };

/** broker → device on `reauth/response`. */
export type ReauthResponse = { request_id: string; ok: true; exp?: number } | { request_id: string; error: string; error_description?: string };

function parseObject(payload: Buffer | string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(payload.toString());
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** @example parseExpiring(payload)?.seconds_left */
export function parseExpiring(payload: Buffer | string): ExpiringNotice | null {
  const o = parseObject(payload);
  if (o === null || typeof o.exp !== 'number' || typeof o.seconds_left !== 'number') return null;
  return { exp: o.exp, seconds_left: o.seconds_left, ...(typeof o.credential === 'string' ? { credential: o.credential } : {}) };
}

/** @example const res = parseCertRenewResponse(payload); if (res && 'certificate' in res) … */
export function parseCertRenewResponse(payload: Buffer | string): CertRenewResponse | null {
  const o = parseObject(payload);
  if (o === null || typeof o.request_id !== 'string') return null;
  if (typeof o.certificate === 'string' && typeof o.not_after === 'string') return { request_id: o.request_id, certificate: o.certificate, not_after: o.not_after };
  return errorAnswer(o, o.request_id);
}

/** @example const res = parseClaimResponse(payload); if (res && 'onboarding' in res) … */
export function parseClaimResponse(payload: Buffer | string): ClaimResponse | null {
  const o = parseObject(payload);
  if (o === null || typeof o.request_id !== 'string') return null;
  if (typeof o.claim === 'string' && typeof o.onboarding === 'string' && typeof o.expires_at === 'string') {
    return { request_id: o.request_id, claim: o.claim, onboarding: o.onboarding, expires_at: o.expires_at };
  }
  return errorAnswer(o, o.request_id);
}

/** @example const res = parseTokenResponse(payload); if (res && 'access_token' in res) … */
export function parseTokenResponse(payload: Buffer | string): TokenResponse | null {
  const o = parseObject(payload);
  if (o === null || typeof o.request_id !== 'string') return null;
  if (typeof o.access_token === 'string') {
    return {
      request_id: o.request_id,
      access_token: o.access_token,
      ...(typeof o.token_type === 'string' ? { token_type: o.token_type } : {}),
      ...(typeof o.expires_in === 'number' ? { expires_in: o.expires_in } : {}),
      ...(typeof o.scope === 'string' ? { scope: o.scope } : {}),
    };
  }
  return errorAnswer(o, o.request_id);
}

/** @example const res = parseReauthResponse(payload); if (res && 'ok' in res) … */
export function parseReauthResponse(payload: Buffer | string): ReauthResponse | null {
  const o = parseObject(payload);
  if (o === null || typeof o.request_id !== 'string') return null;
  if (o.ok === true) return { request_id: o.request_id, ok: true, ...(typeof o.exp === 'number' ? { exp: o.exp } : {}) };
  return errorAnswer(o, o.request_id);
}

/** The error form shared by both responses: `{"request_id","error","error_description"?}`, or null. */
function errorAnswer(o: Record<string, unknown>, requestId: string): { request_id: string; error: string; error_description?: string } | null {
  if (typeof o.error !== 'string') return null;
  return { request_id: requestId, error: o.error, ...(typeof o.error_description === 'string' ? { error_description: o.error_description } : {}) };
}
