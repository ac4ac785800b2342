/** Why an access token was refused; stable codes for audit reasons and tests. */
export type TokenErrorCode =
  | 'malformed'
  | 'too_large'
  | 'unsupported_alg'
  | 'wrong_typ'
  | 'forbidden_header'
  | 'unknown_kid'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'missing_claim'
  | 'revoked';

export class TokenError extends Error {
  constructor(
    readonly code: TokenErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}
