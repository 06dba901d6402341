import { buildAuthorizationUrl, createPkce } from '../../../functions/core/oauth/authorize.js';
import { buildRevokeRequest } from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { builtin, confidentialClient, formOf, NOW, REDIRECT_URI, reply, tok } from './support.js';

describe('hubspot template', () => {
  it('installs at app.hubspot.com and redeems at the v3 token endpoint with body credentials', async () => {
    const p = await builtin('hubspot');
    const client = confidentialClient();
    const pkce = await createPkce();
    const url = buildAuthorizationUrl(p, {
      client,
      redirectUri: REDIRECT_URI,
      state: 's',
      pkce,
      scopes: ['oauth', 'crm.objects.contacts.read'],
    });
    expect(url.origin + url.pathname).toBe('https://app.hubspot.com/oauth/authorize');
    expect(url.searchParams.get('scope')).toBe('oauth crm.objects.contacts.read');
    const code = tok('code');
    const ac = buildTokenRequest(
      p,
      { grant: 'authorization_code', code, redirectUri: REDIRECT_URI, codeVerifier: pkce.verifier },
      client,
    );
    expect(ac.url).toBe('https://api.hubapi.com/oauth/v3/token');
    expect(ac.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(formOf(ac)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: pkce.verifier,
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
    const refreshToken = tok('rt');
    const rf = buildTokenRequest(p, { grant: 'refresh_token', refreshToken }, client);
    // v3 takes everything in the body; nothing sensitive may ride in the URL.
    expect(new URL(rf.url).search).toBe('');
    expect(formOf(rf)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
  });

  it('reads the scopes array and user_id of the v3 answer', async () => {
    const p = await builtin('hubspot');
    const rt = tok('rt');
    const tokens = processTokenResponse(
      p,
      reply({
        token_use: 'access_token',
        token_type: 'bearer',
        access_token: tok('at'),
        refresh_token: rt,
        expires_in: 1800,
        hub_id: 62515,
        user_id: 123456,
        scopes: ['oauth', 'crm.objects.contacts.read'],
      }),
      NOW,
    );
    expect(tokens).toMatchObject({
      tokenType: 'Bearer',
      expiresAt: NOW + 1800,
      refreshToken: rt,
      subject: '123456',
      scopes: ['oauth', 'crm.objects.contacts.read'],
    });
    expect(tokens.metadata).toEqual({ hub_id: '62515' });
    expect(p.apiBaseUrl).toBe('https://api.hubapi.com');
    expect(buildRevokeRequest(p, tokens, confidentialClient())).toBeUndefined();
  });
});
