import { createHash } from 'node:crypto';
import {
  AuthorizationResponseError,
  ConfigError,
  InvalidRequestError,
  TokenvendError,
} from '../../../../functions/core/errors.js';
import {
  buildAuthorizationUrl,
  createPkce,
  createState,
  usesPkce,
  validateAuthorizationResponse,
} from '../../../../functions/core/oauth/authorize.js';
import { baseTemplate, errorText, provider, thrown } from '../fixtures.js';

const confidential = { client_id: 'cid', client_secret: 'sec' };
const publicClient = { client_id: 'pub' };
const CODE = 'c0de-VALUE-9f8e7d';

describe('createPkce / createState', () => {
  it('makes an S256 pair: challenge = base64url(sha256(verifier))', async () => {
    const pkce = await createPkce();
    expect(pkce.method).toBe('S256');
    expect(pkce.verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(pkce.challenge).toBe(createHash('sha256').update(pkce.verifier).digest('base64url'));
    expect(pkce.challenge).not.toContain('=');
    expect((await createPkce()).verifier).not.toBe(pkce.verifier);
  });

  it('makes distinct unguessable states', () => {
    const a = createState();
    expect(a.length).toBeGreaterThanOrEqual(32);
    expect(createState()).not.toBe(a);
  });
});

describe('buildAuthorizationUrl', () => {
  it('builds the URL with state, redirect, default scopes and delimiter', () => {
    const p = provider({ authorize: { defaultScopes: ['openid', 'calls:read'], scopeDelimiter: ',' } });
    const url = buildAuthorizationUrl(p, {
      client: confidential,
      redirectUri: 'https://tv.example/cb',
      state: 'st',
    });
    expect(url.origin + url.pathname).toBe('https://login.eu.acme.com/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'cid',
      redirect_uri: 'https://tv.example/cb',
      state: 'st',
      scope: 'openid,calls:read',
    });
  });

  it('uses explicit scopes over defaults and leaves scope out when empty', () => {
    const p = provider({ authorize: { defaultScopes: ['openid'] } });
    const input = { client: confidential, redirectUri: 'https://tv.example/cb', state: 's' };
    expect(buildAuthorizationUrl(p, { ...input, scopes: ['a', 'b'] }).searchParams.get('scope')).toBe('a b');
    expect(buildAuthorizationUrl(p, { ...input, scopes: [] }).searchParams.has('scope')).toBe(false);
  });

  it('adds directives over variables and client_id, dropping empty and unset ones', () => {
    const p = provider(
      {
        variables: {
          ...baseTemplate.variables,
          org: { description: 'org', pattern: '[a-z]*', default: '' },
          idp: { description: 'idp', pattern: '[a-z]+' },
          brand: { description: 'brand', default: '1210' },
        },
        authorize: {
          params: { org: '${org}', provider: '${idp}', brandId: '${brand}', hint: 'c-${client_id}' },
        },
      },
      {},
    );
    const url = buildAuthorizationUrl(p, {
      client: confidential,
      redirectUri: 'https://tv.example/cb',
      state: 's',
    });
    expect(url.searchParams.get('brandId')).toBe('1210');
    expect(url.searchParams.get('hint')).toBe('c-cid');
    expect(url.searchParams.has('org')).toBe(false);
    expect(url.searchParams.has('provider')).toBe(false);
    const withOrg = provider(
      {
        variables: { ...baseTemplate.variables, org: { description: 'o', default: '' } },
        authorize: { params: { org: '${org}' } },
      },
      { org: 'acme' },
    );
    expect(
      buildAuthorizationUrl(withOrg, {
        client: confidential,
        redirectUri: 'https://x/cb',
        state: 's',
      }).searchParams.get('org'),
    ).toBe('acme');
  });

  it('adds the PKCE challenge when PKCE is always on', async () => {
    const p = provider({ grants: { authorization_code: { pkce: {} } } });
    const pkce = await createPkce();
    const url = buildAuthorizationUrl(p, {
      client: confidential,
      redirectUri: 'https://x/cb',
      state: 's',
      pkce,
    });
    expect(url.searchParams.get('code_challenge')).toBe(
      createHash('sha256').update(pkce.verifier).digest('base64url'),
    );
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(
      thrown(() =>
        buildAuthorizationUrl(p, { client: confidential, redirectUri: 'https://x/cb', state: 's' }),
      ),
    ).toBeInstanceOf(ConfigError);
  });

  it('uses PKCE only for public clients when `when: public-client`', async () => {
    const p = provider({ grants: { authorization_code: { pkce: { when: 'public-client' } } } });
    expect(usesPkce(p, publicClient)).toBe(true);
    expect(usesPkce(p, confidential)).toBe(false);
    const pkce = await createPkce();
    const input = { redirectUri: 'https://x/cb', state: 's', pkce };
    expect(
      buildAuthorizationUrl(p, { ...input, client: confidential }).searchParams.has('code_challenge'),
    ).toBe(false);
    expect(
      buildAuthorizationUrl(p, { ...input, client: publicClient }).searchParams.get('code_challenge'),
    ).toBe(pkce.challenge);
    expect(usesPkce(provider(), publicClient)).toBe(false);
  });

  it('refuses a provider without authorization_code', () => {
    const p = provider({ grants: { client_credentials: {} } });
    expect(
      thrown(() =>
        buildAuthorizationUrl(p, { client: confidential, redirectUri: 'https://x/cb', state: 's' }),
      ),
    ).toBeInstanceOf(ConfigError);
  });
});

describe('validateAuthorizationResponse', () => {
  const plain = provider();
  const withIss = provider({ authorize: { issuer: 'https://login.${region}', issParameterSupported: true } });
  const issDeclaredOnly = provider({ authorize: { issuer: 'https://login.${region}' } });
  const q = (s: string) => new URLSearchParams(s);

  function refused(p: typeof plain, query: string, state = 'st'): TokenvendError {
    const e = thrown(() => validateAuthorizationResponse(p, q(query), state));
    expect(e).toBeInstanceOf(TokenvendError);
    // The code value never travels with an error, in the message or anywhere in the cause chain.
    expect(errorText(e)).not.toContain(CODE);
    return e as TokenvendError;
  }

  it('returns the code when state matches', () => {
    expect(validateAuthorizationResponse(plain, q(`code=${CODE}&state=st`), 'st')).toEqual({ code: CODE });
  });

  it.each([
    [`code=${CODE}&state=other`, /unexpected "state"/],
    [`code=${CODE}`, /"state" missing/],
  ])('refuses %s', (query, message) => {
    const e = refused(plain, query);
    expect(e).toBeInstanceOf(AuthorizationResponseError);
    expect(e.status).toBe(400);
    expect(e.message).toMatch(message);
  });

  it('checks iss when declared and supported (RFC 9207)', () => {
    expect(
      validateAuthorizationResponse(withIss, q(`code=${CODE}&state=st&iss=https://login.eu.acme.com`), 'st')
        .code,
    ).toBe(CODE);
    expect(refused(withIss, `code=${CODE}&state=st&iss=https://evil.example`).message).toMatch(/iss/);
    expect(refused(withIss, `code=${CODE}&state=st`).message).toMatch(/"iss" \(issuer\) missing/);
  });

  it('checks a present iss when declared, accepts its absence when not supported', () => {
    expect(validateAuthorizationResponse(issDeclaredOnly, q(`code=${CODE}&state=st`), 'st').code).toBe(CODE);
    expect(refused(issDeclaredOnly, `code=${CODE}&state=st&iss=https://evil.example`)).toBeInstanceOf(
      AuthorizationResponseError,
    );
  });

  it('ignores iss when the provider declares no issuer', () => {
    expect(
      validateAuthorizationResponse(plain, q(`code=${CODE}&state=st&iss=https://anything.example`), 'st')
        .code,
    ).toBe(CODE);
  });

  it('turns a vendor error=access_denied into access_denied, without the description (checklist 53)', () => {
    const e = refused(
      plain,
      'error=access_denied&error_description=User+said+no&state=st',
    ) as AuthorizationResponseError;
    expect(e).toBeInstanceOf(AuthorizationResponseError);
    expect(e.error).toBe('access_denied');
    expect(e.vendorError).toBe('access_denied');
    expect(e.message).toBe('the vendor answered the authorization request with access_denied');
    expect(JSON.stringify(e)).not.toContain('User said no');
    const other = refused(plain, 'error=server_error&state=st') as AuthorizationResponseError;
    expect(other.error).toBe('invalid_request');
    expect(other.vendorError).toBe('server_error');
  });

  it('keeps only a short code from the query string: long or free-text errors become unrecognised_error', () => {
    const long = refused(plain, `error=${'e'.repeat(1000)}&error_description=${'d'.repeat(4000)}&state=st`);
    expect((long as AuthorizationResponseError).vendorError).toBe('unrecognised_error');
    expect(long.message).not.toMatch(/eeee|dddd/);
    const echo = refused(plain, 'error=code_verifier%3Dsecret-verifier&state=st');
    expect((echo as AuthorizationResponseError).vendorError).toBe('unrecognised_error');
    expect(echo.message).not.toContain('secret-verifier');
  });

  it('refuses an error response carrying a code without leaking it', () => {
    const e = refused(plain, `error=access_denied&state=st&code=${CODE}`);
    expect(e.error).toBe('access_denied');
  });

  it('refuses duplicated parameters', () => {
    for (const query of [`code=${CODE}&code=${CODE}2&state=st`, `code=${CODE}&state=st&state=st`]) {
      const e = refused(plain, query);
      expect(e).toBeInstanceOf(InvalidRequestError);
      expect(e.message).toMatch(/appears more than once/);
    }
  });

  it('refuses oversize values and names (8 KB) with a short message', () => {
    const big = 'x'.repeat(8192);
    expect(refused(plain, `code=${CODE}&state=st&foo=${big}`)).toBeInstanceOf(InvalidRequestError);
    const e = refused(plain, `code=${CODE}&state=st&${big}=1`);
    expect(e).toBeInstanceOf(InvalidRequestError);
    expect(e.message.length).toBeLessThan(200);
  });

  it('reads the code under another name (responseCodeParam)', () => {
    const p = provider({ grants: { authorization_code: { responseCodeParam: 'authCode' } } });
    expect(validateAuthorizationResponse(p, q(`authCode=${CODE}&state=st`), 'st')).toEqual({ code: CODE });
    // A `code` parameter is not the code for this provider.
    expect(refused(p, `code=${CODE}&state=st`).message).toMatch(/no authCode parameter/);
  });

  it('refuses a response without code', () => {
    expect(refused(plain, 'state=st').message).toMatch(/no code parameter/);
    expect(refused(plain, 'state=st&code=').message).toMatch(/no code parameter/);
  });

  it('refuses implicit-flow tokens in the response', () => {
    expect(refused(plain, `code=${CODE}&state=st&id_token=x.y.z`)).toBeInstanceOf(TokenvendError);
  });
});
