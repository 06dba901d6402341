import { TemplateError } from '../../../functions/core/errors.js';
import { buildAuthorizationUrl, createPkce, usesPkce } from '../../../functions/core/oauth/authorize.js';
import { authorizationFor, buildRevokeRequest } from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { refreshTokenLapsesAt } from '../../../functions/core/refresh-policy.js';
import {
  basicFor,
  builtin,
  confidentialClient,
  formOf,
  NOW,
  publicClient,
  REDIRECT_URI,
  reply,
  tok,
} from './support.js';

const ttl = { access_token_ttl: '3600', refresh_token_ttl: '604800' };

describe('ringcentral template', () => {
  it('resolves the public or the segregated platform and checks the TTL variables', async () => {
    expect((await builtin('ringcentral')).endpoints).toMatchObject({
      authorize: 'https://platform.ringcentral.com/restapi/oauth/authorize',
      token: 'https://platform.ringcentral.com/restapi/oauth/token',
      revoke: 'https://platform.ringcentral.com/restapi/oauth/revoke',
    });
    const biz = await builtin('ringcentral', { host: 'platform.ringcentral.biz' });
    expect(biz.endpoints.token).toBe('https://platform.ringcentral.biz/restapi/oauth/token');
    // The developer sandbox ("Developing and testing your app in sandbox", developers.ringcentral.com).
    const sandbox = await builtin('ringcentral', { host: 'platform.devtest.ringcentral.com' });
    expect(sandbox.endpoints).toMatchObject({
      authorize: 'https://platform.devtest.ringcentral.com/restapi/oauth/authorize',
      token: 'https://platform.devtest.ringcentral.com/restapi/oauth/token',
      revoke: 'https://platform.devtest.ringcentral.com/restapi/oauth/revoke',
      userinfo: 'https://platform.devtest.ringcentral.com/restapi/v1.0/account/~/extension/~',
    });
    await expect(
      builtin('ringcentral', { host: 'platform.devtest.ringcentral.com.evil.example' }),
    ).rejects.toThrow(TemplateError);
    await builtin('ringcentral', { accessTokenTtl: 600, refreshTokenTtl: 2592000 });
    await expect(builtin('ringcentral', { accessTokenTtl: 599 })).rejects.toThrow(TemplateError);
    await expect(builtin('ringcentral', { accessTokenTtl: 3601 })).rejects.toThrow(TemplateError);
    await expect(builtin('ringcentral', { refreshTokenTtl: 2592001 })).rejects.toThrow(TemplateError);
  });

  it('adds brandId to the authorization URL only when set, and PKCE for every client', async () => {
    const client = confidentialClient();
    const plain = buildAuthorizationUrl(await builtin('ringcentral'), {
      client,
      redirectUri: REDIRECT_URI,
      state: 's',
      pkce: await createPkce(),
    });
    expect(plain.searchParams.has('brandId')).toBe(false);
    const pkce = await createPkce();
    const branded = buildAuthorizationUrl(await builtin('ringcentral', { brandId: '1210' }), {
      client: publicClient(),
      redirectUri: REDIRECT_URI,
      state: 's',
      pkce,
    });
    expect(branded.origin + branded.pathname).toBe(
      'https://platform.ringcentral.com/restapi/oauth/authorize',
    );
    expect(branded.searchParams.get('brandId')).toBe('1210');
    expect(branded.searchParams.get('code_challenge')).toBe(pkce.challenge);
    expect(usesPkce(await builtin('ringcentral'), client)).toBe(true);
  });

  it('sends every grant with Basic auth and the TTL parameters', async () => {
    const p = await builtin('ringcentral');
    const client = confidentialClient();
    const url = 'https://platform.ringcentral.com/restapi/oauth/token';
    const code = tok('code');
    const ac = buildTokenRequest(p, { grant: 'authorization_code', code, redirectUri: REDIRECT_URI }, client);
    expect(ac.url).toBe(url);
    expect(ac.headers.authorization).toBe(basicFor(client));
    expect(formOf(ac)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      ...ttl,
    });

    // The JWT credential comes from the integration's secret (field jwt_assertion), never from the caller.
    const assertion = tok('jwt');
    const jb = buildTokenRequest(
      p,
      { grant: 'jwt_bearer', assertion: tok('ignored') },
      { ...client, jwt_assertion: assertion },
    );
    expect(jb.headers.authorization).toBe(basicFor(client));
    expect(formOf(jb)).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion,
      ...ttl,
    });

    const password = `${tok('pw')}&x=1`;
    const pw = buildTokenRequest(p, { grant: 'password', username: '+16505550100', password }, client);
    expect(formOf(pw)).toEqual({ grant_type: 'password', username: '+16505550100', password, ...ttl });

    const refreshToken = tok('rt');
    const short = await builtin('ringcentral', { accessTokenTtl: 900 });
    const rt = buildTokenRequest(short, { grant: 'refresh_token', refreshToken }, client);
    expect(rt.headers.authorization).toBe(basicFor(client));
    expect(formOf(rt)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      ...ttl,
      access_token_ttl: '900',
    });
  });

  it('redeems a PKCE code without Basic, with client_id and code_verifier', async () => {
    const p = await builtin('ringcentral');
    const client = publicClient();
    const verifier = tok('verifier');
    const req = buildTokenRequest(
      p,
      { grant: 'authorization_code', code: 'c', redirectUri: REDIRECT_URI, codeVerifier: verifier },
      client,
    );
    expect(req.headers.authorization).toBeUndefined();
    expect(formOf(req)).toMatchObject({ client_id: client.client_id, code_verifier: verifier });
  });

  it('maps refresh_token_expires_in and owner_id, and lapses an idle refresh token after 7 days', async () => {
    const p = await builtin('ringcentral');
    const at = tok('at');
    const rt = tok('rt');
    const tokens = processTokenResponse(
      p,
      reply({
        access_token: at,
        token_type: 'bearer',
        expires_in: 3600,
        refresh_token: rt,
        refresh_token_expires_in: 604799,
        scope: 'ReadAccounts CallControl',
        owner_id: '2681364004',
        endpoint_id: 'p7GZlEVHRwKpKU5dXjEm2g',
      }),
      NOW,
    );
    expect(tokens).toMatchObject({
      accessToken: at,
      tokenType: 'Bearer',
      expiresAt: NOW + 3600,
      refreshToken: rt,
      refreshExpiresAt: NOW + 604799,
      subject: '2681364004',
      scopes: ['ReadAccounts', 'CallControl'],
    });
    expect(p.template.refresh).toMatchObject({
      rotates: true,
      reuseGraceSeconds: 10,
      refreshTokenIdleSeconds: 604800,
    });
    expect(refreshTokenLapsesAt(p.template.refresh, tokens)).toBe(NOW + 604799);
  });

  it('uses Bearer and revokes with a Basic-authenticated form post', async () => {
    const p = await builtin('ringcentral');
    const client = confidentialClient();
    const tokens = { accessToken: tok('at'), refreshToken: tok('rt'), tokenType: 'Bearer', issuedAt: NOW };
    expect(authorizationFor(p, tokens)).toEqual({
      header: 'Authorization',
      value: `Bearer ${tokens.accessToken}`,
    });
    const revoke = buildRevokeRequest(p, tokens, client);
    expect(revoke).toMatchObject({
      method: 'POST',
      url: 'https://platform.ringcentral.com/restapi/oauth/revoke',
      headers: { authorization: basicFor(client) },
    });
    expect(formOf(revoke ?? {})).toEqual({ token: tokens.refreshToken, token_type_hint: 'refresh_token' });
  });

  it('vends the REST API base of the platform host: https://<host>/restapi/v1.0', async () => {
    expect((await builtin('ringcentral')).apiBaseUrl).toBe('https://platform.ringcentral.com/restapi/v1.0');
    expect((await builtin('ringcentral', { host: 'platform.devtest.ringcentral.com' })).apiBaseUrl).toBe(
      'https://platform.devtest.ringcentral.com/restapi/v1.0',
    );
  });
});
