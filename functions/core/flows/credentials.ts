/**
 * Per-user credentials (`grants.user_credentials`, Cisco Finesse without single sign-on): each user signs in to
 * the vendor's API with their own username and password over HTTP Basic (RFC 7617), so a per-integration
 * `static` secret cannot serve them. The user's app posts them once to `POST /connect/{integration}/credentials`
 * with the user's JWT; tokenvend checks them with one GET of the template's `verify` URL and stores them as the
 * connection's token set (`Basic base64(user:password)`, encrypted like every token, never expiring, not
 * refreshable). Vending hands them out per the template's `usage`; disconnecting deletes them.
 *
 * Nothing here logs or repeats the password, and the vendor's answer body is never read into an error: a
 * refusal is our own words and the vendor's HTTP status.
 * https://www.rfc-editor.org/rfc/rfc7617#section-2
 */
import type { Integration } from '../config/deployment.js';
import {
  ConfigError,
  InvalidGrantError,
  InvalidRequestError,
  RateLimitedError,
  TokenvendError,
  VendorRejectedError,
  VendorUnavailableError,
} from '../errors.js';
import type { HttpRequest, HttpResponse } from '../oauth/http.js';
import { send } from '../oauth/send.js';
import { parseRetryAfter } from '../oauth/token-response.js';
import { interpolate, lookupFrom, MissingValueError } from '../provider/interpolate.js';
import { checkEndpointUrl } from '../provider/resolve.js';
import type { GrantsSpec } from '../provider/schema.js';
import type { TokenSet } from '../token-set.js';
import { type FlowDeps, integrationOf } from './deps.js';

/** The template's `grants.user_credentials`. */
type UserCredentialsGrantSpec = NonNullable<GrantsSpec['user_credentials']>;

/** The grant name stored on the connection. */
const USER_CREDENTIALS_GRANT = 'user_credentials';

/** Longest username we look at before the template's pattern decides (Finesse login names are far shorter). */
export const MAX_USERNAME_LENGTH = 256;
/** Longest password we accept. */
export const MAX_PASSWORD_LENGTH = 1024;

/** The fields of the request body; anything else is refused. */
const FIELDS = ['username', 'password'] as const;

/** RFC 7617 §2: neither the user-id nor the password may contain control characters. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what this refuses
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface UserCredentials {
  username: string;
  password: string;
}

/**
 * The username and password of a request body, checked for shape only (the template's pattern comes later):
 * both strings, the username 1..{@link MAX_USERNAME_LENGTH} characters without `:` (RFC 7617 §2 ends the user-id
 * at the first colon) and not a dot segment, the password 1..{@link MAX_PASSWORD_LENGTH}, neither with control characters, and no
 * other field. Errors name the field, never its value.
 */
export function credentialsOf(body: unknown): UserCredentials {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError('the body must be a JSON object with username and password');
  }
  const record = body as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown.length) throw new InvalidRequestError(`unknown field ${unknown.join(', ')}`);
  const { username, password } = record;
  if (typeof username !== 'string' || username === '' || username.length > MAX_USERNAME_LENGTH) {
    throw new InvalidRequestError(`username must be a string of 1 to ${MAX_USERNAME_LENGTH} characters`);
  }
  if (username.includes(':') || CONTROL.test(username)) {
    throw new InvalidRequestError('username must not contain ":" or control characters');
  }
  // A dot segment would move the verify URL up a level (RFC 3986 §5.2.4), whatever the encoding (`%2E` too).
  if (username === '.' || username === '..')
    throw new InvalidRequestError('username must not be "." or ".."');
  if (typeof password !== 'string' || password === '' || password.length > MAX_PASSWORD_LENGTH) {
    throw new InvalidRequestError(`password must be a string of 1 to ${MAX_PASSWORD_LENGTH} characters`);
  }
  if (CONTROL.test(password)) throw new InvalidRequestError('password must not contain control characters');
  return { username, password };
}

/**
 * 400 `invalid_grant`: the vendor answered the check with 401 or 403. Nothing was stored; the vendor's own
 * words are not kept.
 */
export class CredentialsRefusedError extends InvalidGrantError {
  constructor(integration: string, vendorStatus: number) {
    super(`the vendor refused these credentials for ${integration} (HTTP ${vendorStatus})`, {
      error: 'invalid_grant',
      status: 400,
      vendorStatus,
    });
  }
}

/** The integration's `user_credentials` grant, or 400 `unsupported_grant_type`. */
function grantOf(integration: Integration): UserCredentialsGrantSpec {
  const spec = integration.provider.template.grants.user_credentials;
  if (!spec) {
    throw new InvalidRequestError(`integration ${integration.id} does not take users' own credentials`, {
      error: 'unsupported_grant_type',
    });
  }
  return spec;
}

/** RFC 7617 user-pass in UTF-8 (the `charset="UTF-8"` of §2.1); btoa would refuse anything beyond Latin-1. */
function basicCredentials({ username, password }: UserCredentials): string {
  return Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}

/**
 * The check request: the template's `verify.url` over the integration's variables and the URL-encoded username,
 * sent with the Basic credentials. The URL must be https (the template loader lets plain http through only for a
 * literal loopback host, which tests use).
 */
export function buildVerifyRequest(
  integration: Integration,
  spec: UserCredentialsGrantSpec,
  credentials: UserCredentials,
): HttpRequest {
  const lookup = lookupFrom({
    ...integration.provider.vars,
    username: encodeURIComponent(credentials.username),
  });
  let url: string;
  try {
    url = interpolate(spec.verify.url, lookup);
  } catch (e) {
    if (e instanceof MissingValueError) {
      throw new ConfigError(
        `integration ${integration.id}: grants.user_credentials.verify.url needs variable ${e.placeholder}, which has no value`,
      );
    }
    throw e;
  }
  const problem = checkEndpointUrl(url, { allowInsecureLoopback: true });
  if (problem) {
    throw new ConfigError(`integration ${integration.id}: grants.user_credentials.verify.url ${problem}`);
  }
  return {
    method: spec.verify.method,
    url,
    headers: {
      authorization: `Basic ${basicCredentials(credentials)}`,
      // Finesse answers XML; any answer will do, its body is never read.
      accept: 'application/xml, application/json;q=0.9, */*;q=0.8',
    },
  };
}

/**
 * What the check's answer means: nothing for 2xx; 401/403 the credentials are wrong (400 `invalid_grant`); 429 and
 * 5xx the vendor is unavailable (503 / 502 `temporarily_unavailable`, with its Retry-After); anything else (a
 * redirect to a sign-on page, 404, 400) a vendor or template problem the user cannot fix (502 `server_error`).
 */
export function verifyOutcome(
  integration: Integration,
  response: HttpResponse,
  nowMs: number,
): Error | undefined {
  const { status } = response;
  if (status >= 200 && status < 300) return undefined;
  if (status === 401 || status === 403) return new CredentialsRefusedError(integration.id, status);
  const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'), nowMs);
  const retry = retryAfterSeconds === undefined ? {} : { retryAfterSeconds };
  if (status === 429) {
    return new RateLimitedError(`${integration.id} is rate limiting the credentials check (HTTP 429)`, {
      error: 'temporarily_unavailable',
      status: 503,
      vendorStatus: status,
      ...retry,
    });
  }
  if (status >= 500) {
    return new VendorUnavailableError(`${integration.id} credentials check failed (HTTP ${status})`, {
      error: 'temporarily_unavailable',
      status: 502,
      vendorStatus: status,
      // A GET changes nothing: whatever happened, nothing is left half done.
      outcomeUnknown: false,
      ...retry,
    });
  }
  return new VendorRejectedError(`${integration.id} answered the credentials check with HTTP ${status}`, {
    error: 'server_error',
    status: 502,
    vendorStatus: status,
  });
}

export interface CredentialsConnectInput {
  integration: string;
  /** The verified caller's subject (`user:<namespace>:<claim>`). */
  subject: string;
  /** The parsed JSON body: `{username, password}`. */
  body: unknown;
}

/** Password checks one subject may send to one integration's vendor per window. */
const MAX_CREDENTIAL_ATTEMPTS = 5;
const CREDENTIAL_ATTEMPT_WINDOW_SECONDS = 900;

/** 429 `slow_down`: the subject used its {@link MAX_CREDENTIAL_ATTEMPTS} checks of this window. */
export class TooManyCredentialChecksError extends TokenvendError {
  readonly retryAfterSeconds: number;

  constructor(integration: string, retryAfterSeconds: number) {
    super(
      `at most ${MAX_CREDENTIAL_ATTEMPTS} credential checks for ${integration} per ${CREDENTIAL_ATTEMPT_WINDOW_SECONDS / 60} minutes; retry later`,
      { error: 'slow_down', status: 429 },
    );
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Checks the caller's own credentials once at the vendor and, when it accepts them, stores them as the caller's
 * connection (replacing any previous one, publishing `connection.connected`). A refusal or a vendor failure
 * stores nothing and leaves an existing connection as it was. The check is sent once, never retried: a retried
 * wrong password counts twice towards the vendor's lockout.
 */
export async function connectWithCredentials(
  deps: FlowDeps,
  input: CredentialsConnectInput,
): Promise<{ integration: string }> {
  const integration = await integrationOf(deps, input.integration);
  const spec = grantOf(integration);
  const credentials = credentialsOf(input.body);
  if (!new RegExp(`^(?:${spec.username.pattern})$`, 'u').test(credentials.username)) {
    throw new InvalidRequestError(`username is not in the form integration ${integration.id} accepts`);
  }
  // Any signed-in caller could otherwise try passwords for any agent (and lock agents out at the vendor).
  const attempt = await deps.attempts.take(`credentials\n${integration.id}\n${input.subject}`, {
    max: MAX_CREDENTIAL_ATTEMPTS,
    windowSeconds: CREDENTIAL_ATTEMPT_WINDOW_SECONDS,
  });
  if (!attempt.allowed) throw new TooManyCredentialChecksError(integration.id, attempt.retryAfterSeconds);
  const response = await send(buildVerifyRequest(integration, spec, credentials), {
    fetch: deps.fetch,
    timeoutMs: deps.vendorTimeoutMs,
  });
  const refused = verifyOutcome(integration, response, deps.now() * 1000);
  if (refused) throw refused;
  const tokens: TokenSet = {
    accessToken: basicCredentials(credentials),
    tokenType: 'Basic',
    issuedAt: deps.now(),
  };
  await deps.lifecycle.storeNewConnection(integration, {
    subject: input.subject,
    grant: USER_CREDENTIALS_GRANT,
    tokens,
  });
  return { integration: integration.id };
}
