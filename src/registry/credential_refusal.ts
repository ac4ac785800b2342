/**
 * Why a presented PAT or API key was refused. The message is safe to audit
 * and to show: it never contains the token. It reads `<kind of failure>:
 * <detail>`, because the broker labels its connect metric with the part
 * before the first colon: ids and names go after it, never before.
 *
 * - `malformed`: wrong prefix, length, characters or checksum; refused before any lookup
 * - `unknown`: well formed, but no such token
 * - `expired`: past its expiry, or a rolled key past its grace
 * - `revoked`: revoked one by one
 * - `disabled`: its user or API key is disabled
 */
export type CredentialRefusalCode = 'malformed' | 'unknown' | 'expired' | 'revoked' | 'disabled';

export class CredentialRefusal extends Error {
  constructor(
    readonly code: CredentialRefusalCode,
    message: string,
    /** The user or API key it belongs to, once known (never for malformed or unknown). */
    readonly principal: string | null = null,
  ) {
    super(message);
    this.name = 'CredentialRefusal';
  }
}
