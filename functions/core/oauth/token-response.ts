/**
 * Processing token endpoint answers: success through the response mapping, failures into typed errors
 * that carry the vendor's `error` code (checked) but never its `error_description`, and never a token.
 * https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
import {
  InvalidClientError,
  InvalidGrantError,
  MalformedResponseError,
  RateLimitedError,
  VendorRejectedError,
  VendorUnavailableError,
  vendorCode,
} from '../errors.js';
import type { ResolvedProvider } from '../provider/resolve.js';
import type { TokenSet } from '../token-set.js';
import type { HttpResponse } from './http.js';
import { mapTokenResponse, selectField } from './response-mapping.js';

/** A day: a longer Retry-After is a vendor bug, not a reason to park a connection for years. */
const MAX_RETRY_AFTER_SECONDS = 86_400;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Retry-After as seconds, from delta-seconds or an HTTP date. https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3 */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Math.min(Number(v), MAX_RETRY_AFTER_SECONDS);
  // An HTTP-date (IMF-fixdate, rfc850 or asctime) starts with a weekday; Date.parse alone would take "-1".
  if (!/^[A-Za-z]{3,9},? /.test(v)) return undefined;
  // asctime carries no zone but means GMT; Date.parse would read it as local time.
  const at = Date.parse(/\d{4}$/.test(v) ? `${v} GMT` : v);
  return Number.isNaN(at)
    ? undefined
    : Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(0, Math.ceil((at - nowMs) / 1000)));
}

/** The vendor's error code (`error`, or `errorCode` for some vendors); its free text is never read. */
function vendorErrorFields(body: unknown): { vendorError?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const b = body as Record<string, unknown>;
  const code = vendorCode(b.error ?? b.errorCode);
  return code ? { vendorError: code } : {};
}

/** Turns a non-2xx token endpoint answer into the matching typed error. */
export function tokenErrorFor(provider: ResolvedProvider, response: HttpResponse, nowMs: number): Error {
  const id = provider.template.id;
  const fields = vendorErrorFields(parseJson(response.body));
  const said = fields.vendorError ?? `HTTP ${response.status}`;
  const base = { ...fields, vendorStatus: response.status };
  if (response.status === 429) {
    const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'), nowMs);
    return new RateLimitedError(`${id} is rate limiting token requests (${said})`, {
      ...base,
      error: 'temporarily_unavailable',
      status: 503,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  }
  if (response.status >= 500) {
    const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'), nowMs);
    return new VendorUnavailableError(`${id} token endpoint failed (${said})`, {
      ...base,
      error: 'temporarily_unavailable',
      status: 502,
      // 503 means "not processed"; any other 5xx may have done the work (and rotated a refresh token).
      outcomeUnknown: response.status !== 503,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  }
  if (fields.vendorError === 'invalid_grant') {
    return new InvalidGrantError(`${id} rejected the grant (${said})`, {
      ...base,
      error: 'invalid_grant',
      status: 400,
    });
  }
  if (
    fields.vendorError === 'invalid_client' ||
    fields.vendorError === 'unauthorized_client' ||
    response.status === 401
  ) {
    return new InvalidClientError(`${id} rejected the client credentials (${said})`, {
      ...base,
      error: 'server_error',
      status: 502,
    });
  }
  return new VendorRejectedError(`${id} rejected the token request (${said})`, {
    ...base,
    error: 'server_error',
    status: 502,
  });
}

/** Reads a token endpoint answer: a {@link TokenSet} for 2xx, a typed error otherwise. `now` in epoch seconds. */
export function processTokenResponse(
  provider: ResolvedProvider,
  response: HttpResponse,
  now: number,
): TokenSet {
  if (response.status < 200 || response.status >= 300) throw tokenErrorFor(provider, response, now * 1000);
  const body = parseJson(response.body);
  if (body === undefined) {
    throw new MalformedResponseError(`${provider.template.id} token response is not JSON`, {
      error: 'server_error',
      status: 502,
      vendorStatus: response.status,
    });
  }
  const t = provider.template;
  // Some vendors answer 200 with an OAuth error body; classify it as if the status had said so.
  if (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as Record<string, unknown>).error === 'string' &&
    selectField(body as Record<string, unknown>, t.response.accessToken) === undefined
  ) {
    throw tokenErrorFor(provider, response, now * 1000);
  }
  return mapTokenResponse(
    body,
    t.response,
    {
      scopeDelimiter: t.authorize.scopeDelimiter,
      defaultAccessTokenSeconds: t.defaultAccessTokenSeconds,
      defaultRefreshTokenSeconds: t.defaultRefreshTokenSeconds,
    },
    now,
  );
}
