/**
 * The API's closed set of error codes (docs/api.md, "Errors") as typed errors, shared by the service client
 * (`tokenvend/client`) and the browser helper (`tokenvend/browser`). No dependencies: the browser bundle
 * inlines this module.
 *
 * Every error carries the API's `code`, the HTTP `status` and the API's own `error_description` (tokenvend's
 * words, never a vendor's text or a token). `retryAfter` (seconds) is set when the API sent `Retry-After`.
 */

/** The API's error codes, plus three the client itself reports. */
export type TokenVendErrorCode =
  | 'invalid_request'
  | 'unsupported_grant_type'
  | 'access_denied'
  | 'invalid_grant'
  | 'invalid_token'
  | 'unknown_integration'
  | 'unknown_connection'
  | 'not_connected'
  | 'needs_reauth'
  | 'slow_down'
  | 'server_error'
  | 'temporarily_unavailable'
  /** API Gateway refused the request itself (no `execute-api:Invoke`, a bad SigV4 signature): 403 `{"message"}`. */
  | 'forbidden'
  /** The API could not be reached, or did not answer in time. */
  | 'network_error'
  /** The API answered something that is not its documented JSON. */
  | 'invalid_response';

/** Where to start connecting again: `POST {path}` with the user's JWT (docs/frontend-connect.md). */
export interface ConnectHint {
  method: 'POST';
  /** `/connect/<integration>` */
  path: string;
}

export interface TokenVendErrorInit {
  code: TokenVendErrorCode | (string & {});
  status: number;
  description?: string | undefined;
  retryAfter?: number | undefined;
  integration?: string | undefined;
  cause?: unknown;
}

/** Base of every error the tokenvend clients throw. `code` is the API's `error`. */
export class TokenVendError extends Error {
  readonly code: TokenVendErrorCode | (string & {});
  /** HTTP status of the API's answer (0 when there was no answer). */
  readonly status: number;
  /** The API's `error_description`: tokenvend's own words. */
  readonly description: string | undefined;
  /** Seconds to wait before asking again, from the API's `Retry-After`. */
  readonly retryAfter: number | undefined;
  readonly integration: string | undefined;

  constructor(message: string, init: TokenVendErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.code = init.code;
    this.status = init.status;
    this.description = init.description;
    this.retryAfter = init.retryAfter;
    this.integration = init.integration;
  }

  /** Whether asking again later can succeed (after `retryAfter` when set). */
  get retryable(): boolean {
    return false;
  }
}

/** 404 `not_connected`: the subject never connected, disconnected, or the connection expired. Connect first. */
export class NotConnectedError extends TokenVendError {
  readonly connect: ConnectHint;

  constructor(message: string, init: TokenVendErrorInit & { connect: ConnectHint }) {
    super(message, init);
    this.connect = init.connect;
  }
}

/** 409 `needs_reauth`: the grant is dead (`reason`: invalid_grant, expired, refresh_token_expired). Connect again. */
export class NeedsReauthError extends TokenVendError {
  readonly reason: string | undefined;
  readonly connect: ConnectHint;

  constructor(
    message: string,
    init: TokenVendErrorInit & { reason?: string | undefined; connect: ConnectHint },
  ) {
    super(message, init);
    this.reason = init.reason;
    this.connect = init.connect;
  }
}

/** 429 `slow_down`: too many unfinished connect flows; `retryAfter` says when one expires. */
export class RateLimitedError extends TokenVendError {
  override get retryable(): boolean {
    return true;
  }
}

/**
 * 502/503/504 `temporarily_unavailable` (a refresh is under way, the vendor is down or rate limits us: wait
 * `retryAfter` when given), or the API could not be reached (`network_error`).
 */
export class UnavailableError extends TokenVendError {
  override get retryable(): boolean {
    return true;
  }
}

/**
 * 403: `access_denied` (the IAM principal is not on the connection's allow-list, or a claim by another user), or
 * `forbidden` (API Gateway refused the call: no `execute-api:Invoke` on the route, or a bad signature).
 */
export class AccessDeniedError extends TokenVendError {}

/** 401 `invalid_token`: the user's JWT is missing, expired or not from a trusted issuer. */
export class InvalidTokenError extends TokenVendError {}

/** 404 `unknown_integration` or `unknown_connection`: no such integration or service connection. */
export class NotFoundError extends TokenVendError {}

/** 400 `invalid_request` / `unsupported_grant_type`: the request was malformed (a bug in the caller). */
export class InvalidRequestError extends TokenVendError {}

/** 400 `invalid_grant`: the vendor refused the service connection's credentials, or a claim code is unusable. */
export class InvalidGrantError extends TokenVendError {}

/** 500/502 `server_error`, or an answer that is not the API's JSON (`invalid_response`). */
export class ServerError extends TokenVendError {}

/** `Retry-After` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - nowMs) / 1000));
}

function connectHint(integration: string | undefined, body: Record<string, unknown>): ConnectHint {
  const given = body.connect as { method?: unknown; path?: unknown } | undefined;
  if (given && typeof given.path === 'string' && given.path.startsWith('/')) {
    return { method: 'POST', path: given.path };
  }
  return { method: 'POST', path: `/connect/${encodeURIComponent(integration ?? '')}` };
}

/**
 * The typed error for an API answer that is not 2xx. `body` is the parsed JSON (or undefined); `integration`
 * names the integration asked about (for messages and the connect hint).
 */
export function errorFromAnswer(
  answer: { status: number; retryAfter?: string | null | undefined; body: unknown },
  context: { integration?: string | undefined; nowMs: number },
): TokenVendError {
  const { status } = answer;
  const body =
    typeof answer.body === 'object' && answer.body !== null ? (answer.body as Record<string, unknown>) : {};
  const retryAfter = parseRetryAfter(answer.retryAfter, context.nowMs);
  const integration = context.integration;
  const about = integration === undefined ? '' : ` (${integration})`;
  const apiCode = typeof body.error === 'string' ? body.error : undefined;
  const description = typeof body.error_description === 'string' ? body.error_description : undefined;
  if (apiCode === undefined) {
    if (status === 403 && typeof body.message === 'string') {
      // API Gateway's own refusal, before tokenvend ran: `{"message":"Forbidden"}` or a signature problem.
      return new AccessDeniedError(
        `API Gateway refused the call${about}: ${body.message} (HTTP 403). Does the caller have execute-api:Invoke on this route, and are its AWS credentials and region right?`,
        { code: 'forbidden', status, description: body.message, retryAfter, integration },
      );
    }
    if (status === 429) {
      // API Gateway's throttling (`{"message":"Too Many Requests"}`).
      return new RateLimitedError(`tokenvend is throttling calls${about} (HTTP 429)`, {
        code: 'slow_down',
        status,
        retryAfter,
        integration,
      });
    }
    if (status >= 502) {
      return new UnavailableError(`tokenvend is not available${about} (HTTP ${status})`, {
        code: 'temporarily_unavailable',
        status,
        retryAfter,
        integration,
      });
    }
    return new ServerError(`tokenvend answered HTTP ${status} without an error code${about}`, {
      code: 'invalid_response',
      status,
      retryAfter,
      integration,
    });
  }
  const init = { code: apiCode, status, description, retryAfter, integration };
  const message = `${apiCode}${about}: ${description ?? `HTTP ${status}`}`;
  switch (apiCode) {
    case 'not_connected':
      return new NotConnectedError(message, { ...init, connect: connectHint(integration, body) });
    case 'needs_reauth':
      return new NeedsReauthError(message, {
        ...init,
        reason: typeof body.reason === 'string' ? body.reason : undefined,
        connect: connectHint(integration, body),
      });
    case 'slow_down':
      return new RateLimitedError(message, init);
    case 'temporarily_unavailable':
      return new UnavailableError(message, init);
    case 'access_denied':
      return new AccessDeniedError(message, init);
    case 'invalid_token':
      return new InvalidTokenError(message, init);
    case 'unknown_integration':
    case 'unknown_connection':
    case 'not_found':
      return new NotFoundError(message, init);
    case 'invalid_request':
    case 'unsupported_grant_type':
      return new InvalidRequestError(message, init);
    case 'invalid_grant':
      return new InvalidGrantError(message, init);
    case 'server_error':
      return new ServerError(message, init);
    default:
      return status >= 500 ? new ServerError(message, init) : new TokenVendError(message, init);
  }
}
