import { TemplateError } from '../../../functions/core/errors.js';
import { buildAuthorizationUrl, createPkce } from '../../../functions/core/oauth/authorize.js';
import {
  authorizationFor,
  buildRevokeRequest,
  buildUserinfoRequest,
} from '../../../functions/core/oauth/engine.js';
import { selectField } from '../../../functions/core/oauth/response-mapping.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import { builtin, confidentialClient, jsonOf, NOW, REDIRECT_URI, reply, tok } from './support.js';

describe('zendesk template', () => {
  it('resolves the subdomain and rejects anything that is not one label', async () => {
    expect((await builtin('zendesk', { subdomain: 'acme' })).endpoints).toMatchObject({
      authorize: 'https://acme.zendesk.com/oauth/authorizations/new',
      token: 'https://acme.zendesk.com/oauth/tokens',
    });
    await expect(builtin('zendesk', { subdomain: 'acme.evil.example' })).rejects.toThrow(TemplateError);
  });

  it('asks for the read scope with PKCE and posts JSON with the client credentials', async () => {
    const p = await builtin('zendesk', { subdomain: 'acme' });
    const client = confidentialClient();
    const pkce = await createPkce();
    const url = buildAuthorizationUrl(p, { client, redirectUri: REDIRECT_URI, state: 's', pkce });
    expect(url.searchParams.get('scope')).toBe('read');
    expect(url.searchParams.get('code_challenge')).toBe(pkce.challenge);
    const code = tok('code');
    const ac = buildTokenRequest(
      p,
      { grant: 'authorization_code', code, redirectUri: REDIRECT_URI, codeVerifier: pkce.verifier },
      client,
    );
    expect(ac.headers['content-type']).toBe('application/json');
    expect(ac.headers.authorization).toBeUndefined();
    expect(jsonOf(ac)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: pkce.verifier,
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
    const refreshToken = tok('rt');
    expect(jsonOf(buildTokenRequest(p, { grant: 'refresh_token', refreshToken }, client))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
  });

  it('maps expiring tokens, revokes the current token with DELETE and reads user.id', async () => {
    const p = await builtin('zendesk', { subdomain: 'acme' });
    const at = tok('at');
    const rt = tok('rt');
    const tokens = processTokenResponse(
      p,
      reply({
        access_token: at,
        token_type: 'bearer',
        scope: 'read',
        refresh_token: rt,
        expires_in: 172800,
        refresh_token_expires_in: 7776000,
      }),
      NOW,
    );
    expect(tokens).toMatchObject({
      tokenType: 'Bearer',
      expiresAt: NOW + 172800,
      refreshToken: rt,
      refreshExpiresAt: NOW + 7776000,
    });
    expect(authorizationFor(p, tokens)).toEqual({ header: 'Authorization', value: `Bearer ${at}` });
    expect(buildRevokeRequest(p, tokens, confidentialClient())).toMatchObject({
      method: 'DELETE',
      url: 'https://acme.zendesk.com/api/v2/oauth/tokens/current.json',
      headers: { authorization: `Bearer ${at}` },
    });
    expect(buildUserinfoRequest(p, tokens).url).toBe('https://acme.zendesk.com/api/v2/users/me.json');
    const subject = p.template.endpoints.userinfo?.subject ?? '';
    expect(selectField({ user: { id: 35436, name: 'Agent' } }, subject)).toBe(35436);
  });
});
