/**
 * Which access tokens of a client its credential changes have voided.
 * Pure: callers read the client record and its secret grace ends.
 *
 * Two rules (docs/CREDENTIALS.md, "Tokens outlive no credential"):
 * - An auth-method change voids at once every token issued before it.
 * - A secret rotation voids, when the old secret's grace ends, every token
 *   issued before that end. A token does not say which secret obtained it,
 *   and renewal over MQTT mints new tokens on a session's authority without
 *   the secret; so the only rule under which a leaked old secret reaches no
 *   further than its grace is to void all that was issued while it was still
 *   accepted. The cost is one reconnect (with the new secret) per session of
 *   the client at the grace end; `--grace 0` makes it at once.
 *
 * Whole seconds, as `iat` is: every moment is taken down to its second, so a
 * token issued in the very second of a change survives, and a grace end
 * takes effect at the start of its second (at most 1 s early).
 */
export interface CredentialFloor {
  /** Whole seconds: the client's last auth-method change. */
  authChangedAt?: number;
  /** Whole seconds: the end of the last secret grace that has ended. */
  secretGraceEnded?: number;
  /** Whole seconds: a secret grace still running ends then. */
  secretGraceEnds?: number;
}

export const VOIDED_BY_AUTH_METHOD = 'token issued before the client changed its auth method';
export const VOIDED_BY_SECRET_ROTATION = 'token issued while a since-retired client secret was still accepted';

/**
 * The floor from what is stored: `credentialsNotBefore` (ms) of the client,
 * and the latest secret grace end at or before now and the next one after
 * it (ms, from the client's secret rows).
 */
export function credentialFloor(credentialsNotBefore: number | null | undefined, graceEnded: number | null, graceEnds: number | null): CredentialFloor {
  const second = (ms: number) => Math.floor(ms / 1000);
  return {
    ...(credentialsNotBefore != null ? { authChangedAt: second(credentialsNotBefore) } : {}),
    ...(graceEnded != null ? { secretGraceEnded: second(graceEnded) } : {}),
    ...(graceEnds != null ? { secretGraceEnds: second(graceEnds) } : {}),
  };
}

/**
 * Why a token issued at `iat` (seconds) is void at `nowSeconds`, or null when
 * it is not. A grace that was running when the floor was read counts once
 * `nowSeconds` reaches its end, so a cached floor stays right over time.
 */
export function tokenVoidReason(iat: number, floor: CredentialFloor, nowSeconds: number): string | null {
  if (floor.authChangedAt !== undefined && iat < floor.authChangedAt) return VOIDED_BY_AUTH_METHOD;
  if (floor.secretGraceEnded !== undefined && iat < floor.secretGraceEnded) return VOIDED_BY_SECRET_ROTATION;
  const ends = floor.secretGraceEnds;
  if (ends !== undefined && nowSeconds >= ends && iat < ends) return VOIDED_BY_SECRET_ROTATION;
  return null;
}

/** When (seconds) a token issued at `iat`, valid now, becomes void by the running grace; null for never. */
export function tokenVoidsAt(iat: number, floor: CredentialFloor): number | null {
  const ends = floor.secretGraceEnds;
  return ends !== undefined && iat < ends ? ends : null;
}
