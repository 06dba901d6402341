import { mergeRefreshed } from '../../../functions/core/lifecycle/schedule.js';
import { buildAuthorizationUrl, usesPkce } from '../../../functions/core/oauth/authorize.js';
import { authorizationFor, buildRevokeRequest } from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { basicFor, builtin, confidentialClient, formOf, NOW, REDIRECT_URI, reply, tok } from './support.js';

/** Vendor-shaped answer: the documented sample (UUID-like tokens, scope "default", a day-long access token). */
const answer = () => ({
  access_token: tok('at'),
  refresh_token: tok('rt'),
  scope: 'default',
  token_type: 'Bearer',
  expires_in: 86400,
});

describe('vonage template', () => {
  it('sends users to api.vonage.com/authorize with the openid scope and no PKCE', async () => {
    const p = await builtin('vonage');
    const client = confidentialClient();
    const url = buildAuthorizationUrl(p, { client, redirectUri: REDIRECT_URI, state: 's' });
    expect(`${url.origin}${url.pathname}`).toBe('https://api.vonage.com/authorize');
    expect(url.searchParams.get('scope')).toBe('openid');
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('client_id')).toBe(client.client_id);
    expect(usesPkce(p, client)).toBe(false);
    expect(p.apiBaseUrl).toBe('https://api.vonage.com/t/vbc.prod');
  });

  it('redeems and refreshes at api.vonage.com/token with the consumer key and secret as Basic', async () => {
    const p = await builtin('vonage');
    const client = confidentialClient();
    const code = tok('code');
    const ac = buildTokenRequest(p, { grant: 'authorization_code', code, redirectUri: REDIRECT_URI }, client);
    expect(ac.url).toBe('https://api.vonage.com/token');
    expect(ac.headers.authorization).toBe(basicFor(client));
    expect(formOf(ac)).toEqual({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
    const refreshToken = tok('rt');
    const rt = buildTokenRequest(p, { grant: 'refresh_token', refreshToken }, client);
    expect(rt.headers.authorization).toBe(basicFor(client));
    expect(formOf(rt)).toEqual({ grant_type: 'refresh_token', refresh_token: refreshToken });
  });

  it('sends a service user with @vbc.prod and the client credentials in the body for the password grant', async () => {
    const p = await builtin('vonage');
    const client = confidentialClient();
    const password = `${tok('pw')}&=`;
    const pw = buildTokenRequest(
      p,
      { grant: 'password', username: 'firstname.lastname@vbc.prod', password },
      client,
    );
    expect(pw.headers.authorization).toBeUndefined();
    expect(formOf(pw)).toEqual({
      grant_type: 'password',
      username: 'firstname.lastname@vbc.prod',
      password,
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
  });

  it('maps the day-long token and a 7-day refresh token that every refresh replaces', async () => {
    const p = await builtin('vonage');
    const first = answer();
    const tokens = processTokenResponse(p, reply(first), NOW);
    expect(tokens).toMatchObject({
      accessToken: first.access_token,
      tokenType: 'Bearer',
      expiresAt: NOW + 86400,
      refreshToken: first.refresh_token,
      refreshExpiresAt: NOW + 604800,
    });
    const second = answer();
    const later = NOW + 86100;
    const merged = mergeRefreshed(tokens, processTokenResponse(p, reply(second), later));
    expect(merged).toMatchObject({ refreshToken: second.refresh_token, refreshExpiresAt: later + 604800 });
    expect(p.template.refresh).toMatchObject({ rotates: true, refreshTokenIdleSeconds: 604800 });
    expect(authorizationFor(p, merged)).toEqual({
      header: 'Authorization',
      value: `Bearer ${second.access_token}`,
    });
    expect(buildRevokeRequest(p, merged, confidentialClient())).toBeUndefined();
  });
});
