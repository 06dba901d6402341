import { buildAuthorizationUrl } from '../../../functions/core/oauth/authorize.js';
import { authorizationFor, staticTokenSet } from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { basicOf, builtin, confidentialClient, formOf, NOW, REDIRECT_URI, reply, tok } from './support.js';

describe('aircall template', () => {
  it('authorizes on the dashboard with the public_api scope and redeems at api.aircall.io', async () => {
    const p = await builtin('aircall');
    const client = confidentialClient();
    const url = buildAuthorizationUrl(p, { client, redirectUri: REDIRECT_URI, state: 's' });
    expect(url.origin + url.pathname).toBe('https://dashboard.aircall.io/oauth/authorize');
    expect(url.searchParams.get('scope')).toBe('public_api');
    const code = tok('code');
    const ac = buildTokenRequest(p, { grant: 'authorization_code', code, redirectUri: REDIRECT_URI }, client);
    expect(ac.url).toBe('https://api.aircall.io/v1/oauth/token');
    expect(ac.headers.authorization).toBeUndefined();
    expect(formOf(ac)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
  });

  it('maps the permanent token (no expiry, no refresh token)', async () => {
    const p = await builtin('aircall');
    const at = tok('at');
    const tokens = processTokenResponse(
      p,
      reply({ access_token: at, token_type: 'Bearer', scope: 'public_api', created_at: 1_700_000_000 }),
      NOW,
    );
    expect(tokens).toMatchObject({
      accessToken: at,
      tokenType: 'Bearer',
      expiresAt: undefined,
      refreshToken: undefined,
    });
    expect(p.template.grants.refresh_token).toBeUndefined();
    expect(authorizationFor(p, tokens)).toEqual({ header: 'Authorization', value: `Bearer ${at}` });
  });

  it('uses Basic api_id:api_token for API-key integrations', async () => {
    const p = await builtin('aircall');
    const secret = { api_id: tok('id'), api_token: tok('token') };
    const tokens = staticTokenSet(p, secret, NOW);
    expect(authorizationFor(p, tokens).value).toBe(basicOf(secret.api_id, secret.api_token));
  });

  it('vends the Public API base https://api.aircall.io/v1', async () => {
    expect((await builtin('aircall')).apiBaseUrl).toBe('https://api.aircall.io/v1');
  });
});
