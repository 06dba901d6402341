import { buildAuthorizationUrl, usesPkce } from '../../../functions/core/oauth/authorize.js';
import { buildRevokeRequest, buildUserinfoRequest } from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { basicFor, builtin, confidentialClient, formOf, NOW, REDIRECT_URI, reply, tok } from './support.js';

describe('front template', () => {
  it('authorizes without scope and redeems with Basic client authentication', async () => {
    const p = await builtin('front');
    const client = confidentialClient();
    expect(usesPkce(p, client)).toBe(false);
    const url = buildAuthorizationUrl(p, { client, redirectUri: REDIRECT_URI, state: 's' });
    expect(url.origin + url.pathname).toBe('https://app.frontapp.com/oauth/authorize');
    expect(url.searchParams.has('scope')).toBe(false);
    const code = tok('code');
    const ac = buildTokenRequest(p, { grant: 'authorization_code', code, redirectUri: REDIRECT_URI }, client);
    expect(ac.url).toBe('https://app.frontapp.com/oauth/token');
    expect(ac.headers.authorization).toBe(basicFor(client));
    expect(formOf(ac)).toEqual({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
    const refreshToken = tok('rt');
    const rf = buildTokenRequest(p, { grant: 'refresh_token', refreshToken }, client);
    expect(rf.headers.authorization).toBe(basicFor(client));
    expect(formOf(rf)).toEqual({ grant_type: 'refresh_token', refresh_token: refreshToken });
  });

  it('takes the documented hour instead of expires_at, and the new refresh token Front may hand out', async () => {
    const p = await builtin('front');
    const rt = tok('rt');
    // expires_at's unit is not documented; a value read as seconds or as milliseconds must not change the expiry.
    for (const expiresAt of [NOW + 3600, (NOW + 3600) * 1000]) {
      const tokens = processTokenResponse(
        p,
        reply({ access_token: tok('at'), refresh_token: rt, expires_at: expiresAt, token_type: 'Bearer' }),
        NOW,
      );
      expect(tokens).toMatchObject({ expiresAt: NOW + 3600, refreshToken: rt });
    }
    expect(p.template.refresh.rotates).toBe(true);
  });

  it('asks /me who the token belongs to and has no revocation endpoint', async () => {
    const p = await builtin('front');
    const tokens = { accessToken: tok('at'), tokenType: 'Bearer', issuedAt: NOW };
    expect(buildUserinfoRequest(p, tokens)).toMatchObject({
      url: 'https://api2.frontapp.com/me',
      headers: { authorization: `Bearer ${tokens.accessToken}` },
    });
    expect(buildRevokeRequest(p, tokens, confidentialClient())).toBeUndefined();
    expect(p.apiBaseUrl).toBe('https://api2.frontapp.com');
  });
});
