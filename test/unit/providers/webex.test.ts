import { buildAuthorizationUrl } from '../../../functions/core/oauth/authorize.js';
import {
  authorizationFor,
  buildRevokeRequest,
  buildUserinfoRequest,
} from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { refreshDueAt } from '../../../functions/core/refresh-policy.js';
import { builtin, confidentialClient, formOf, NOW, REDIRECT_URI, reply, tok } from './support.js';

describe('webex template', () => {
  it('authorizes at webexapis.com/v1/authorize and sends credentials in the form body', async () => {
    const p = await builtin('webex');
    const client = confidentialClient();
    const url = buildAuthorizationUrl(p, {
      client,
      redirectUri: REDIRECT_URI,
      state: 's',
      scopes: ['spark:people_read', 'spark:calls_write'],
    });
    expect(url.origin + url.pathname).toBe('https://webexapis.com/v1/authorize');
    expect(url.searchParams.get('scope')).toBe('spark:people_read spark:calls_write');
    const code = tok('code');
    const ac = buildTokenRequest(p, { grant: 'authorization_code', code, redirectUri: REDIRECT_URI }, client);
    expect(ac.url).toBe('https://webexapis.com/v1/access_token');
    expect(ac.headers.authorization).toBeUndefined();
    expect(formOf(ac)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
    const refreshToken = tok('rt');
    expect(formOf(buildTokenRequest(p, { grant: 'refresh_token', refreshToken }, client))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
  });

  it('maps a ~12 h access token and refreshes it an hour before expiry, never later than it lives', async () => {
    const p = await builtin('webex');
    const rt = tok('rt');
    // The shape of WebexSamples' token-app-sample log: expires_in 43199, a refresh token of ~90 days.
    const tokens = processTokenResponse(
      p,
      reply({
        access_token: tok('at'),
        expires_in: 43199,
        refresh_token: rt,
        refresh_token_expires_in: 7775999,
        token_type: 'Bearer',
      }),
      NOW,
    );
    expect(tokens).toMatchObject({
      tokenType: 'Bearer',
      expiresAt: NOW + 43199,
      refreshToken: rt,
      refreshExpiresAt: NOW + 7775999,
    });
    expect(refreshDueAt(p.template.refresh, tokens)).toBe(NOW + 43199 - 3600);
    // A minimum interval longer than the token lives would push every refresh to the moment of expiry.
    expect(p.template.refresh.minIntervalSeconds).toBeLessThan(43199 - 3600);
    // The refresh token does not rotate: an answer without one keeps it, and its own expiry comes from the answer.
    expect(p.template.refresh.rotates).toBe(false);
  });

  it('uses Bearer, reads the person id from /v1/people/me and has no revocation endpoint', async () => {
    const p = await builtin('webex');
    const tokens = { accessToken: tok('at'), tokenType: 'Bearer', issuedAt: NOW };
    expect(authorizationFor(p, tokens)).toEqual({
      header: 'Authorization',
      value: `Bearer ${tokens.accessToken}`,
    });
    expect(buildUserinfoRequest(p, tokens).url).toBe('https://webexapis.com/v1/people/me');
    expect(buildRevokeRequest(p, tokens, confidentialClient())).toBeUndefined();
  });

  it('vends the API base https://webexapis.com/v1', async () => {
    expect((await builtin('webex')).apiBaseUrl).toBe('https://webexapis.com/v1');
  });
});
