/**
 * Errors from the PKI carry a stable `code` that callers switch on (the CLI
 * maps them to exit messages, the broker to CONNACK codes and audit reasons).
 * Messages are for people and may change; codes may not.
 */
export type PkiErrorCode =
  | 'invalid_client_id'
  | 'invalid_validity'
  | 'invalid_csr'
  | 'csr_subject_mismatch'
  | 'ca_incomplete'
  | 'ca_key_mismatch'
  | 'invalid_certificate'
  | 'certificate_expired'
  | 'certificate_not_yet_valid'
  | 'certificate_is_ca'
  | 'certificate_wrong_usage'
  | 'certificate_bad_subject'
  | 'certificate_untrusted'
  | 'invalid_tls_names'
  | 'invalid_tls_certificate';

/**
 * A PKI failure with a stable code.
 *
 * @example
 * try { certificateIdentity(der) } catch (e) {
 *   if (e instanceof PkiError && e.code === 'certificate_expired') refuse(5);
 * }
 */
export class PkiError extends Error {
  override readonly name = 'PkiError';
  constructor(
    public readonly code: PkiErrorCode | (string & {}),
    message: string,
  ) {
    super(message);
  }
}
