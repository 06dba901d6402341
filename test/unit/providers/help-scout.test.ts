import { buildAuthorizationUrl } from '../../../functions/core/oauth/authorize.js';
import { buildRevokeRequest, buildUserinfoRequest } from '../../../functions/core/oauth/engine.js';
import { selectField } from '../../../functions/core/oauth/response-mapping.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { builtin, confidentialClient, formOf, NOW, REDIRECT_URI, reply, tok } from './support.js';

describe('help-scout template', () => {
  it('authorizes at secure.helpscout.net without scope', async () => {
    const p = await builtin('help-scout');
    const client = confidentialClient();
    const url = buildAuthorizationUrl(p, { client, redirectUri: REDIRECT_URI, state: 's' });
    expect(url.origin + url.pathname).toBe(
      'https://secure.helpscout.net/authentication/authorizeClientApplication',
    );
    expect(url.searchParams.get('client_id')).toBe(client.client_id);
    expect(url.searchParams.has('scope')).toBe(false);
  });

  it('posts every grant as a form with client_id and client_secret', async () => {
    const p = await builtin('help-scout');
    const client = confidentialClient();
    const code = tok('code');
    const ac = buildTokenRequest(p, { grant: 'authorization_code', code, redirectUri: REDIRECT_URI }, client);
    expect(ac.url).toBe('https://api.helpscout.net/v2/oauth2/token');
    expect(ac.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(ac.headers.authorization).toBeUndefined();
    expect(formOf(ac)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
    expect(formOf(buildTokenRequest(p, { grant: 'client_credentials' }, client))).toEqual({
      grant_type: 'client_credentials',
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
  });

  it('maps the two-day token; client credentials are not refreshable; /v2/users/me names the user', async () => {
    const p = await builtin('help-scout');
    const rt = tok('rt');
    const tokens = processTokenResponse(
      p,
      reply({ access_token: tok('at'), refresh_token: rt, token_type: 'bearer', expires_in: 172800 }),
      NOW,
    );
    expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresAt: NOW + 172800, refreshToken: rt });
    expect(p.template.grants.client_credentials?.refreshable).toBe(false);
    expect(buildUserinfoRequest(p, tokens).url).toBe('https://api.helpscout.net/v2/users/me');
    expect(selectField({ id: 4, firstName: 'Ada' }, p.template.endpoints.userinfo?.subject ?? '')).toBe(4);
    expect(buildRevokeRequest(p, tokens, confidentialClient())).toBeUndefined();
    expect(p.apiBaseUrl).toBe('https://api.helpscout.net/v2');
  });
});
