import { generateKeyPair, SignJWT } from 'jose';
import { MalformedResponseError } from '../../../../functions/core/errors.js';
import {
  jwtExpiry,
  mapTokenResponse,
  normaliseTokenType,
  selectField,
  toNumber,
} from '../../../../functions/core/oauth/response-mapping.js';
import { responseMappingSchema } from '../../../../functions/core/provider/schema.js';
import { errorText, thrown } from '../fixtures.js';

const NOW = 1_800_000_000;
const defaults = { scopeDelimiter: ' ' };
const mapping = (input: Record<string, unknown> = {}) => responseMappingSchema.parse(input);
const map = (body: unknown, m: Record<string, unknown> = {}, d: Record<string, unknown> = {}) =>
  mapTokenResponse(body, mapping(m), { ...defaults, ...d }, NOW);

async function jwtWithExp(exp: number | undefined): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256');
  const jwt = new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'ES256' }).setIssuedAt(NOW);
  if (exp !== undefined) jwt.setExpirationTime(exp);
  return jwt.sign(privateKey);
}

describe('mapTokenResponse', () => {
  it('maps a standard RFC 6749 §5.1 response', () => {
    expect(
      map({
        access_token: 'at',
        token_type: 'bearer',
        expires_in: 3600,
        refresh_token: 'rt',
        scope: 'a b',
        id_token: 'x.y.z',
      }),
    ).toEqual({
      accessToken: 'at',
      tokenType: 'Bearer',
      expiresAt: NOW + 3600,
      refreshToken: 'rt',
      refreshExpiresAt: undefined,
      scopes: ['a', 'b'],
      subject: undefined,
      idToken: 'x.y.z',
      issuedAt: NOW,
    });
  });

  it('reads numbers sent as strings ("1799")', () => {
    expect(map({ access_token: 'at', expires_in: '1799' }).expiresAt).toBe(NOW + 1799);
    expect(map({ access_token: 'at', expires_in: ' 1799.9 ' }).expiresAt).toBe(NOW + 1799);
  });

  it.each([
    ['epoch-seconds', NOW + 600, NOW + 600],
    ['epoch-seconds', String(NOW + 600), NOW + 600],
    ['epoch-millis', (NOW + 600) * 1000 + 999, NOW + 600],
    ['iso8601', new Date((NOW + 600) * 1000).toISOString(), NOW + 600],
    ['iso8601', '2027-01-15T08:00:00+01:00', Date.parse('2027-01-15T07:00:00Z') / 1000],
    ['iso8601', '2027-01-15T08:00:00', Date.parse('2027-01-15T08:00:00Z') / 1000],
    ['iso8601', '2027-01-15 08:00:00.5', Date.parse('2027-01-15T08:00:00Z') / 1000],
  ])('reads absolute expiries (%s %j)', (format, value, expected) => {
    expect(
      map({ access_token: 'at', expires_at: value }, { expiresIn: { field: 'expires_at', format } })
        .expiresAt,
    ).toBe(expected);
  });

  it.each([
    ['relative', 'soon'],
    ['relative', -5],
    ['relative', '9'.repeat(400)],
    ['relative', 1e300],
    ['relative', true],
    ['epoch-millis', { at: 1 }],
    ['iso8601', 'tomorrow'],
    ['iso8601', '5'],
    ['iso8601', NOW],
  ])('refuses an unreadable %s expiry %j naming the field, not the value', (format, value) => {
    const e = thrown(() =>
      map({ access_token: 'SECRET-AT', exp_field: value }, { expiresIn: { field: 'exp_field', format } }),
    );
    expect(e).toBeInstanceOf(MalformedResponseError);
    expect((e as Error).message).toMatch(/exp_field/);
    expect(errorText(e)).not.toContain('SECRET-AT');
  });

  it('falls back to the JWT exp claim of the access token', async () => {
    const at = await jwtWithExp(NOW + 900);
    expect(map({ access_token: at }).expiresAt).toBe(NOW + 900);
    expect(map({ access_token: at, expires_in: 60 }).expiresAt).toBe(NOW + 60);
    expect(map({ access_token: at }, { expiryFromJwt: false }).expiresAt).toBeUndefined();
    expect(map({ access_token: await jwtWithExp(undefined) }).expiresAt).toBeUndefined();
  });

  it('applies default lifetimes when nothing else says', () => {
    const d = { defaultAccessTokenSeconds: 300, defaultRefreshTokenSeconds: 604800 };
    expect(map({ access_token: 'at', refresh_token: 'rt' }, {}, d)).toMatchObject({
      expiresAt: NOW + 300,
      refreshExpiresAt: NOW + 604800,
    });
    // No refresh token: no refresh expiry either.
    expect(map({ access_token: 'at' }, {}, d).refreshExpiresAt).toBeUndefined();
  });

  it('reads refresh expiry, treating 0 as "does not expire" (Keycloak offline tokens)', () => {
    const m = { refreshExpiresIn: { field: 'refresh_token_expires_in' } };
    expect(
      map({ access_token: 'a', refresh_token: 'r', refresh_token_expires_in: '604800' }, m).refreshExpiresAt,
    ).toBe(NOW + 604800);
    expect(
      map({ access_token: 'a', refresh_token: 'r', refresh_token_expires_in: 0 }, m).refreshExpiresAt,
    ).toBeUndefined();
  });

  it('maps regex field names: refresh.[tT]oken or a vendor naming it extended_token', () => {
    const m = { refreshToken: { match: 'refresh.[tT]oken|extended_token' } };
    expect(map({ access_token: 'a', 'refresh-Token': 'r1' }, m).refreshToken).toBe('r1');
    expect(map({ access_token: 'a', refresh_token: 'r2' }, m).refreshToken).toBe('r2');
    expect(map({ access_token: 'a', extended_token: 'r3' }, m).refreshToken).toBe('r3');
    // Anchored: a longer name does not match.
    expect(map({ access_token: 'a', my_refresh_token_x: 'r4' }, m).refreshToken).toBeUndefined();
  });

  it('maps dot paths and keeps refresh undefined when absent', () => {
    const t = map(
      { data: { token: 'at', life: '60', user: { id: 42 } } },
      { accessToken: 'data.token', expiresIn: { field: { path: 'data.life' } }, subject: 'data.user.id' },
    );
    expect(t).toMatchObject({ accessToken: 'at', expiresAt: NOW + 60, subject: '42' });
    expect(t.refreshToken).toBeUndefined();
    expect(t.refreshExpiresAt).toBeUndefined();
    expect(selectField({ a: {} }, 'a.__proto__')).toBeUndefined();
    expect(selectField({ a: {} }, 'a.constructor')).toBeUndefined();
  });

  it('reads scopes as a string (with the delimiter) or an array', () => {
    expect(map({ access_token: 'a', scope: 'x,y,,z' }, {}, { scopeDelimiter: ',' }).scopes).toEqual([
      'x',
      'y',
      'z',
    ]);
    expect(map({ access_token: 'a', scope: ['x', 1, 'y'] }).scopes).toEqual(['x', 'y']);
    expect(map({ access_token: 'a' }).scopes).toBeUndefined();
  });

  it('uses the default token type when none is named', () => {
    expect(map({ access_token: 'a' }).tokenType).toBe('Bearer');
    expect(map({ access_token: 'a', token_type: '' }, { defaultTokenType: 'Token' }).tokenType).toBe('Token');
  });

  it.each([
    [null, /not a JSON object/],
    [[{ access_token: 'a' }], /not a JSON object/],
    [{}, /no access token/],
    [{ access_token: '' }, /no access token/],
    [{ access_token: { v: 'SECRET-AT' } }, /access token \(access_token\) is not a string/],
    [{ access_token: 'SECRET-AT', refresh_token: ['x'] }, /refresh token/],
  ])('refuses %j', (body, message) => {
    const e = thrown(() => map(body));
    expect(e).toBeInstanceOf(MalformedResponseError);
    expect((e as Error).message).toMatch(message);
    expect(errorText(e)).not.toContain('SECRET-AT');
  });
});

describe('helpers', () => {
  it.each([
    ['bearer', 'Bearer'],
    ['BearerToken', 'Bearer'],
    ['Bearer_token', 'Bearer'],
    ['BEARER', 'Bearer'],
    ['basic', 'Basic'],
    ['DPoP', 'DPoP'],
    ['MAC', 'MAC'],
  ])('normaliseTokenType(%s) = %s', (input, expected) => {
    expect(normaliseTokenType(input)).toBe(expected);
  });

  it('toNumber', () => {
    expect(toNumber(5)).toBe(5);
    expect(toNumber('17')).toBe(17);
    expect(toNumber('1e3')).toBeUndefined();
    expect(toNumber('9'.repeat(400))).toBeUndefined();
    expect(toNumber(Number.NaN)).toBeUndefined();
    expect(toNumber(null)).toBeUndefined();
  });

  it('jwtExpiry only reads JWT-shaped tokens', async () => {
    expect(jwtExpiry(await jwtWithExp(NOW + 5))).toBe(NOW + 5);
    expect(jwtExpiry('opaque')).toBeUndefined();
    expect(jwtExpiry('a.b.c')).toBeUndefined();
    const huge = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"exp":1e300}').toString('base64url')}.`;
    expect(jwtExpiry(huge)).toBeUndefined();
  });
});
