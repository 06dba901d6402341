import { ConfigError } from '../../../../functions/core/errors.js';
import {
  authorizationFor,
  buildRevokeRequest,
  buildUserinfoRequest,
  staticTokenSet,
} from '../../../../functions/core/oauth/engine.js';
import { baseTemplate, errorText, provider, thrown } from '../fixtures.js';

const tokens = { accessToken: 'at-1', tokenType: 'Bearer' };
const client = { client_id: 'cid', client_secret: 'sec:+' };

describe('authorizationFor', () => {
  it('defaults to `Authorization: <type> <token>`', () => {
    expect(authorizationFor(provider(), tokens)).toEqual({ header: 'Authorization', value: 'Bearer at-1' });
  });

  it('uses a custom header with variables', () => {
    const p = provider({ usage: { in: 'header', name: 'X-Auth', value: 'Token ${access_token}@${region}' } });
    expect(authorizationFor(p, tokens)).toEqual({ header: 'X-Auth', value: 'Token at-1@eu.acme.com' });
  });

  it('uses a query parameter', () => {
    const p = provider({ usage: { in: 'query', name: 'access_token' } });
    expect(authorizationFor(p, tokens)).toEqual({ query: 'access_token', value: 'at-1' });
  });

  it('uses Basic with the token as username, UTF-8 encoded', () => {
    const p = provider({ usage: { in: 'basic', username: '${access_token}', password: 'ü' } });
    const a = authorizationFor(p, tokens) as { header: string; value: string };
    expect(a.header).toBe('Authorization');
    expect(Buffer.from(a.value.replace(/^Basic /, ''), 'base64').toString('utf8')).toBe('at-1:ü');
  });

  it('a usage variable without value is a ConfigError', () => {
    const p = provider({
      variables: { ...baseTemplate.variables, x: { description: 'x' } },
      usage: { in: 'header', value: '${x} ${access_token}' },
    });
    const e = thrown(() => authorizationFor(p, tokens));
    expect(e).toBeInstanceOf(ConfigError);
    expect(errorText(e)).not.toContain('at-1');
  });
});

describe('staticTokenSet', () => {
  const p = provider({
    variables: { ...baseTemplate.variables, realm: { description: 'r', default: 'ops' } },
    grants: { static: { username: '${secret.user}@${realm}', password: '${secret.pass}' } },
  });

  it('builds a never-expiring Basic token set from secrets and variables (UTF-8)', () => {
    const t = staticTokenSet(p, { user: 'agent', pass: 'pässwörd' }, 100);
    expect(t).toEqual({ accessToken: expect.any(String), tokenType: 'Basic', issuedAt: 100 });
    expect(Buffer.from(t.accessToken, 'base64').toString('utf8')).toBe('agent@ops:pässwörd');
    expect(t.expiresAt).toBeUndefined();
    expect(authorizationFor(p, t)).toEqual({ header: 'Authorization', value: `Basic ${t.accessToken}` });
  });

  it('a missing secret is a ConfigError naming the key, not the values', () => {
    const e = thrown(() => staticTokenSet(p, { user: 'agent-xyz' }, 100));
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toMatch(/secret\.pass/);
    expect(errorText(e)).not.toContain('agent-xyz');
  });

  it('refuses a provider without a static grant', () => {
    expect(thrown(() => staticTokenSet(provider(), {}, 1))).toBeInstanceOf(ConfigError);
  });
});

describe('buildRevokeRequest', () => {
  const set = { ...tokens, refreshToken: 'rt-1', issuedAt: 1 };

  it('RFC 7009: form post of the refresh token with Basic client auth', () => {
    const p = provider({
      endpoints: { ...baseTemplate.endpoints, revoke: { url: 'https://login.${region}/revoke' } },
    });
    const r = buildRevokeRequest(p, set, client);
    expect(r).toMatchObject({ method: 'POST', url: 'https://login.eu.acme.com/revoke' });
    expect(r?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(r?.headers.authorization).toBe(`Basic ${Buffer.from('cid:sec%3A%2B').toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(r?.body))).toEqual({
      token: 'rt-1',
      token_type_hint: 'refresh_token',
    });
  });

  it('falls back to the access token, body auth, and none for public clients', () => {
    const p = provider({
      endpoints: {
        ...baseTemplate.endpoints,
        revoke: { url: 'https://login.${region}/revoke', clientAuth: 'body' },
      },
    });
    expect(
      Object.fromEntries(
        new URLSearchParams(buildRevokeRequest(p, { ...tokens, issuedAt: 1 }, client)?.body),
      ),
    ).toEqual({
      token: 'at-1',
      token_type_hint: 'access_token',
      client_id: 'cid',
      client_secret: 'sec:+',
    });
    expect(
      Object.fromEntries(new URLSearchParams(buildRevokeRequest(p, set, { client_id: 'pub' })?.body)),
    ).toEqual({
      token: 'rt-1',
      token_type_hint: 'refresh_token',
      client_id: 'pub',
    });
  });

  it('revokes the access token when told to', () => {
    const p = provider({
      endpoints: {
        ...baseTemplate.endpoints,
        revoke: { url: 'https://login.${region}/revoke', token: 'access_token' },
      },
    });
    expect(new URLSearchParams(buildRevokeRequest(p, set, client)?.body).get('token')).toBe('at-1');
  });

  it('bearer: a DELETE authenticated by the access token itself', () => {
    const p = provider({
      endpoints: {
        ...baseTemplate.endpoints,
        revoke: { url: 'https://api.${region}/tokens/me', method: 'DELETE', auth: 'bearer' },
      },
    });
    expect(buildRevokeRequest(p, set, client)).toEqual({
      method: 'DELETE',
      url: 'https://api.eu.acme.com/tokens/me',
      headers: { accept: 'application/json', authorization: 'Bearer at-1' },
    });
  });

  it('is undefined without a revoke endpoint', () => {
    expect(buildRevokeRequest(provider(), set, client)).toBeUndefined();
  });
});

describe('buildUserinfoRequest', () => {
  it('GETs the userinfo URL with the token usage applied', () => {
    const p = provider({
      endpoints: {
        ...baseTemplate.endpoints,
        userinfo: { url: 'https://api.${region}/me?x=1', subject: 'id' },
      },
    });
    expect(buildUserinfoRequest(p, tokens)).toEqual({
      method: 'GET',
      url: 'https://api.eu.acme.com/me?x=1',
      headers: { accept: 'application/json', authorization: 'Bearer at-1' },
    });
    const q = provider({
      endpoints: { ...baseTemplate.endpoints, userinfo: { url: 'https://api.${region}/me', subject: 'id' } },
      usage: { in: 'query', name: 'token' },
    });
    expect(buildUserinfoRequest(q, tokens).url).toBe('https://api.eu.acme.com/me?token=at-1');
  });

  it('refuses a provider without userinfo', () => {
    expect(thrown(() => buildUserinfoRequest(provider(), tokens))).toBeInstanceOf(ConfigError);
  });
});
