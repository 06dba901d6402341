import { TemplateError } from '../../../functions/core/errors.js';
import { buildAuthorizationUrl, usesPkce } from '../../../functions/core/oauth/authorize.js';
import { authorizationFor, buildUserinfoRequest } from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { builtin, confidentialClient, formOf, NOW, REDIRECT_URI, reply, tok } from './support.js';

describe('intercom template', () => {
  it('puts the app and API hosts in the workspace region', async () => {
    expect((await builtin('intercom')).endpoints).toMatchObject({
      authorize: 'https://app.intercom.com/oauth',
      token: 'https://api.intercom.io/auth/eagle/token',
      userinfo: 'https://api.intercom.io/me',
    });
    expect((await builtin('intercom', { region: 'eu.intercom' })).endpoints).toMatchObject({
      authorize: 'https://app.eu.intercom.com/oauth',
      token: 'https://api.eu.intercom.io/auth/eagle/token',
    });
    expect((await builtin('intercom', { region: 'au.intercom' })).endpoints.userinfo).toBe(
      'https://api.au.intercom.io/me',
    );
    expect((await builtin('intercom', { region: 'au.intercom' })).apiBaseUrl).toBe(
      'https://api.au.intercom.io',
    );
    await expect(builtin('intercom', { region: 'evil' })).rejects.toThrow(TemplateError);
  });

  it('sends no scope and no PKCE, and posts code, client_id and client_secret', async () => {
    const p = await builtin('intercom', { region: 'eu.intercom' });
    const client = confidentialClient();
    expect(usesPkce(p, client)).toBe(false);
    const url = buildAuthorizationUrl(p, { client, redirectUri: REDIRECT_URI, state: 's' });
    expect(url.searchParams.has('scope')).toBe(false);
    expect(url.searchParams.get('client_id')).toBe(client.client_id);
    const code = tok('code');
    const ac = buildTokenRequest(p, { grant: 'authorization_code', code, redirectUri: REDIRECT_URI }, client);
    expect(ac.url).toBe('https://api.eu.intercom.io/auth/eagle/token');
    expect(formOf(ac)).toMatchObject({
      code,
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
  });

  it('keeps a token that never expires and has no refresh token', async () => {
    const p = await builtin('intercom');
    const token = tok('at');
    const tokens = processTokenResponse(p, reply({ token_type: 'Bearer', token, access_token: token }), NOW);
    expect(tokens.accessToken).toBe(token);
    expect(tokens.expiresAt).toBeUndefined();
    expect(tokens.refreshToken).toBeUndefined();
    expect(p.template.grants.authorization_code?.refreshable).toBe(false);
    expect(authorizationFor(p, tokens)).toEqual({ header: 'Authorization', value: `Bearer ${token}` });
    expect(buildUserinfoRequest(p, tokens).url).toBe('https://api.intercom.io/me');
  });
});
