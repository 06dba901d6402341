import { ConfigError } from '../../../../functions/core/errors.js';
import { buildTokenRequest } from '../../../../functions/core/oauth/token-request.js';
import { baseTemplate, errorText, provider, thrown } from '../fixtures.js';

const client = { client_id: 'cid', client_secret: 'sec:+ret', api_key: 'k-123' };
const publicClient = { client_id: 'pub' };
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret).replace(/%20/g, '+')}`).toString('base64')}`;
const form = (body: string | undefined) => Object.fromEntries(new URLSearchParams(body ?? ''));

describe('buildTokenRequest: authorization_code', () => {
  const input = {
    grant: 'authorization_code',
    code: 'the-code',
    redirectUri: 'https://tv.example/cb',
    codeVerifier: 'v'.repeat(43),
  } as const;

  it('sends the code in the form body with Basic client auth by default', () => {
    const r = buildTokenRequest(provider(), input, client);
    expect(r.method).toBe('POST');
    expect(r.url).toBe('https://login.eu.acme.com/token');
    expect(r.headers).toEqual({
      accept: 'application/json',
      authorization: basic('cid', 'sec:+ret'),
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form(r.body)).toEqual({
      grant_type: 'authorization_code',
      code: 'the-code',
      redirect_uri: 'https://tv.example/cb',
      code_verifier: 'v'.repeat(43),
    });
  });

  it('sends the code in the query under its own name', () => {
    const p = provider({ grants: { authorization_code: { code: { in: 'query', name: 'auth_code' } } } });
    const r = buildTokenRequest(p, input, client);
    expect(new URL(r.url).searchParams.get('auth_code')).toBe('the-code');
    expect(form(r.body)).not.toHaveProperty('auth_code');
    expect(form(r.body)).not.toHaveProperty('code');
  });

  it('sends the code in a templated header with variables and secrets', () => {
    const p = provider({
      grants: {
        authorization_code: {
          code: { in: 'header', name: 'X-Auth-Code', value: 'Code ${code};r=${region};k=${secret.api_key}' },
        },
      },
    });
    const r = buildTokenRequest(p, input, client);
    expect(r.headers['x-auth-code']).toBe('Code the-code;r=eu.acme.com;k=k-123');
    expect(form(r.body)).not.toHaveProperty('code');
  });

  it('uses publicClientAuth (none) for a public client', () => {
    const r = buildTokenRequest(provider(), input, publicClient);
    expect(r.headers.authorization).toBeUndefined();
    expect(form(r.body).client_id).toBe('pub');
  });

  it('omits code_verifier without PKCE', () => {
    const r = buildTokenRequest(provider(), { ...input, codeVerifier: undefined }, client);
    expect(form(r.body)).not.toHaveProperty('code_verifier');
  });
});

describe('buildTokenRequest: other grants', () => {
  it('refresh_token with a custom parameter name, scopes and body client auth', () => {
    const p = provider({
      authorize: { scopeDelimiter: ',' },
      grants: { refresh_token: { refreshTokenParam: 'token', clientAuth: 'body' } },
    });
    const r = buildTokenRequest(
      p,
      { grant: 'refresh_token', refreshToken: 'rt-1', scopes: ['a', 'b'] },
      client,
    );
    expect(form(r.body)).toEqual({
      grant_type: 'refresh_token',
      token: 'rt-1',
      scope: 'a,b',
      client_id: 'cid',
      client_secret: 'sec:+ret',
    });
    expect(r.headers.authorization).toBeUndefined();
  });

  it('client_credentials with paramsIn query: no body, everything but auth in the URL', () => {
    const p = provider(
      {
        variables: { ...baseTemplate.variables, accountId: { description: 'a', pattern: '[a-z0-9]+' } },
        grants: {
          client_credentials: {
            grantType: 'account_credentials',
            paramsIn: 'query',
            params: { account_id: '${accountId}' },
          },
        },
      },
      { accountId: 'acct9' },
    );
    const r = buildTokenRequest(p, { grant: 'client_credentials', scopes: ['x'] }, client);
    expect(r.body).toBeUndefined();
    expect(r.headers['content-type']).toBeUndefined();
    expect(Object.fromEntries(new URL(r.url).searchParams)).toEqual({
      grant_type: 'account_credentials',
      scope: 'x',
      account_id: 'acct9',
    });
    expect(r.url).not.toContain('sec');
    expect(r.headers.authorization).toBe(basic('cid', 'sec:+ret'));
  });

  it('client_credentials with a missing optional variable is a ConfigError naming it', () => {
    const p = provider({
      variables: { ...baseTemplate.variables, accountId: { description: 'a', pattern: '[a-z0-9]+' } },
      grants: { client_credentials: { params: { account_id: '${accountId}' } } },
    });
    const e = thrown(() => buildTokenRequest(p, { grant: 'client_credentials' }, client));
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toMatch(/\$\{accountId\}/);
  });

  it('a missing secret key is a ConfigError that names the key, not any value', () => {
    const p = provider({ grants: { client_credentials: { headers: { 'X-Api-Key': '${secret.nope}' } } } });
    const e = thrown(() => buildTokenRequest(p, { grant: 'client_credentials' }, client));
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toMatch(/secret\.nope/);
    expect(errorText(e)).not.toContain('sec:+ret');
  });

  const assertionXml = '<saml:Assertion ID="_a1">ü?>>></saml:Assertion>';
  const samlResponse = Buffer.from(`<samlp:Response>${assertionXml}</samlp:Response>`).toString('base64');

  it.each([
    ['base64url', Buffer.from(assertionXml, 'utf8').toString('base64url')],
    ['base64', Buffer.from(assertionXml, 'utf8').toString('base64')],
    ['response-base64', samlResponse],
  ] as const)('saml2_bearer with assertionFormat %s', (assertionFormat, expected) => {
    const p = provider({ grants: { saml2_bearer: { assertionFormat, params: { orgName: 'acme' } } } });
    const r = buildTokenRequest(
      p,
      {
        grant: 'saml2_bearer',
        samlResponse: `${samlResponse.slice(0, 10)}\n${samlResponse.slice(10)}`,
        assertionXml,
        scopes: ['s'],
      },
      client,
    );
    const body = form(r.body);
    expect(body.grant_type).toBe('urn:ietf:params:oauth:grant-type:saml2-bearer');
    expect(body.assertion).toBe(expected);
    expect(body.orgName).toBe('acme');
    expect(body.scope).toBe('s');
    if (assertionFormat === 'base64url') expect(body.assertion).toMatch(/^[A-Za-z0-9_-]+$/); // RFC 7522: no padding
  });

  it('saml2_bearer base64url needs the assertion XML', () => {
    const p = provider({ grants: { saml2_bearer: {} } });
    expect(
      thrown(() => buildTokenRequest(p, { grant: 'saml2_bearer', samlResponse }, client)),
    ).toBeInstanceOf(ConfigError);
  });

  it('jwt_bearer with a custom assertion parameter', () => {
    const p = provider({ grants: { jwt_bearer: { assertionParam: 'jwt' } } });
    const r = buildTokenRequest(p, { grant: 'jwt_bearer', assertion: 'a.b.c' }, client);
    expect(form(r.body)).toEqual({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', jwt: 'a.b.c' });
  });

  it('password grant', () => {
    const p = provider({ grants: { password: { clientAuth: 'body' } } });
    const r = buildTokenRequest(p, { grant: 'password', username: 'agent@acme', password: 'p w' }, client);
    expect(form(r.body)).toMatchObject({ grant_type: 'password', username: 'agent@acme', password: 'p w' });
  });

  it('JSON body with templated params and headers over variables, client_id and secrets', () => {
    const p = provider({
      grants: {
        client_credentials: {
          bodyEncoding: 'json',
          params: { tenant: '${region}', audience: 'api-${client_id}' },
          headers: { 'X-Api-Key': '${secret.api_key}', 'X-Region': '${region}' },
        },
      },
    });
    const r = buildTokenRequest(p, { grant: 'client_credentials' }, client);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['x-api-key']).toBe('k-123');
    expect(r.headers['x-region']).toBe('eu.acme.com');
    expect(JSON.parse(r.body as string)).toEqual({
      grant_type: 'client_credentials',
      tenant: 'eu.acme.com',
      audience: 'api-cid',
    });
  });

  it('uses the per-grant endpoint', () => {
    const p = provider({ grants: { client_credentials: { endpoint: 'https://cc.${region}/t' } } });
    expect(buildTokenRequest(p, { grant: 'client_credentials' }, client).url).toBe(
      'https://cc.eu.acme.com/t',
    );
  });

  it('refuses a grant the provider lacks, and a confidential grant without a secret', () => {
    expect(
      thrown(() => buildTokenRequest(provider(), { grant: 'client_credentials' }, client)),
    ).toBeInstanceOf(ConfigError);
    const p = provider({ grants: { client_credentials: {} } });
    expect(thrown(() => buildTokenRequest(p, { grant: 'client_credentials' }, publicClient))).toBeInstanceOf(
      ConfigError,
    );
  });
});
