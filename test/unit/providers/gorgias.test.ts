import { TemplateError } from '../../../functions/core/errors.js';
import { buildAuthorizationUrl } from '../../../functions/core/oauth/authorize.js';
import { authorizationFor, isOidc, staticTokenSet } from '../../../functions/core/oauth/engine.js';
import { buildTokenRequest } from '../../../functions/core/oauth/token-request.js';
import { processTokenResponse } from '../../../functions/core/oauth/token-response.js';
import {
  basicFor,
  basicOf,
  builtin,
  confidentialClient,
  formOf,
  NOW,
  REDIRECT_URI,
  reply,
  tok,
} from './support.js';

describe('gorgias template', () => {
  it('lives on the account subdomain', async () => {
    expect((await builtin('gorgias', { account: 'acme' })).endpoints).toMatchObject({
      authorize: 'https://acme.gorgias.com/oauth/authorize',
      token: 'https://acme.gorgias.com/oauth/token',
    });
    expect((await builtin('gorgias', { account: 'acme' })).apiBaseUrl).toBe('https://acme.gorgias.com/api');
    await expect(builtin('gorgias')).rejects.toThrow(/account: is required/);
    await expect(builtin('gorgias', { account: 'acme.evil.example' })).rejects.toThrow(TemplateError);
  });

  it('asks for offline access and redeems with Basic client authentication', async () => {
    const p = await builtin('gorgias', { account: 'acme' });
    const client = confidentialClient();
    const url = buildAuthorizationUrl(p, { client, redirectUri: REDIRECT_URI, state: 's' });
    expect(url.searchParams.get('scope')).toBe('openid email profile offline');
    // ID tokens are not verified (no JWKS declared), so none is asked to carry a nonce or gets stored.
    expect(isOidc(p)).toBe(false);
    const code = tok('code');
    const ac = buildTokenRequest(p, { grant: 'authorization_code', code, redirectUri: REDIRECT_URI }, client);
    expect(ac.headers.authorization).toBe(basicFor(client));
    expect(formOf(ac)).toEqual({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
    const refreshToken = tok('rt');
    expect(formOf(buildTokenRequest(p, { grant: 'refresh_token', refreshToken }, client))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    });
  });

  it('maps the token answer and drops its unverified ID token', async () => {
    const p = await builtin('gorgias', { account: 'acme' });
    const rt = tok('rt');
    const tokens = processTokenResponse(
      p,
      reply({
        access_token: tok('at'),
        refresh_token: rt,
        id_token: tok('idt'),
        token_type: 'Bearer',
        expires_in: 86400,
        scope: 'openid email profile offline',
      }),
      NOW,
    );
    expect(tokens).toMatchObject({ expiresAt: NOW + 86400, refreshToken: rt });
    expect(tokens.scopes).toEqual(['openid', 'email', 'profile', 'offline']);
  });

  it('private apps: Basic with the user email and API key', async () => {
    const p = await builtin('gorgias', { account: 'acme' });
    const apiKey = tok('api-key');
    const tokens = staticTokenSet(p, { username: 'agent@acme.example', api_key: apiKey }, NOW);
    expect(authorizationFor(p, tokens)).toEqual({
      header: 'Authorization',
      value: basicOf('agent@acme.example', apiKey),
    });
  });
});
