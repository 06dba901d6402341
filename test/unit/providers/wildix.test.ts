import { AuthorizationResponseError, TemplateError } from '../../../functions/core/errors.js';
import {
  buildAuthorizationUrl,
  usesPkce,
  validateAuthorizationResponse,
} from '../../../functions/core/oauth/authorize.js';
import { authorizationFor, buildRevokeRequest } from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { builtin, confidentialClient, formOf, NOW, REDIRECT_URI, reply, tok } from './support.js';

const vars = { pbxHost: 'acme.wildixin.com' };

describe('wildix template', () => {
  it("uses the PBX's own authorization endpoints and API", async () => {
    const p = await builtin('wildix', vars);
    expect(p.endpoints).toMatchObject({
      authorize: 'https://acme.wildixin.com/authorization/oauth2',
      token: 'https://acme.wildixin.com/authorization/oauth2Token',
    });
    expect(p.apiBaseUrl).toBe('https://acme.wildixin.com/api/v1');
    await expect(builtin('wildix')).rejects.toThrow(TemplateError);
    for (const pbxHost of [
      'acme.wildixin.com/x',
      'user@acme.wildixin.com',
      'https://acme.wildixin.com',
      'acme',
    ]) {
      await expect(builtin('wildix', { pbxHost })).rejects.toThrow(TemplateError);
    }
  });

  it('asks for the scopes the integration names, without PKCE, and posts the client credentials in the body', async () => {
    const p = await builtin('wildix', vars);
    const client = confidentialClient();
    const url = buildAuthorizationUrl(p, { client, redirectUri: REDIRECT_URI, state: 's' });
    expect(url.searchParams.has('scope')).toBe(false);
    expect(usesPkce(p, client)).toBe(false);
    const code = tok('code');
    const ac = buildTokenRequest(p, { grant: 'authorization_code', code, redirectUri: REDIRECT_URI }, client);
    expect(ac.url).toBe('https://acme.wildixin.com/authorization/oauth2Token');
    // Wildix answers invalid_client ("Empty client ID") to Basic: the credentials go in the body.
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

  it('keeps the PBX name the redirect back carries, if any, and refuses one that is not a host name', async () => {
    const p = await builtin('wildix', vars);
    const back = (extra: Record<string, string>) =>
      new URLSearchParams({ code: tok('code'), state: 'st', ...extra });
    expect(validateAuthorizationResponse(p, back({ subdomain: 'acme' }), 'st').metadata).toEqual({
      pbx: 'acme',
    });
    expect(validateAuthorizationResponse(p, back({ subdomain: 'acme.wildixin.com' }), 'st').metadata).toEqual(
      {
        pbx: 'acme.wildixin.com',
      },
    );
    expect(validateAuthorizationResponse(p, back({}), 'st').metadata).toBeUndefined();
    for (const bad of ['acme/evil', 'acme.wildixin.com:443@evil', '<script>', 'acme..com']) {
      expect(() => validateAuthorizationResponse(p, back({ subdomain: bad }), 'st')).toThrow(
        AuthorizationResponseError,
      );
    }
  });

  it('maps a standard token answer and has no revoke endpoint', async () => {
    const p = await builtin('wildix', vars);
    const at = tok('at');
    const rt = tok('rt');
    const tokens = processTokenResponse(
      p,
      reply({ access_token: at, token_type: 'Bearer', expires_in: 3600, refresh_token: rt }),
      NOW,
    );
    expect(tokens).toMatchObject({ accessToken: at, expiresAt: NOW + 3600, refreshToken: rt });
    expect(authorizationFor(p, tokens)).toEqual({ header: 'Authorization', value: `Bearer ${at}` });
    expect(buildRevokeRequest(p, tokens, confidentialClient())).toBeUndefined();
  });
});
