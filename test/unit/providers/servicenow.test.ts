import { TemplateError } from '../../../functions/core/errors.js';
import { buildAuthorizationUrl, createPkce } from '../../../functions/core/oauth/authorize.js';
import { buildRevokeRequest } from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import {
  builtin,
  confidentialClient,
  formOf,
  NOW,
  publicClient,
  REDIRECT_URI,
  reply,
  tok,
} from './support.js';

describe('servicenow template', () => {
  it('needs the instance name and accepts only one DNS label', async () => {
    expect((await builtin('servicenow', { instance: 'acme' })).endpoints).toMatchObject({
      authorize: 'https://acme.service-now.com/oauth_auth.do',
      token: 'https://acme.service-now.com/oauth_token.do',
      revoke: 'https://acme.service-now.com/oauth_revoke_token.do',
    });
    expect((await builtin('servicenow', { instance: 'acme' })).apiBaseUrl).toBe(
      'https://acme.service-now.com/api/now',
    );
    await expect(builtin('servicenow')).rejects.toThrow(/instance: is required/);
    await expect(builtin('servicenow', { instance: 'acme.evil.example' })).rejects.toThrow(TemplateError);
  });

  it('sends no scope, PKCE, and the client id and secret in the form body', async () => {
    const p = await builtin('servicenow', { instance: 'acme' });
    const client = confidentialClient();
    const pkce = await createPkce();
    const url = buildAuthorizationUrl(p, { client, redirectUri: REDIRECT_URI, state: 's', pkce });
    expect(url.searchParams.has('scope')).toBe(false);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('code_challenge')).toBe(pkce.challenge);
    const code = tok('code');
    const ac = buildTokenRequest(
      p,
      { grant: 'authorization_code', code, redirectUri: REDIRECT_URI, codeVerifier: pkce.verifier },
      client,
    );
    expect(ac.headers.authorization).toBeUndefined();
    expect(formOf(ac)).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: pkce.verifier,
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
    // A public client (PKCE without a secret, as ServiceNow's public clients work) sends only its id.
    const pub = publicClient();
    expect(
      formOf(
        buildTokenRequest(
          p,
          { grant: 'authorization_code', code, redirectUri: REDIRECT_URI, codeVerifier: pkce.verifier },
          pub,
        ),
      ),
    ).toEqual({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: pkce.verifier,
      client_id: pub.client_id,
    });
  });

  it('maps the 30-minute token and revokes the refresh token at oauth_revoke_token.do', async () => {
    const p = await builtin('servicenow', { instance: 'acme' });
    const rt = tok('rt');
    const tokens = processTokenResponse(
      p,
      reply({
        access_token: tok('at'),
        refresh_token: rt,
        scope: 'useraccount',
        token_type: 'Bearer',
        expires_in: 1799,
      }),
      NOW,
    );
    expect(tokens).toMatchObject({ expiresAt: NOW + 1799, refreshToken: rt, scopes: ['useraccount'] });
    expect(tokens.refreshExpiresAt).toBeUndefined();
    const client = confidentialClient();
    const revoke = buildRevokeRequest(p, tokens, client);
    expect(revoke).toMatchObject({
      method: 'POST',
      url: 'https://acme.service-now.com/oauth_revoke_token.do',
    });
    expect(formOf(revoke ?? {})).toMatchObject({ token: rt, client_id: client.client_id });
  });
});
