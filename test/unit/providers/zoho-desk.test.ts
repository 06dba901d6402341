import {
  AuthorizationResponseError,
  MalformedResponseError,
  TemplateError,
} from '../../../functions/core/errors.js';
import { mergeRefreshed } from '../../../functions/core/lifecycle/schedule.js';
import {
  buildAuthorizationUrl,
  usesPkce,
  validateAuthorizationResponse,
} from '../../../functions/core/oauth/authorize.js';
import { authorizationFor, buildRevokeRequest } from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { apiBaseUrlFor, bindToConnection } from '../../../functions/core/provider/resolve.js';
import { builtin, confidentialClient, formOf, NOW, REDIRECT_URI, reply, tok } from './support.js';

/** Zoho's documented redirect back: the code plus the user's data centre (`location`, `accounts-server`). */
function callback(state: string, extra: Record<string, string>): URLSearchParams {
  return new URLSearchParams({ code: tok('code'), state, ...extra });
}

describe('zoho-desk template', () => {
  it('binds accounts and Desk hosts to the data centre and refuses any other domain', async () => {
    const us = await builtin('zoho-desk');
    expect(us.endpoints).toMatchObject({
      authorize: 'https://accounts.zoho.com/oauth/v2/auth',
      token: 'https://accounts.zoho.com/oauth/v2/token',
      revoke: 'https://accounts.zoho.com/oauth/v2/token/revoke',
    });
    expect(us.apiBaseUrl).toBe('https://desk.zoho.com/api/v1');
    const eu = await builtin('zoho-desk', { dc: 'zoho.eu' });
    expect(eu.endpoints.token).toBe('https://accounts.zoho.eu/oauth/v2/token');
    expect(eu.apiBaseUrl).toBe('https://desk.zoho.eu/api/v1');
    expect((await builtin('zoho-desk', { dc: 'zohocloud.ca' })).endpoints.token).toBe(
      'https://accounts.zohocloud.ca/oauth/v2/token',
    );
    await expect(builtin('zoho-desk', { dc: 'zoho.evil.example' })).rejects.toThrow(TemplateError);
  });

  it('asks for offline access with consent and comma-separated Desk scopes, without PKCE', async () => {
    const p = await builtin('zoho-desk', { dc: 'zoho.eu' });
    const client = confidentialClient();
    const url = buildAuthorizationUrl(p, { client, redirectUri: REDIRECT_URI, state: 's' });
    expect(`${url.origin}${url.pathname}`).toBe('https://accounts.zoho.eu/oauth/v2/auth');
    expect(url.searchParams.get('scope')).toBe('Desk.basic.READ,Desk.tickets.READ');
    expect(url.searchParams.get('access_type')).toBe('offline');
    expect(url.searchParams.get('prompt')).toBe('consent');
    expect(usesPkce(p, client)).toBe(false);
    const custom = buildAuthorizationUrl(p, {
      client,
      redirectUri: REDIRECT_URI,
      state: 's',
      scopes: ['Desk.tickets.ALL', 'Desk.contacts.READ', 'Desk.search.READ'],
    });
    expect(custom.searchParams.get('scope')).toBe('Desk.tickets.ALL,Desk.contacts.READ,Desk.search.READ');
  });

  it('keeps accounts-server and location from the redirect back, only when they are Zoho values', async () => {
    const p = await builtin('zoho-desk', { dc: 'zoho.eu' });
    const ok = validateAuthorizationResponse(
      p,
      callback('st', { location: 'eu', 'accounts-server': 'https://accounts.zoho.eu' }),
      'st',
    );
    expect(ok.metadata).toEqual({ accountsServer: 'https://accounts.zoho.eu', location: 'eu' });
    expect(validateAuthorizationResponse(p, callback('st', {}), 'st').metadata).toBeUndefined();
    for (const bad of [
      'https://accounts.zoho.eu.evil.example',
      'https://evil.example',
      'http://accounts.zoho.eu',
      'https://accounts.zoho.eu/path',
      'https://accounts.zoho.eu@evil.example',
    ]) {
      const attempt = () =>
        validateAuthorizationResponse(p, callback('st', { 'accounts-server': bad }), 'st');
      expect(attempt).toThrow(AuthorizationResponseError);
      expect(attempt).toThrow(/accounts-server/);
      expect(attempt).not.toThrow(bad);
    }
    expect(() => validateAuthorizationResponse(p, callback('st', { location: 'eu;evil' }), 'st')).toThrow(
      AuthorizationResponseError,
    );
  });

  it("serves every data centre: the user's accounts-server picks where the code, refreshes, revocation and API go", async () => {
    const p = await builtin('zoho-desk', {});
    expect(p.vars.dc).toBe('zoho.com');
    const { metadata } = validateAuthorizationResponse(
      p,
      callback('st', { location: 'eu', 'accounts-server': 'https://accounts.zoho.eu' }),
      'st',
    );
    const eu = bindToConnection(p, metadata);
    const client = confidentialClient();
    const code = buildTokenRequest(
      eu,
      { grant: 'authorization_code', code: tok('code'), redirectUri: REDIRECT_URI },
      client,
    );
    expect(code.url).toBe('https://accounts.zoho.eu/oauth/v2/token');
    const refresh = buildTokenRequest(
      bindToConnection(p, metadata),
      { grant: 'refresh_token', refreshToken: tok('rt') },
      client,
    );
    expect(refresh.url).toBe('https://accounts.zoho.eu/oauth/v2/token');
    const tokens = {
      accessToken: tok('at'),
      tokenType: 'Bearer',
      refreshToken: tok('rt'),
      issuedAt: NOW,
      metadata,
    };
    expect(buildRevokeRequest(eu, tokens, client)?.url).toBe(
      'https://accounts.zoho.eu/oauth/v2/token/revoke',
    );
    expect(apiBaseUrlFor(p, metadata)).toBe('https://desk.zoho.eu/api/v1');
    // The integration's own data centre stays for everyone else, and a well-formed value the map does not list
    // (accounts.zoho.uk) selects nothing.
    expect(apiBaseUrlFor(p, undefined)).toBe('https://desk.zoho.com/api/v1');
    const uk = validateAuthorizationResponse(
      p,
      callback('st', { 'accounts-server': 'https://accounts.zoho.uk' }),
      'st',
    );
    expect(bindToConnection(p, uk.metadata)).toBe(p);
  });

  it('redeems and refreshes with the client credentials in the form body', async () => {
    const p = await builtin('zoho-desk', { dc: 'zoho.in' });
    const client = confidentialClient();
    const code = tok('code');
    const ac = buildTokenRequest(p, { grant: 'authorization_code', code, redirectUri: REDIRECT_URI }, client);
    expect(ac.url).toBe('https://accounts.zoho.in/oauth/v2/token');
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

  it('maps the one-hour token, keeps api_domain, and keeps the refresh token a refresh answer omits', async () => {
    const p = await builtin('zoho-desk');
    const at = tok('at');
    const rt = tok('rt');
    const first = processTokenResponse(
      p,
      reply({
        access_token: at,
        refresh_token: rt,
        api_domain: 'https://www.zohoapis.com',
        token_type: 'Bearer',
        expires_in: 3600,
      }),
      NOW,
    );
    expect(first).toMatchObject({
      accessToken: at,
      refreshToken: rt,
      expiresAt: NOW + 3600,
      metadata: { apiDomain: 'https://www.zohoapis.com' },
    });
    // Older answers carried expires_in in milliseconds next to expires_in_sec: the seconds field wins.
    const legacy = processTokenResponse(
      p,
      reply({ access_token: tok('at'), token_type: 'Bearer', expires_in: 3600000, expires_in_sec: 3600 }),
      NOW,
    );
    expect(legacy.expiresAt).toBe(NOW + 3600);
    const refreshedAt = tok('at');
    const fresh = processTokenResponse(
      p,
      reply({
        access_token: refreshedAt,
        api_domain: 'https://www.zohoapis.com',
        token_type: 'Bearer',
        expires_in: 3600,
      }),
      NOW + 3300,
    );
    expect(mergeRefreshed(first, fresh)).toMatchObject({
      accessToken: refreshedAt,
      refreshToken: rt,
      expiresAt: NOW + 3300 + 3600,
    });
    expect(() =>
      processTokenResponse(
        p,
        reply({
          access_token: tok('at'),
          token_type: 'Bearer',
          api_domain: 'https://www.zohoapis.com.evil.example',
        }),
        NOW,
      ),
    ).toThrow(MalformedResponseError);
    // The Desk API base depends on the data centre only, not on what the answer says.
    expect(apiBaseUrlFor(p, first.metadata)).toBe('https://desk.zoho.com/api/v1');
  });

  it('sends the token as Zoho-oauthtoken and revokes the refresh token at token/revoke', async () => {
    const p = await builtin('zoho-desk', { dc: 'zoho.com.au' });
    const at = tok('at');
    const rt = tok('rt');
    const tokens = processTokenResponse(
      p,
      reply({ access_token: at, refresh_token: rt, token_type: 'Bearer', expires_in: 3600 }),
      NOW,
    );
    expect(authorizationFor(p, tokens)).toEqual({ header: 'Authorization', value: `Zoho-oauthtoken ${at}` });
    const client = confidentialClient();
    const revoke = buildRevokeRequest(p, tokens, client);
    expect(revoke).toMatchObject({
      method: 'POST',
      url: 'https://accounts.zoho.com.au/oauth/v2/token/revoke',
    });
    expect(revoke?.headers.authorization).toBeUndefined();
    expect(formOf(revoke ?? {})).toEqual({
      token: rt,
      token_type_hint: 'refresh_token',
      client_id: client.client_id,
    });
  });
});
