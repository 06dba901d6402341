/**
 * Typed errors of the core. Every error carries an OAuth-style `error` code and the HTTP status a handler
 * should answer with; `expose` says whether the message may be shown to the caller (status < 500).
 * No error ever carries a token, a code, an assertion or a secret: messages are built from field names, our own
 * words, status codes and a vendor's `error` code once {@link vendorCode} has checked it is a short code. A
 * vendor's `error_description` is never kept: a vendor that echoes the request would echo our secrets.
 */
export class TokenvendError extends Error {
  /** OAuth-style error code (`invalid_request`, `invalid_grant`, ...). */
  readonly error: string;
  /** HTTP status a handler answers with. */
  readonly status: number;

  constructor(message: string, options: { error: string; status: number; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.error = options.error;
    this.status = options.status;
  }

  get expose(): boolean {
    return this.status < 500;
  }
}

/** A provider template (or an integration's variables) failed validation. */
export class TemplateError extends TokenvendError {
  /** Where: a file name or `<inline>`. */
  readonly source: string;
  /** JSON path of the offending value, `$` for the root. */
  readonly path: string;
  /** What is wrong, in words. */
  readonly problem: string;

  constructor(source: string, path: string, problem: string, cause?: unknown) {
    super(`${source}: ${path}: ${problem}`, { error: 'invalid_template', status: 500, cause });
    this.source = source;
    this.path = path;
    this.problem = problem;
  }
}

/** Configuration of a deployment (integrations, callers, secrets) is wrong or incomplete. */
export class ConfigError extends TokenvendError {
  constructor(message: string, cause?: unknown) {
    super(message, { error: 'server_error', status: 500, cause });
  }
}

/** The request itself is malformed (missing or duplicated parameter, wrong type, too large). */
export class InvalidRequestError extends TokenvendError {
  constructor(message: string, options: { status?: number; error?: string; cause?: unknown } = {}) {
    super(message, {
      error: options.error ?? 'invalid_request',
      status: options.status ?? 400,
      cause: options.cause,
    });
  }
}

/**
 * The authorization response (the redirect back from the vendor) is not acceptable: wrong state, wrong
 * `iss` (RFC 9207), or the vendor reported an `error=` such as `access_denied`.
 * https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1
 */
export class AuthorizationResponseError extends TokenvendError {
  /** The vendor's `error` code, checked by {@link vendorCode}. */
  readonly vendorError: string | undefined;

  constructor(message: string, options: { error?: string; vendorError?: string; cause?: unknown } = {}) {
    super(message, { error: options.error ?? 'invalid_request', status: 400, cause: options.cause });
    this.vendorError = options.vendorError;
  }
}

/**
 * A vendor's (or a browser's) `error` value as we may repeat it: a short code of letters, digits and `_.:-`,
 * else `unrecognised_error`. Anything longer or freer could carry text the vendor echoed from our request.
 */
export function vendorCode(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'string' && /^[A-Za-z0-9_.:-]{1,64}$/.test(value) ? value : 'unrecognised_error';
}

/** Base of errors answered by a vendor's token endpoint. */
export class VendorError extends TokenvendError {
  /** The vendor's `error` code, if it sent one, checked by {@link vendorCode}. */
  readonly vendorError: string | undefined;
  /** HTTP status the vendor answered with (undefined for network failures). */
  readonly vendorStatus: number | undefined;

  constructor(
    message: string,
    options: {
      error: string;
      status: number;
      vendorError?: string | undefined;
      vendorStatus?: number | undefined;
      cause?: unknown;
    },
  ) {
    super(message, options);
    this.vendorError = options.vendorError;
    this.vendorStatus = options.vendorStatus;
  }
}

/**
 * The grant is dead (`invalid_grant`): expired or revoked refresh token, used code, rejected assertion.
 * The user must re-authorise; retrying never helps.
 */
export class InvalidGrantError extends VendorError {}

/** The vendor rejected our client credentials (`invalid_client`, `unauthorized_client`). */
export class InvalidClientError extends VendorError {}

/** The vendor is rate limiting us; `retryAfterSeconds` comes from the Retry-After header when present. */
export class RateLimitedError extends VendorError {
  readonly retryAfterSeconds: number | undefined;

  constructor(
    message: string,
    options: ConstructorParameters<typeof VendorError>[1] & { retryAfterSeconds?: number },
  ) {
    super(message, options);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * The vendor failed transiently: 5xx, connection error or timeout. `outcomeUnknown` is true when the request
 * may have reached the vendor (timeout after sending): with rotating refresh tokens the caller must re-read
 * state before retrying, never retry blindly.
 */
export class VendorUnavailableError extends VendorError {
  readonly outcomeUnknown: boolean;
  /** From a 503's Retry-After header, when present. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    message: string,
    options: ConstructorParameters<typeof VendorError>[1] & {
      outcomeUnknown: boolean;
      retryAfterSeconds?: number;
    },
  ) {
    super(message, options);
    this.outcomeUnknown = options.outcomeUnknown;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** The vendor answered 2xx with a body that the provider's response mapping cannot read. */
export class MalformedResponseError extends VendorError {}

/** Any other 4xx from the vendor (`invalid_request`, `invalid_scope`, `unsupported_grant_type`, ...). */
export class VendorRejectedError extends VendorError {}
