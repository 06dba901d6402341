import { MalformedResponseError } from '../../../functions/core/errors.js';
import { mergeRefreshed } from '../../../functions/core/lifecycle/schedule.js';
import { buildAuthorizationUrl } from '../../../functions/core/oauth/authorize.js';
import { authorizationFor, buildRevokeRequest } from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { apiBaseUrlFor } from '../../../functions/core/provider/resolve.js';
import { basicFor, builtin, confidentialClient, formOf, NOW, REDIRECT_URI, reply, tok } from './support.js';

/** The per-customer API host Gong's docs show as an example of `api_base_url_for_customer`. */
const CUSTOMER_API = 'https://company-17.api.gong.io';

const answer = (extra: Record<string, unknown> = {}) => ({
  access_token: tok('at'),
  refresh_token: tok('rt'),
  scope: 'api:calls:read:basic api:users:read',
  token_type: 'bearer',
  expires_in: 86400,
  api_base_url_for_customer: CUSTOMER_API,
  ...extra,
});

describe('gong template', () => {
  it('sends a technical administrator to app.gong.io for offline access with space-separated scopes', async () => {
    const p = await builtin('gong');
    const client = confidentialClient();
    const url = buildAuthorizationUrl(p, {
      client,
      redirectUri: REDIRECT_URI,
      state: 's',
      scopes: ['api:calls:read:basic', 'api:users:read'],
    });
    expect(`${url.origin}${url.pathname}`).toBe('https://app.gong.io/oauth2/authorize');
    expect(url.searchParams.get('scope')).toBe('api:calls:read:basic api:users:read');
    expect(url.searchParams.get('access_type')).toBe('offline');
    expect(url.searchParams.get('code_challenge')).toBeNull();
  });

  it('redeems and refreshes at generate-customer-token with Basic client auth', async () => {
    const p = await builtin('gong');
    const client = confidentialClient();
    const code = tok('code');
    const ac = buildTokenRequest(p, { grant: 'authorization_code', code, redirectUri: REDIRECT_URI }, client);
    expect(ac.url).toBe('https://app.gong.io/oauth2/generate-customer-token');
    expect(ac.headers.authorization).toBe(basicFor(client));
    expect(formOf(ac)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: client.client_id,
    });
    const refreshToken = tok('rt');
    const rt = buildTokenRequest(p, { grant: 'refresh_token', refreshToken }, client);
    expect(rt.headers.authorization).toBe(basicFor(client));
    expect(formOf(rt)).toEqual({ grant_type: 'refresh_token', refresh_token: refreshToken });
  });

  it('keeps the customer API base from the token answer and builds the v2 API base from it', async () => {
    const p = await builtin('gong');
    const body = answer();
    const tokens = processTokenResponse(p, reply(body), NOW);
    expect(tokens).toMatchObject({
      accessToken: body.access_token,
      tokenType: 'Bearer',
      expiresAt: NOW + 86400,
      refreshToken: body.refresh_token,
      metadata: { apiBaseUrl: CUSTOMER_API },
    });
    // Nothing to resolve without the connection: the base is per customer.
    expect(p.apiBaseUrl).toBeUndefined();
    expect(apiBaseUrlFor(p, tokens.metadata)).toBe(`${CUSTOMER_API}/v2`);
    expect(apiBaseUrlFor(p, { apiBaseUrl: 'https://api.gong.io' })).toBe('https://api.gong.io/v2');
    expect(apiBaseUrlFor(p, undefined)).toBeUndefined();
    expect(authorizationFor(p, tokens)).toEqual({
      header: 'Authorization',
      value: `Bearer ${body.access_token}`,
    });
    // Gong documents no revocation endpoint.
    expect(buildRevokeRequest(p, tokens, confidentialClient())).toBeUndefined();
  });

  it('refuses an API base that is not an https host under api.gong.io, without echoing it', async () => {
    const p = await builtin('gong');
    for (const bad of [
      'https://evil.example',
      'https://company-17.api.gong.io.evil.example',
      'https://api.gong.io@evil.example',
      'https://company-17.api.gong.io/v2',
      'http://company-17.api.gong.io',
      'https://evil.example/api.gong.io',
    ]) {
      const attempt = () => processTokenResponse(p, reply(answer({ api_base_url_for_customer: bad })), NOW);
      expect(attempt).toThrow(MalformedResponseError);
      expect(attempt).toThrow(/api_base_url_for_customer/);
      expect(attempt).not.toThrow(bad);
    }
  });

  it('rotates the refresh token and keeps the previous API base when a refresh answer leaves it out', async () => {
    const p = await builtin('gong');
    const first = processTokenResponse(p, reply(answer()), NOW);
    const second = answer({ api_base_url_for_customer: undefined });
    const fresh = processTokenResponse(p, reply(second), NOW + 80000);
    expect(fresh.metadata).toBeUndefined();
    const merged = mergeRefreshed(first, fresh);
    expect(merged).toMatchObject({
      accessToken: second.access_token,
      refreshToken: second.refresh_token,
      metadata: { apiBaseUrl: CUSTOMER_API },
    });
    expect(apiBaseUrlFor(p, merged.metadata)).toBe(`${CUSTOMER_API}/v2`);
    const moved = processTokenResponse(
      p,
      reply(answer({ api_base_url_for_customer: 'https://eu-42.api.gong.io' })),
      NOW + 160000,
    );
    expect(apiBaseUrlFor(p, mergeRefreshed(merged, moved).metadata)).toBe('https://eu-42.api.gong.io/v2');
  });
});
