/**
 * Typed errors of the token lifecycle. Messages name the integration and a reason, never a token or a
 * subject's credentials; the subject itself is the caller's own and is left out of messages anyway.
 */
import { TokenvendError } from '../errors.js';

/** No connection for this integration and subject (never connected, deleted, revoked or expired). */
export class NotConnectedError extends TokenvendError {
  constructor(integration: string, cause?: unknown) {
    super(`no connection to ${integration}; connect first`, { error: 'not_connected', status: 404, cause });
  }
}

/** Why a connection needs the user to authorise again. */
export type ReauthReason =
  /** The vendor answered `invalid_grant` to a refresh (revoked, expired or reused refresh token). */
  | 'invalid_grant'
  /** The access token expired and the connection has no refresh token. */
  | 'expired'
  /** The refresh token lapsed (absolute expiry or idle timeout) before anyone refreshed it. */
  | 'refresh_token_expired'
  /** A caller reported the access token refused by the vendor, and the connection has no refresh token. */
  | 'rejected';

/** The connection exists but its grant is dead: the user must connect again. */
export class NeedsReauthError extends TokenvendError {
  readonly reason: string;
  /** The grant that made the connection: where the user connects again depends on it. */
  readonly grant: string | undefined;

  constructor(
    integration: string,
    reason: string,
    options: { cause?: unknown; grant?: string | undefined } = {},
  ) {
    super(`connection to ${integration} needs re-authorisation (${reason})`, {
      error: 'needs_reauth',
      status: 409,
      cause: options.cause,
    });
    this.reason = reason;
    this.grant = options.grant;
  }
}

/**
 * No fresh token is available right now: another caller's refresh did not finish within the wait budget,
 * or the vendor failed transiently and the stored access token has expired. Retrying later helps.
 */
export class RefreshUnavailableError extends TokenvendError {
  /** Seconds after which a retry is sensible. */
  readonly retryAfterSeconds: number;

  constructor(message: string, options: { retryAfterSeconds: number; cause?: unknown }) {
    super(message, { error: 'temporarily_unavailable', status: 503, cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * A conditional write found another version (or another lease owner) than the one it read. The store
 * throws it; the lifecycle re-reads and decides. Never reaches a caller as such.
 */
export class VersionConflictError extends TokenvendError {
  constructor(integration: string, cause?: unknown) {
    super(`connection to ${integration} changed concurrently`, { error: 'conflict', status: 409, cause });
  }
}
