import { mergeRefreshed } from '../../../functions/core/lifecycle/schedule.js';
import { buildAuthorizationUrl, usesPkce } from '../../../functions/core/oauth/authorize.js';
import { authorizationFor, buildRevokeRequest } from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { basicFor, builtin, confidentialClient, formOf, NOW, REDIRECT_URI, reply, tok } from './support.js';

const HOST = 'https://authentication.logmeininc.com';

describe('goto-connect template', () => {
  it('uses the authentication.logmeininc.com endpoints, not the retired api.getgo.com host', async () => {
    const p = await builtin('goto-connect');
    expect(p.endpoints).toMatchObject({ authorize: `${HOST}/oauth/authorize`, token: `${HOST}/oauth/token` });
    expect(JSON.stringify(p.template)).not.toContain('getgo.com');
    expect(p.apiBaseUrl).toBe('https://api.goto.com');
  });

  it('leaves the scopes to the OAuth client unless the integration names some, and sends no PKCE', async () => {
    const p = await builtin('goto-connect');
    const client = confidentialClient();
    const url = buildAuthorizationUrl(p, { client, redirectUri: REDIRECT_URI, state: 's' });
    expect(`${url.origin}${url.pathname}`).toBe(`${HOST}/oauth/authorize`);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.has('scope')).toBe(false);
    expect(usesPkce(p, client)).toBe(false);
    const scoped = buildAuthorizationUrl(p, {
      client,
      redirectUri: REDIRECT_URI,
      state: 's',
      scopes: ['users.v1.lines.read', 'calls.v2.initiate'],
    });
    expect(scoped.searchParams.get('scope')).toBe('users.v1.lines.read calls.v2.initiate');
  });

  it('redeems and refreshes with Basic client auth and nothing secret in the form', async () => {
    const p = await builtin('goto-connect');
    const client = confidentialClient();
    const code = tok('code');
    const ac = buildTokenRequest(p, { grant: 'authorization_code', code, redirectUri: REDIRECT_URI }, client);
    expect(ac.url).toBe(`${HOST}/oauth/token`);
    expect(ac.headers.authorization).toBe(basicFor(client));
    expect(ac.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(formOf(ac)).toEqual({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
    const refreshToken = tok('rt');
    const rt = buildTokenRequest(p, { grant: 'refresh_token', refreshToken }, client);
    expect(rt.headers.authorization).toBe(basicFor(client));
    expect(formOf(rt)).toEqual({ grant_type: 'refresh_token', refresh_token: refreshToken });
  });

  it('maps the hour-long token and the principal, and keeps the refresh token until GoTo sends a new one', async () => {
    const p = await builtin('goto-connect');
    const rt = tok('rt');
    const first = processTokenResponse(
      p,
      reply({
        access_token: tok('at'),
        token_type: 'Bearer',
        refresh_token: rt,
        expires_in: 3600,
        scope: 'users.v1.lines.read calls.v2.initiate',
        principal: 'mahar.singh@company.com',
      }),
      NOW,
    );
    expect(first).toMatchObject({
      tokenType: 'Bearer',
      expiresAt: NOW + 3600,
      refreshToken: rt,
      subject: 'mahar.singh@company.com',
      scopes: ['users.v1.lines.read', 'calls.v2.initiate'],
    });
    // GoTo's refresh answer usually has no refresh_token (and may have no token_type).
    const at2 = tok('at');
    const plain = processTokenResponse(
      p,
      reply({
        access_token: at2,
        expires_in: 3600,
        scope: 'users.v1.lines.read',
        principal: 'mahar.singh@company.com',
      }),
      NOW + 3300,
    );
    const kept = mergeRefreshed(first, plain);
    expect(kept).toMatchObject({
      accessToken: at2,
      tokenType: 'Bearer',
      refreshToken: rt,
      expiresAt: NOW + 6900,
    });
    // Once the old refresh token has expired, the answer carries a new one, which replaces it.
    const rt2 = tok('rt');
    const renewed = processTokenResponse(
      p,
      reply({ access_token: tok('at'), token_type: 'Bearer', refresh_token: rt2, expires_in: 3600 }),
      NOW + 6600,
    );
    expect(mergeRefreshed(kept, renewed).refreshToken).toBe(rt2);
    expect(authorizationFor(p, kept)).toEqual({ header: 'Authorization', value: `Bearer ${at2}` });
    // GoTo documents no revocation endpoint.
    expect(buildRevokeRequest(p, kept, confidentialClient())).toBeUndefined();
  });
});
