/**
 * Stable error codes a program can switch on. The CLI prints `error: <message>`
 * and exits with the code's exit status; tests match on `code`, never on text.
 */
export type LatchkeyErrorCode =
  | 'invalid_option'
  | 'invalid_duration'
  | 'invalid_id'
  | 'invalid_scope'
  | 'invalid_argument'
  | 'not_found'
  | 'already_exists'
  | 'invalid_csr'
  | 'conflict'
  | 'insecure_files'
  | 'bad_passphrase'
  | 'ca_mismatch'
  | 'provisioning_refused'
  | 'not_initialised'
  | 'unauthorized'
  | 'forbidden'
  | 'unavailable'
  | 'internal';

/**
 * Exit statuses: 2 bad input, 3 a missing thing, 4 a conflict, 5 files or
 * keys latchkey refuses to use as they are, 6 a server that refused
 * (provisioning; the admin API refusing the token (401) or its scope (403)),
 * 7 a server that cannot be reached, 8 no database where the CLI looked
 * (run `latchkey init`, or pass --data-dir or --server). 1 is anything else.
 */
export const EXIT_STATUS: Record<LatchkeyErrorCode, number> = {
  invalid_option: 2,
  invalid_duration: 2,
  invalid_id: 2,
  invalid_scope: 2,
  invalid_argument: 2,
  invalid_csr: 2,
  not_found: 3,
  already_exists: 4,
  conflict: 4,
  insecure_files: 5,
  bad_passphrase: 5,
  ca_mismatch: 5,
  provisioning_refused: 6,
  unauthorized: 6,
  forbidden: 6,
  unavailable: 7,
  not_initialised: 8,
  internal: 1,
};

/** An expected failure with a code and a message that is safe to show. */
export class LatchkeyError extends Error {
  constructor(
    readonly code: LatchkeyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LatchkeyError';
  }
}
