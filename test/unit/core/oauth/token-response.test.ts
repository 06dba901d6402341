import {
  InvalidClientError,
  InvalidGrantError,
  MalformedResponseError,
  RateLimitedError,
  TokenvendError,
  VendorRejectedError,
  VendorUnavailableError,
} from '../../../../functions/core/errors.js';
import type { HttpResponse } from '../../../../functions/core/oauth/http.js';
import {
  parseRetryAfter,
  processTokenResponse,
  tokenErrorFor,
} from '../../../../functions/core/oauth/token-response.js';
import { errorText, provider, thrown } from '../fixtures.js';

const NOW = 1_800_000_000;
const AT = 'SECRET-ACCESS-abc123';
const RT = 'SECRET-REFRESH-def456';
const p = provider({
  response: {
    refreshToken: { match: 'refresh.[tT]oken|extended_token' },
    expiresIn: { field: 'expires_in' },
  },
  defaultRefreshTokenSeconds: 3600,
});

const res = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers: new Headers(headers),
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

function failure(response: HttpResponse): TokenvendError {
  const e = thrown(() => processTokenResponse(p, response, NOW));
  expect(e).toBeInstanceOf(TokenvendError);
  expect(errorText(e)).not.toContain(AT);
  expect(errorText(e)).not.toContain(RT);
  return e as TokenvendError;
}

describe('processTokenResponse: success', () => {
  it('maps a vendor response through the template mapping', () => {
    const t = processTokenResponse(
      p,
      res(200, {
        access_token: AT,
        token_type: 'BearerToken',
        expires_in: '1799',
        extended_token: RT,
        scope: 'a b',
      }),
      NOW,
    );
    expect(t).toEqual({
      accessToken: AT,
      tokenType: 'Bearer',
      expiresAt: NOW + 1799,
      refreshToken: RT,
      refreshExpiresAt: NOW + 3600,
      scopes: ['a', 'b'],
      subject: undefined,
      idToken: undefined,
      issuedAt: NOW,
    });
  });

  it('accepts any 2xx', () => {
    expect(processTokenResponse(p, res(201, { access_token: AT }), NOW).accessToken).toBe(AT);
  });
});

describe('processTokenResponse: errors', () => {
  it('400 invalid_grant -> InvalidGrantError with the vendor code, never its description (checklist 53)', () => {
    const e = failure(
      res(400, { error: 'invalid_grant', error_description: 'Refresh token expired' }),
    ) as InvalidGrantError;
    expect(e).toBeInstanceOf(InvalidGrantError);
    expect(e).toMatchObject({
      error: 'invalid_grant',
      status: 400,
      vendorError: 'invalid_grant',
      vendorStatus: 400,
    });
    expect(e.message).toBe('acme rejected the grant (invalid_grant)');
    expect(JSON.stringify({ ...e, message: e.message })).not.toContain('Refresh token expired');
  });

  it.each([
    [401, { error: 'invalid_token' }],
    [401, 'Unauthorized'],
    [400, { error: 'invalid_client' }],
    [400, { error: 'unauthorized_client' }],
  ])('%i %j -> InvalidClientError', (status, body) => {
    const e = failure(res(status, body));
    expect(e).toBeInstanceOf(InvalidClientError);
    expect(e.status).toBe(502);
  });

  it('429 with Retry-After seconds -> RateLimitedError', () => {
    const e = failure(res(429, { error: 'slow_down' }, { 'retry-after': '17' })) as RateLimitedError;
    expect(e).toBeInstanceOf(RateLimitedError);
    expect(e.retryAfterSeconds).toBe(17);
    expect(e.vendorStatus).toBe(429);
  });

  it('429 with an HTTP-date Retry-After -> seconds from now', () => {
    const at = new Date((NOW + 90) * 1000).toUTCString();
    const e = failure(res(429, '', { 'retry-after': at })) as RateLimitedError;
    expect(e.retryAfterSeconds).toBe(90);
    expect((failure(res(429, '')) as RateLimitedError).retryAfterSeconds).toBeUndefined();
  });

  it.each([
    [500, true],
    [502, true],
    [503, false],
    [504, true],
  ])('%i -> VendorUnavailableError, outcomeUnknown %s', (status, outcomeUnknown) => {
    const e = failure(res(status, '<html>oops</html>')) as VendorUnavailableError;
    expect(e).toBeInstanceOf(VendorUnavailableError);
    expect(e.outcomeUnknown).toBe(outcomeUnknown);
    expect(e.error).toBe('temporarily_unavailable');
  });

  it.each(['<html>ok</html>', '', 'null', '"token"', '[1]'])(
    '200 with the non-object body %j -> MalformedResponseError',
    (body) => {
      expect(failure(res(200, body))).toBeInstanceOf(MalformedResponseError);
    },
  );

  it('200 whose mapping finds no access token -> MalformedResponseError naming the field', () => {
    const e = failure(res(200, { token: AT, refresh_token: RT }));
    expect(e).toBeInstanceOf(MalformedResponseError);
    expect(e.message).toMatch(/access_token/);
  });

  it('200 carrying an OAuth error body is classified like the error', () => {
    expect(failure(res(200, { error: 'invalid_grant', error_description: 'gone' }))).toBeInstanceOf(
      InvalidGrantError,
    );
  });

  it.each([
    [400, { error: 'invalid_scope' }],
    [400, { error: 'unsupported_grant_type' }],
    [403, { errorCode: 'Forbidden', message: 'nope' }],
    [404, 'not found'],
    [302, ''],
  ])('%i %j -> VendorRejectedError', (status, body) => {
    const e = failure(res(status, body));
    expect(e).toBeInstanceOf(VendorRejectedError);
    expect(e.status).toBe(502);
  });

  it('keeps a vendor error only as a short code; an echo of the request never reaches the error', () => {
    const long = failure(
      res(400, { error: 'x'.repeat(500), error_description: 'y'.repeat(5000) }),
    ) as VendorRejectedError;
    expect(long.vendorError).toBe('unrecognised_error');
    const echo = failure(
      res(400, {
        error: 'refresh_token=rt-secret&code_verifier=v-secret',
        error_description: 'Authorization: Basic Y2xpZW50OnNlY3JldA== code_verifier=v-secret',
      }),
    );
    expect(`${echo.message} ${JSON.stringify(echo)}`).not.toMatch(/rt-secret|v-secret|Y2xpZW50/);
  });

  it('never echoes tokens from a malformed success body', () => {
    for (const body of [
      { access_token: AT, expires_in: 'soon', refresh_token: RT },
      { access_token: [AT], refresh_token: RT },
      { access_token: AT, refresh_token: { value: RT } },
    ]) {
      expect(failure(res(200, body))).toBeInstanceOf(MalformedResponseError);
    }
  });
});

describe('parseRetryAfter', () => {
  const nowMs = NOW * 1000;
  it.each([
    ['0', 0],
    [' 120 ', 120],
    [new Date(nowMs + 30_000).toUTCString(), 30],
    [new Date(nowMs - 60_000).toUTCString(), 0],
    ['99999999999', 86_400],
    ['Sunday, 15-Jan-27 08:00:10 GMT', 10],
    ['Fri Jan 15 08:00:20 2027', 20],
    ['soon', undefined],
    ['5 minutes', undefined],
    ['-1', undefined],
    ['', undefined],
  ])('%j -> %s', (value, expected) => {
    expect(parseRetryAfter(value, nowMs)).toBe(expected);
  });
  it('null -> undefined', () => {
    expect(parseRetryAfter(null, nowMs)).toBeUndefined();
  });
});

describe('tokenErrorFor', () => {
  it('returns typed errors without throwing', () => {
    expect(tokenErrorFor(p, res(418, {}), NOW * 1000)).toBeInstanceOf(VendorRejectedError);
  });
});
