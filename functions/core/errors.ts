/**
 * Typed errors of the core. Every error carries an OAuth-style `error` code and the HTTP status a handler
 * should answer with; `expose` says whether the message may be shown to the caller (status < 500).
 * No error ever carries a token, a code, an assertion or a secret: messages are built from field names,
 * vendor `error`/`error_description` values and status codes only.
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
  readonly vendorError: string | undefined;
  readonly vendorErrorDescription: string | undefined;

  constructor(
    message: string,
    options: { error?: string; vendorError?: string; vendorErrorDescription?: string; cause?: unknown } = {},
  ) {
    super(message, { error: options.error ?? 'invalid_request', status: 400, cause: options.cause });
    this.vendorError = options.vendorError;
    this.vendorErrorDescription = options.vendorErrorDescription;
  }
}

/** Base of errors answered by a vendor's token endpoint. */
export class VendorError extends TokenvendError {
  /** The vendor's `error` value, if it sent one. */
  readonly vendorError: string | undefined;
  /** The vendor's `error_description`, if it sent one (vendors never echo tokens in it). */
  readonly vendorErrorDescription: string | undefined;
  /** HTTP status the vendor answered with (undefined for network failures). */
  readonly vendorStatus: number | undefined;

  constructor(
    message: string,
    options: {
      error: string;
      status: number;
      vendorError?: string | undefined;
      vendorErrorDescription?: string | undefined;
      vendorStatus?: number | undefined;
      cause?: unknown;
    },
  ) {
    super(message, options);
    this.vendorError = options.vendorError;
    this.vendorErrorDescription = options.vendorErrorDescription;
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
