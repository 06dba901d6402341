/** The API's closed set of error codes mapped to the clients' typed errors (client/errors.ts). */
import {
  AccessDeniedError,
  errorFromAnswer,
  InvalidGrantError,
  InvalidRequestError,
  InvalidTokenError,
  NeedsReauthError,
  NotConnectedError,
  NotFoundError,
  parseRetryAfter,
  RateLimitedError,
  ServerError,
  TokenVendError,
  UnavailableError,
} from '../../client/errors.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const map = (status: number, body: unknown, retryAfter?: string) =>
  errorFromAnswer({ status, body, retryAfter }, { integration: 'genesys-eu', nowMs: NOW });

test.each([
  [400, 'invalid_request', InvalidRequestError],
  [400, 'unsupported_grant_type', InvalidRequestError],
  [400, 'invalid_grant', InvalidGrantError],
  [401, 'invalid_token', InvalidTokenError],
  [403, 'access_denied', AccessDeniedError],
  [404, 'unknown_integration', NotFoundError],
  [404, 'unknown_connection', NotFoundError],
  [404, 'not_connected', NotConnectedError],
  [409, 'needs_reauth', NeedsReauthError],
  [429, 'slow_down', RateLimitedError],
  [500, 'server_error', ServerError],
  [502, 'server_error', ServerError],
  [502, 'temporarily_unavailable', UnavailableError],
  [503, 'temporarily_unavailable', UnavailableError],
  [504, 'temporarily_unavailable', UnavailableError],
])('%i %s -> %p', (status, code, Kind) => {
  const error = map(status, { error: code, error_description: 'our own words' });
  expect(error).toBeInstanceOf(Kind);
  expect(error).toBeInstanceOf(TokenVendError);
  expect(error).toMatchObject({ code, status, description: 'our own words', integration: 'genesys-eu' });
  expect(error.name).toBe(Kind.name);
  expect(error.message).toBe(`${code} (genesys-eu): our own words`);
});

test('needs_reauth carries the reason and the connect hint from the body', () => {
  const error = map(409, {
    error: 'needs_reauth',
    error_description: 'connection to genesys-eu needs re-authorisation (invalid_grant)',
    reason: 'invalid_grant',
    connect: { method: 'POST', path: '/connect/genesys-eu' },
  }) as NeedsReauthError;
  expect(error.reason).toBe('invalid_grant');
  expect(error.connect).toEqual({ method: 'POST', path: '/connect/genesys-eu' });
  expect(error.retryable).toBe(false);
});

test('not_connected gets a connect hint for its integration', () => {
  const error = map(404, { error: 'not_connected', error_description: 'x' }) as NotConnectedError;
  expect(error.connect).toEqual({ method: 'POST', path: '/connect/genesys-eu' });
});

test('Retry-After as seconds or as an HTTP date', () => {
  expect(map(429, { error: 'slow_down' }, '30')).toMatchObject({ retryAfter: 30, retryable: true });
  expect(map(503, { error: 'temporarily_unavailable' }, new Date(NOW + 90_000).toUTCString())).toMatchObject({
    retryAfter: 90,
  });
  expect(parseRetryAfter('soon', NOW)).toBeUndefined();
  expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
});

test("API Gateway's own answers: 403 message is forbidden, 429 is throttling, 5xx is unavailable", () => {
  expect(map(403, { message: 'Forbidden' })).toMatchObject({ name: 'AccessDeniedError', code: 'forbidden' });
  expect(map(429, { message: 'Too Many Requests' }, '2')).toMatchObject({
    name: 'RateLimitedError',
    code: 'slow_down',
    retryAfter: 2,
  });
  expect(map(504, { message: 'Endpoint request timed out' })).toMatchObject({
    name: 'UnavailableError',
    code: 'temporarily_unavailable',
  });
  expect(map(500, undefined)).toMatchObject({ name: 'ServerError', code: 'invalid_response' });
});

test('an unknown code keeps the code, typed by status', () => {
  expect(map(418, { error: 'teapot' })).toMatchObject({ name: 'TokenVendError', code: 'teapot' });
  expect(map(500, { error: 'mystery' })).toBeInstanceOf(ServerError);
});
