import { ConfigError, MalformedResponseError } from '../../../functions/core/errors.js';
import { buildAuthorizationUrl, createPkce } from '../../../functions/core/oauth/authorize.js';
import {
  authorizationFor,
  buildRevokeRequest,
  buildUserinfoRequest,
} from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { apiBaseUrlFor } from '../../../functions/core/provider/resolve.js';
import {
  basicFor,
  builtin,
  confidentialClient,
  formOf,
  NOW,
  queryOf,
  REDIRECT_URI,
  reply,
  tok,
} from './support.js';

describe('zoom template', () => {
  it('asks for Server-to-Server tokens with account_credentials in the query and Basic auth', async () => {
    const p = await builtin('zoom', { accountId: 'AbCdEf123_-xyz' });
    const client = confidentialClient();
    const req = buildTokenRequest(p, { grant: 'client_credentials' }, client);
    expect(req.method).toBe('POST');
    expect(req.url.split('?')[0]).toBe('https://zoom.us/oauth/token');
    expect(queryOf(req)).toEqual({ grant_type: 'account_credentials', account_id: 'AbCdEf123_-xyz' });
    expect(req.body).toBeUndefined();
    expect(req.headers.authorization).toBe(basicFor(client));
    const at = tok('at');
    const tokens = processTokenResponse(
      p,
      reply({
        access_token: at,
        token_type: 'bearer',
        expires_in: 3599,
        scope: 'phone:read:admin',
        api_url: 'https://api.zoom.us',
      }),
      NOW,
    );
    expect(tokens).toMatchObject({
      accessToken: at,
      tokenType: 'Bearer',
      expiresAt: NOW + 3599,
      refreshToken: undefined,
    });
    expect(p.template.grants.client_credentials?.refreshable).toBe(false);
  });

  it('refuses a Server-to-Server request from an integration without accountId', async () => {
    const p = await builtin('zoom');
    expect(() => buildTokenRequest(p, { grant: 'client_credentials' }, confidentialClient())).toThrow(
      ConfigError,
    );
  });

  it('runs the user OAuth code grant with PKCE and a rotating refresh token', async () => {
    const p = await builtin('zoom');
    const client = confidentialClient();
    const pkce = await createPkce();
    const url = buildAuthorizationUrl(p, { client, redirectUri: REDIRECT_URI, state: 's', pkce });
    expect(url.origin + url.pathname).toBe('https://zoom.us/oauth/authorize');
    expect(url.searchParams.get('code_challenge')).toBe(pkce.challenge);
    const code = tok('code');
    const ac = buildTokenRequest(
      p,
      { grant: 'authorization_code', code, redirectUri: REDIRECT_URI, codeVerifier: pkce.verifier },
      client,
    );
    expect(ac.url).toBe('https://zoom.us/oauth/token');
    expect(ac.headers.authorization).toBe(basicFor(client));
    expect(formOf(ac)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: pkce.verifier,
    });
    const refreshToken = tok('rt');
    expect(formOf(buildTokenRequest(p, { grant: 'refresh_token', refreshToken }, client))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    });
    const rt = tok('rt');
    const tokens = processTokenResponse(
      p,
      reply({
        access_token: tok('at'),
        token_type: 'bearer',
        refresh_token: rt,
        expires_in: 3599,
        scope: 'user:read:user',
      }),
      NOW,
    );
    expect(tokens).toMatchObject({ refreshToken: rt, expiresAt: NOW + 3599, scopes: ['user:read:user'] });
    expect(p.template.refresh.rotates).toBe(true);
  });

  it('uses Bearer, asks /v2/users/me for the id and revokes the access token with Basic auth', async () => {
    const p = await builtin('zoom');
    const client = confidentialClient();
    const tokens = { accessToken: tok('at'), refreshToken: tok('rt'), tokenType: 'Bearer', issuedAt: NOW };
    expect(authorizationFor(p, tokens)).toEqual({
      header: 'Authorization',
      value: `Bearer ${tokens.accessToken}`,
    });
    expect(buildUserinfoRequest(p, tokens).url).toBe('https://api.zoom.us/v2/users/me');
    const revoke = buildRevokeRequest(p, tokens, client);
    expect(revoke).toMatchObject({
      url: 'https://zoom.us/oauth/revoke',
      headers: { authorization: basicFor(client) },
    });
    expect(formOf(revoke ?? {})).toEqual({ token: tokens.accessToken, token_type_hint: 'access_token' });
  });

  it('keeps the api_url of the token answer and vends <api_url>/v2 as the API base (Zoom regional clusters)', async () => {
    const p = await builtin('zoom', { accountId: 'AbCdEf123_-xyz' });
    // Zoom's changelog "Regional cluster API URL returned in access token response": api.zoom.us (global),
    // eu01api.zoom.us, sg01api.zoom.us, sa01api.zoom.us.
    for (const apiUrl of ['https://api.zoom.us', 'https://eu01api.zoom.us', 'https://sg01api.zoom.us']) {
      const tokens = processTokenResponse(
        p,
        reply({
          access_token: tok('at'),
          token_type: 'bearer',
          refresh_token: tok('rt'),
          expires_in: 3599,
          scope: 'user:read:admin',
          api_url: apiUrl,
        }),
        NOW,
      );
      expect(tokens.metadata).toEqual({ api_url: apiUrl });
      expect(apiBaseUrlFor(p, tokens.metadata)).toBe(`${apiUrl}/v2`);
    }
    // Without api_url there is no base to vend (the caller may still use https://api.zoom.us/v2).
    const bare = processTokenResponse(
      p,
      reply({ access_token: tok('at'), token_type: 'bearer', expires_in: 3599 }),
      NOW,
    );
    expect(bare.metadata).toBeUndefined();
    expect(p.apiBaseUrl).toBeUndefined();
    expect(apiBaseUrlFor(p, bare.metadata)).toBeUndefined();
    // An api_url outside zoom.us would send the token elsewhere: the answer is refused.
    for (const evil of [
      'https://api.zoom.us.evil.example',
      'http://api.zoom.us',
      'https://evil.example/api.zoom.us',
    ]) {
      expect(() =>
        processTokenResponse(
          p,
          reply({ access_token: tok('at'), token_type: 'bearer', expires_in: 3599, api_url: evil }),
          NOW,
        ),
      ).toThrow(MalformedResponseError);
    }
  });
});
