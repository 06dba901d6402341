/**
 * Errors of caller authentication. Messages are fixed sentences chosen by `reason`: they never contain the
 * token, its claims or the library's own message (which can quote attacker-chosen claim values).
 */
import { TokenvendError } from '../../core/errors.js';

/** Why a caller's bearer token was refused; for metrics and tests, never shown beyond the message. */
export type CallerAuthFailure =
  | 'missing'
  | 'malformed'
  | 'untrusted_issuer'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'wrong_token_use'
  | 'wrong_client_id'
  | 'unsupported_critical_header'
  | 'expired'
  | 'not_yet_valid'
  | 'missing_exp'
  | 'unsupported_algorithm'
  | 'invalid_signature'
  | 'missing_kid'
  | 'unknown_kid'
  | 'unusable_key'
  | 'invalid_subject'
  | 'invalid_claims';

const messages: Record<CallerAuthFailure, string> = {
  missing: 'a bearer token is required',
  malformed: 'the bearer token is not a well-formed JWT',
  untrusted_issuer: 'the bearer token is not from a trusted issuer',
  wrong_issuer: 'the bearer token is not from a trusted issuer',
  wrong_audience: 'the bearer token is not intended for this service',
  wrong_token_use: 'the bearer token is not the kind of token this service accepts',
  wrong_client_id: 'the bearer token is not intended for this service',
  unsupported_critical_header: 'the bearer token requires extensions (crit) this service does not support',
  expired: 'the bearer token has expired',
  not_yet_valid: 'the bearer token is not valid yet',
  missing_exp: 'the bearer token has no expiry',
  unsupported_algorithm: 'the bearer token is signed with an algorithm that is not accepted',
  invalid_signature: 'the bearer token signature is invalid',
  missing_kid: 'the bearer token names no signing key (kid)',
  unknown_kid: 'the bearer token is signed with an unknown key',
  unusable_key: 'the bearer token is signed with a key that cannot verify it',
  invalid_subject: 'the bearer token has no usable subject',
  invalid_claims: 'the bearer token has invalid claims',
};

/** The caller's bearer token is missing or not acceptable: 401 `invalid_token` (RFC 6750 section 3.1). */
export class CallerAuthError extends TokenvendError {
  readonly reason: CallerAuthFailure;

  constructor(reason: CallerAuthFailure, cause?: unknown) {
    super(messages[reason], { error: 'invalid_token', status: 401, cause });
    this.reason = reason;
  }

  /**
   * The `WWW-Authenticate` value for this refusal. A request without credentials gets no error code, as
   * https://www.rfc-editor.org/rfc/rfc6750#section-3.1 asks.
   */
  get wwwAuthenticate(): string {
    if (this.reason === 'missing') return 'Bearer realm="tokenvend"';
    return `Bearer realm="tokenvend", error="invalid_token", error_description="${this.message}"`;
  }
}

/**
 * The signing keys of a trusted issuer cannot be obtained (JWKS endpoint down, slow or answering garbage):
 * 503 `temporarily_unavailable`. The token is refused, never accepted unverified.
 */
export class CallerAuthUnavailableError extends TokenvendError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number, cause?: unknown) {
    super('the signing keys of the token issuer are temporarily unavailable', {
      error: 'temporarily_unavailable',
      status: 503,
      cause,
    });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
