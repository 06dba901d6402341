/**
 * Per-user credentials (core/flows/credentials.ts): the body's shape (RFC 7617 §2: no colon in the user-id, no
 * control characters), the verify request built from the template (URL-encoded username, UTF-8 Basic) and what
 * each vendor answer means. No error ever carries the password or the vendor's body.
 */
import { randomUUID } from 'node:crypto';
import type { Integration } from '../../../../functions/core/config/deployment.js';
import {
  ConfigError,
  InvalidGrantError,
  InvalidRequestError,
  RateLimitedError,
  TemplateError,
  type TokenvendError,
  VendorRejectedError,
  VendorUnavailableError,
} from '../../../../functions/core/errors.js';
import {
  buildVerifyRequest,
  CredentialsRefusedError,
  credentialsOf,
  MAX_PASSWORD_LENGTH,
  MAX_USERNAME_LENGTH,
  verifyOutcome,
} from '../../../../functions/core/flows/credentials.js';
import { errorText, provider, thrown } from '../fixtures.js';

const password = () => `pw-${randomUUID()}`;

const grant = (url = 'https://finesse.${region}/finesse/api/User/${username}') => ({
  user_credentials: { username: { pattern: '[A-Za-z0-9._@-]{1,128}' }, verify: { url } },
});

function integration(url?: string, vars: Record<string, unknown> = {}): Integration {
  return {
    id: 'finesse',
    provider: provider({ grants: grant(url), endpoints: {} }, vars),
    config: {} as Integration['config'],
  };
}

const specOf = (i: Integration) =>
  i.provider.template.grants.user_credentials as NonNullable<
    Integration['provider']['template']['grants']['user_credentials']
  >;

describe('credentialsOf: the body', () => {
  it('takes exactly a username and a password', () => {
    const pw = password();
    expect(credentialsOf({ username: 'agent1001', password: pw })).toEqual({
      username: 'agent1001',
      password: pw,
    });
    expect(
      credentialsOf({ username: 'x'.repeat(MAX_USERNAME_LENGTH), password: 'p'.repeat(MAX_PASSWORD_LENGTH) }),
    ).toBeTruthy();
    // Anything printable goes in a password, colons included (only the user-id ends at the first colon).
    expect(credentialsOf({ username: 'a', password: 'p:ä ß"{}' }).password).toBe('p:ä ß"{}');
  });

  it.each([
    ['no object', null],
    ['an array', [{ username: 'a', password: 'p' }]],
    ['a string', 'a:p'],
    ['nothing', {}],
    ['no password', { username: 'agent1001' }],
    ['no username', { password: 'p' }],
    ['a number', { username: 1001, password: 'p' }],
    ['an object password', { username: 'a', password: { value: 'p' } }],
    ['an empty username', { username: '', password: 'p' }],
    ['an empty password', { username: 'a', password: '' }],
    ['a long username', { username: 'x'.repeat(MAX_USERNAME_LENGTH + 1), password: 'p' }],
    ['a long password', { username: 'a', password: 'p'.repeat(MAX_PASSWORD_LENGTH + 1) }],
    ['a colon in the username', { username: 'agent:1001', password: 'p' }],
    ['a newline in the username', { username: 'agent\n1001', password: 'p' }],
    ['a dot segment as username', { username: '..', password: 'p' }],
    ['a single dot as username', { username: '.', password: 'p' }],
    ['a NUL in the password', { username: 'a', password: 'p\u0000q' }],
    ['a DEL in the password', { username: 'a', password: 'p\u007f' }],
    ['an extra field', { username: 'a', password: 'p', realm: 'x' }],
    ['an inherited-looking field', JSON.parse('{"username":"a","password":"p","__proto__":{"x":1}}')],
  ])('refuses %s with 400 invalid_request', (_, body) => {
    const error = thrown(() => credentialsOf(body));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error).toMatchObject({ error: 'invalid_request', status: 400 });
  });

  it('names the field, never its value', () => {
    const pw = `${password()}\n`;
    const error = thrown(() => credentialsOf({ username: 'agent1001', password: pw }));
    expect((error as Error).message).toMatch(/^password /);
    expect(errorText(error)).not.toContain(pw.trim());
    const long = thrown(() => credentialsOf({ username: 'agent1001', password: `${pw}${'p'.repeat(2000)}` }));
    expect(errorText(long)).not.toContain(pw.trim());
  });
});

describe('buildVerifyRequest', () => {
  it('fills the template with the variables and the URL-encoded username, and sends UTF-8 Basic', () => {
    const i = integration();
    const pw = `pässwörd-${password()}`;
    const request = buildVerifyRequest(i, specOf(i), { username: 'jo smith@cc/x?y#z', password: pw });
    expect(request.method).toBe('GET');
    expect(request.url).toBe('https://finesse.eu.acme.com/finesse/api/User/jo%20smith%40cc%2Fx%3Fy%23z');
    expect(new URL(request.url).pathname.split('/')).toHaveLength(5);
    expect(request.headers.authorization).toBe(
      `Basic ${Buffer.from(`jo smith@cc/x?y#z:${pw}`, 'utf8').toString('base64')}`,
    );
    expect(request.headers.accept).toMatch(/application\/xml/);
    expect(request.body).toBeUndefined();
  });

  it('refuses a URL that would carry credentials, and a variable without a value, as configuration errors', () => {
    const withVar = provider({
      variables: { host: { description: 'host', pattern: '[a-z.]+' } },
      grants: grant('https://${host}/User/${username}'),
      endpoints: {},
    });
    const unset: Integration = { id: 'finesse', provider: withVar, config: {} as Integration['config'] };
    const pw = password();
    const error = thrown(() => buildVerifyRequest(unset, specOf(unset), { username: 'a', password: pw }));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/needs variable host/);
    expect(errorText(error)).not.toContain(pw);

    // A host that would carry credentials is refused when the integration is bound, before any request.
    const refused = thrown(() =>
      provider(
        {
          variables: { host: { description: 'host', pattern: '[a-z.@]+' } },
          grants: grant('https://${host}/User/${username}'),
          endpoints: {},
        },
        { host: 'user@finesse.example' },
      ),
    );
    expect(refused).toBeInstanceOf(TemplateError);
    expect((refused as Error).message).toMatch(/must not carry credentials/);
  });
});

describe('verifyOutcome: what the vendor answer means', () => {
  const i = integration();
  const answer = (status: number, headers: Record<string, string> = {}, body = '') => ({
    status,
    headers: new Headers(headers),
    body,
  });

  it.each([200, 204])('%i: accepted', (status) => {
    expect(verifyOutcome(i, answer(status), 0)).toBeUndefined();
  });

  it.each([401, 403])('%i: the credentials are wrong, 400 invalid_grant in our own words', (status) => {
    const secretEcho = `<ErrorMessage>${password()}</ErrorMessage>`;
    const error = verifyOutcome(i, answer(status, {}, secretEcho), 0);
    expect(error).toBeInstanceOf(CredentialsRefusedError);
    expect(error).toBeInstanceOf(InvalidGrantError);
    expect(error).toMatchObject({ error: 'invalid_grant', status: 400, vendorStatus: status, expose: true });
    expect(errorText(error)).not.toContain(secretEcho);
  });

  it('429: 503 temporarily_unavailable with the vendor’s Retry-After', () => {
    const error = verifyOutcome(i, answer(429, { 'retry-after': '30' }), 0);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ error: 'temporarily_unavailable', status: 503, retryAfterSeconds: 30 });
  });

  it.each([500, 502, 503])('%i: 502 temporarily_unavailable', (status) => {
    const error = verifyOutcome(i, answer(status), 0);
    expect(error).toBeInstanceOf(VendorUnavailableError);
    expect(error).toMatchObject({ error: 'temporarily_unavailable', status: 502, outcomeUnknown: false });
  });

  it.each([
    [302, 'a redirect to a sign-on page'],
    [400, 'a bad request'],
    [404, 'no such user or a wrong path'],
  ])('%i (%s): 502 server_error, not the user’s fault', (status) => {
    const error = verifyOutcome(i, answer(status), 0) as TokenvendError;
    expect(error).toBeInstanceOf(VendorRejectedError);
    expect(error).toMatchObject({ error: 'server_error', status: 502, expose: false });
  });
});
